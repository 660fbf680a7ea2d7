"""The expected wait, published (KLM's profile line): no login, opt-in per account.

    GET /public/wait/{account}.json   the figure for a site or an app (CORS open)
    GET /public/wait/{account}.svg    an embeddable badge
    GET /public/wait/{account}        a small page

`{account}` is the account's id or handle. An account that has not set `publish_wait`, an
unknown one and a malformed name all get the same 404. Each request reads the stored estimate
(carebird.insights.wait_store: one primary-key lookup), never computes one, and is cacheable
for a minute: nothing an anonymous caller does can stall the desk. The wait is rounded to
5 minutes; outside opening hours it says when the desk answers again ("Closed — we answer from
8:00", in the account's time zone). French or English: `?lang=`, else Accept-Language.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import func, select

from carebird.cases.calendars import Calendar, account_calendar
from carebird.config import Settings
from carebird.db.base import utcnow
from carebird.errors import InvalidInput, NotFound
from carebird.ingest.models import NetworkAccount
from carebird.insights.wait import rounded_minutes
from carebird.insights.wait_store import StoredWait, stored_wait
from carebird.web.deps import AppSettings, DbSession
from carebird.web.ui.i18n import gettext, pick_locale
from carebird.web.ui.render import environment
from carebird.web.ui.words import N_

router = APIRouter(include_in_schema=False)
MAX_AGE = 60  # seconds a cache may keep an answer (the estimate is refreshed every 2 min)
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,200}$")
WORDS = {
    "title": N_("Expected reply time"),
    "badge": N_("reply time"),
    "open": N_("~%(wait)s"),
    "open_long": N_("We answer within about %(wait)s."),
    "closed": N_("Closed — we answer from %(time)s"),
    "unknown": N_("Not available right now"),
}


def pick_lang(request: Request, lang: str | None) -> str:
    """`?lang=` when it is fr or en, else the browser's first of them, else French."""
    return pick_locale(lang, request.headers.get("accept-language", "")[:200])


def minutes_text(minutes: int) -> str:
    """25 → "25 min", 90 → "1 h 30", 120 → "2 h"."""
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" if rest == 0 else f"{hours} h {rest:02d}"


def opening_text(opens_at: datetime, tz: ZoneInfo, lang: str, now: datetime) -> str:
    """ "8:00" today, else "lundi 8:00" / "Monday 8:00" (within a week) or with the date."""
    local = opens_at.astimezone(tz)
    clock = f"{local.hour}:{local.minute:02d}"
    days = (local.date() - now.astimezone(tz).date()).days
    if days == 0:
        return clock
    pattern = "EEEE" if days < 7 else "EEEE d MMMM"
    return f"{format_date(local.date(), pattern, locale=lang)} {clock}"


def describe(
    stored: StoredWait | None, *, lang: str, tz: ZoneInfo, now: datetime
) -> dict[str, Any]:
    """The published figure: status (open, closed, unknown), minutes, opening and words."""
    if stored is None or (stored.is_open and stored.seconds is None):
        return {"status": "unknown", "wait_minutes": None, "opens_at": None,
                "text": gettext(lang, WORDS["unknown"])}  # fmt: skip
    minutes = rounded_minutes(stored.open_seconds if not stored.is_open else stored.seconds or 0)
    out: dict[str, Any] = {"status": "open", "wait_minutes": minutes, "opens_at": None}
    if stored.opens_at is not None:
        at = opening_text(stored.opens_at, tz, lang, now)
        out |= {"status": "closed", "opens_at": stored.opens_at.isoformat(), "opens_at_local": at}
        out["text"] = gettext(lang, WORDS["closed"]) % {"time": at}
    else:
        out["text"] = gettext(lang, WORDS["open"]) % {"wait": minutes_text(minutes)}
    return out


def _account(session: DbSession, name: str) -> NetworkAccount:
    """The published account `name` names (its id or handle), else NotFound."""
    if not _NAME.match(name):
        raise NotFound("no published wait here")
    found: NetworkAccount | None = None
    if name.isdecimal() and len(name) < 19:
        found = session.get(NetworkAccount, int(name))
    else:
        handle = name.lstrip("@").lower()
        for account in session.scalars(
            select(NetworkAccount)
            .where(func.lower(NetworkAccount.handle) == handle)
            .order_by(NetworkAccount.id)
        ):
            if (account.options or {}).get("publish_wait") is True:
                found = account
                break
    if found is None or (found.options or {}).get("publish_wait") is not True:
        raise NotFound("no published wait here")
    return found


def _calendar(settings: Settings, account: NetworkAccount) -> Calendar:
    desk = Calendar.parse(settings.opening_hours, settings.timezone, settings.holidays)
    try:
        return account_calendar(desk, account.options)
    except InvalidInput:
        return desk


def _badge(label: str, value: str, status: str) -> str:
    """A flat two-part badge; every text escaped."""
    left, right = 7 * len(label) + 12, 7 * len(value) + 12
    colour = {"open": "#2e7d32", "closed": "#6d4c41"}.get(status, "#757575")
    lab, val = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + right}" height="20" '
        f'role="img" aria-label="{lab}: {val}"><title>{lab}: {val}</title>'
        f'<rect width="{left}" height="20" fill="#455a64"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="6" y="14">{lab}</text><text x="{left + 6}" y="14">{val}</text></g></svg>'
    )


@router.get("/public/wait/{name}")
def public_wait(
    request: Request,
    name: str,
    session: DbSession,
    settings: AppSettings,
    lang: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    base, _, suffix = name.rpartition(".") if name.endswith((".json", ".svg")) else (name, "", "")
    account = _account(session, base)
    language = pick_lang(request, lang)
    now = utcnow()
    calendar = _calendar(settings, account)
    figure = describe(stored_wait(session, account.id, now=now), lang=language,
                      tz=calendar.tz, now=now)  # fmt: skip
    headers = {"cache-control": f"public, max-age={MAX_AGE}", "vary": "accept-language"}
    if suffix == "json":
        body = {"account": account.handle, "network": account.network, "lang": language,
                "timezone": calendar.tz.key, **figure}  # fmt: skip
        headers["access-control-allow-origin"] = "*"
        return JSONResponse(body, headers=headers)
    if suffix == "svg":
        svg = _badge(gettext(language, WORDS["badge"]), figure["text"], figure["status"])
        headers["access-control-allow-origin"] = "*"
        return Response(svg, media_type="image/svg+xml; charset=utf-8", headers=headers)
    words = {key: gettext(language, msgid) for key, msgid in WORDS.items()}
    long = figure["text"]
    if figure["status"] == "open":
        long = words["open_long"] % {"wait": minutes_text(figure["wait_minutes"])}
    html = (
        environment(language)
        .get_template("public_wait.html")
        .render(locale=language, w=words, account=account, figure=figure, long=long)
    )
    return HTMLResponse(html, headers=headers)


def desk_waits(session: DbSession, settings: Settings, lang: str) -> list[dict[str, Any]]:
    """Each active account's stored wait in words, for the agents (the inbox header)."""
    now = utcnow()
    out = []
    for account in session.scalars(
        select(NetworkAccount).where(NetworkAccount.active.is_(True)).order_by(NetworkAccount.id)
    ):
        stored = stored_wait(session, account.id, now=now)
        if stored is None:
            continue
        figure = describe(stored, lang=lang, tz=_calendar(settings, account).tz, now=now)
        out.append({"handle": account.handle, "backlog": stored.backlog, **figure})
    return out
