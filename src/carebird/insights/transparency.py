"""An account's public response-time record (the "trust barometer"): over the last 30 days,
the share of its support cases answered within 1 h and within 24 h and the median first
answer, in all and per week (Monday to Sunday, the desk's time zone), by the same
definitions as the dashboard (carebird.insights.figures). Published only for an account whose
`publish_transparency` option is true; otherwise, as for an unknown account, NotFound."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebird.cases.calendars import Calendars
from carebird.errors import NotFound
from carebird.ingest.models import NetworkAccount
from carebird.insights.casefacts import CaseFacts
from carebird.insights.figures import load_facts, summary
from carebird.insights.query import MetricsQuery

DAYS = 30
OPTION = "publish_transparency"
FIGURES = (
    "support_cases",
    "answered_within_1h",
    "answered_within_24h",
    "median_first_response_seconds",
    "silence_rate",
)


def published_account(session: Session, ref: str) -> NetworkAccount:
    """The opted-in account named by `ref`: its id, its handle (with or without @, any case)
    or network:handle."""
    ref = ref.strip()
    account = None
    if ref.isascii() and ref.isdigit() and len(ref) < 19:  # "²" is a digit, not an id
        account = session.get(NetworkAccount, int(ref))
    if account is None and 0 < len(ref) <= 220:
        network, _, handle = ref.rpartition(":")
        stmt = select(NetworkAccount).where(
            func.lower(NetworkAccount.handle) == handle.lstrip("@").lower()
        )
        if network:
            stmt = stmt.where(NetworkAccount.network == network)
        found = [a for a in session.scalars(stmt) if (a.options or {}).get(OPTION) is True]
        account = found[0] if len(found) == 1 else None
    if account is None or (account.options or {}).get(OPTION) is not True:
        raise NotFound("no published response-time record here")
    return account


def _figures(facts: list[CaseFacts]) -> dict[str, Any]:
    s = summary(facts)
    return {k: s[k] for k in FIGURES}


def record(
    session: Session, account: NetworkAccount, calendars: Calendars, *, now: datetime, tz: str
) -> dict[str, Any]:
    """The account's record over the DAYS days before `now`."""
    query = MetricsQuery(start=now - timedelta(days=DAYS), end=now, account_id=account.id,
                         timezone=tz)  # fmt: skip
    facts = load_facts(session, query, calendars)
    weeks: dict[str, list[CaseFacts]] = {}
    for f in facts:
        local = f.times.created_at.astimezone(query.tz).date()
        monday = local - timedelta(days=local.weekday())
        weeks.setdefault(monday.isoformat(), []).append(f)
    return {
        "account": {
            "network": account.network,
            "handle": account.handle,
            "display_name": account.display_name,
        },
        "from": query.start.isoformat() if query.start else None,
        "to": now.isoformat(),
        "days": DAYS,
        **_figures(facts),
        "weeks": [{"week_of": w, **_figures(weeks[w])} for w in sorted(weeks)],
    }
