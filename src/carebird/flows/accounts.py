"""An account's settings, changed in one place for the Accounts page, the API and the CLI:
listening queries, monthly cap, role, signature policy, opening hours, time zone, holidays,
paused or active. Every value is checked before anything is stored (bad input: `InvalidInput`).

Option keys other parts read (the account's `options`):
    listening       list of search queries (connectors' search streams)
    signature       "initials" | "none" (carebird.reply.signature)
    opening_hours   "Mon-Sat 08:00-22:00" (carebird.cases.hours.BusinessHours); absent:
                    the desk's CAREBIRD_OPENING_HOURS
    timezone        an IANA zone, e.g. "Europe/Paris"; absent: the desk's CAREBIRD_TIMEZONE
    holidays        list of "YYYY-MM-DD" (one day), "MM-DD" (every year) or a range of either
                    ("12-24..12-26"), sorted, unique (carebird.cases.calendars)
    survey          {"enabled": bool, "public_allowed": bool}: the satisfaction survey after a
                    resolution (carebird.reply.survey); absent: off
    publish_transparency  true: the account's response-time record over the last 30 days
                    is public at /public/transparency/{handle or id} (absent/false: 404)
    publish_wait    true: the expected wait is public at /public/wait/{account}(.json|.svg)
                    (carebird.insights.wait_store); absent or false: 404 there
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from carebird.cases.calendars import check_calendar_options
from carebird.cases.calendars import check_holidays as check_holidays_list
from carebird.errors import InvalidInput
from carebird.ingest.accounts import get_account
from carebird.ingest.models import NetworkAccount
from carebird.reply.signature import POLICIES
from carebird.reply.survey import OPTION as SURVEY
from carebird.reply.survey import check_survey

ROLES = ("support", "brand")
MAX_QUERIES = 20
MAX_QUERY = 512
# Keys a change may carry, besides raw `options` (the API's whole mapping, checked the same way).
FIELDS = frozenset(
    {
        "active",
        "monthly_cap",
        "role",
        "listening",
        "signature",
        "opening_hours",
        "timezone",
        "holidays",
        "survey",
        "publish_transparency",
        "publish_wait",
    }
)
_COLUMNS = frozenset({"active", "monthly_cap", "role"})  # the rest live in `options`


def check_listening(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(q, str) for q in value):
        raise InvalidInput("listening queries: a list of texts")
    queries = [q.strip() for q in value if q.strip()]
    if len(queries) > MAX_QUERIES:
        raise InvalidInput(f"at most {MAX_QUERIES} listening queries")
    if any(len(q) > MAX_QUERY for q in queries):
        raise InvalidInput(f"a listening query holds at most {MAX_QUERY} characters")
    return queries


def check_holidays(value: Any) -> list[str]:
    """Holidays as typed (a list, or one text separated by commas or spaces) made a sorted
    list, each read by the business calendar: "YYYY-MM-DD", yearly "MM-DD", or a range
    "12-24..12-26"."""
    if isinstance(value, str):
        value = re.split(r"[\s,;]+", value)
    if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
        raise InvalidInput("holidays: a list of days")
    days = sorted({d.strip() for d in value if d.strip()})
    return check_holidays_list(days)


def check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """`options` with the keys this module knows checked and normalised (others kept)."""
    out = dict(options)
    if "listening" in out:
        out["listening"] = check_listening(out["listening"])
    if "signature" in out and out["signature"] not in POLICIES:
        raise InvalidInput(f"signature: one of {', '.join(POLICIES)}")
    for key in ("opening_hours", "timezone"):
        if key in out and (out[key] is None or str(out[key]).strip() == ""):
            del out[key]  # empty: the desk's own
        elif key in out and not isinstance(out[key], str):
            raise InvalidInput(f"{key}: a text")
    zone = str(out.get("timezone") or "UTC").strip()
    if "timezone" in out:
        out["timezone"] = zone
    check_calendar_options({k: out[k] for k in ("opening_hours", "timezone") if k in out})
    if "opening_hours" in out:
        out["opening_hours"] = str(out["opening_hours"]).strip()
    if "holidays" in out:
        out["holidays"] = check_holidays(out["holidays"])
    if SURVEY in out:
        out[SURVEY] = check_survey(out[SURVEY])
    return _check_publishing(out)


PUBLISHING = ("publish_wait", "publish_transparency")  # public pages an account opts into


def _check_publishing(out: dict[str, Any]) -> dict[str, Any]:
    """Each publishing switch: true publishes; false (the default) drops the key, as if unset."""
    for key in PUBLISHING:
        if key in out and not isinstance(out[key], bool):
            raise InvalidInput(f"{key}: true or false")
        if out.get(key) is False:
            del out[key]
    return out


def change_account(session: Session, account_id: int, changes: Mapping[str, Any]) -> NetworkAccount:
    """Apply `changes` (keys of FIELDS, or `options` for the whole mapping) to an account;
    nothing is stored unless every value is valid. A `monthly_cap` of None removes the cap."""
    account = get_account(session, account_id)
    unknown = set(changes) - FIELDS - {"options"}
    if unknown:
        raise InvalidInput(f"unknown setting(s): {', '.join(sorted(unknown))}")
    options = dict(changes["options"]) if "options" in changes else dict(account.options or {})
    options.update({k: v for k, v in changes.items() if k in FIELDS and k not in _COLUMNS})
    options = check_options(options)
    role = changes.get("role", account.role)
    if role not in ROLES:
        raise InvalidInput("role: support or brand")
    cap = changes.get("monthly_cap", account.monthly_cap)
    if cap is not None:
        if isinstance(cap, bool) or not isinstance(cap, int | float) or not cap >= 0:
            raise InvalidInput("monthly cap: a positive number of dollars, or none")
        cap = float(cap)
    active = changes.get("active", account.active)
    if not isinstance(active, bool):
        raise InvalidInput("active: true or false")
    if active and not account.credentials:
        raise InvalidInput("this account is disconnected: connect it again to resume it")
    account.options, account.role, account.monthly_cap, account.active = (
        options,
        role,
        cap,
        active,
    )
    session.flush()
    return account
