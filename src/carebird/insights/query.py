"""What a metrics request asks for: a period and filters, read from text (the command line,
the URL) and checked, each bad value an InvalidInput naming it.

The period holds the cases *opened* in [start, end): dates are whole local days of the desk's
time zone (`--to 2026-12-06` includes that day), ISO times with an offset are taken as given;
an ISO week ("2026-W49") is Monday to Sunday. Filters: account (id or handle), team (id or
name), agent (id or e-mail: the cases assigned to them or where they sent a reply), network,
category, language (of the message that opened the case).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from carebird.auth.models import Agent, Team
from carebird.cases.models import Case, CaseEvent
from carebird.errors import InvalidInput
from carebird.ingest.models import NetworkAccount
from carebird.insights.metrics import OPENING
from carebird.understand.labels import CATEGORIES

FILTERS = ("account", "team", "agent", "network", "category", "language")
_NETWORK = re.compile(r"^[a-z][a-z0-9_-]{0,15}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")
MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class MetricsQuery:
    start: datetime | None = None  # UTC, included
    end: datetime | None = None  # UTC, excluded
    account_id: int | None = None
    team_id: int | None = None
    agent_id: int | None = None
    network: str | None = None
    category: str | None = None
    language: str | None = None
    timezone: str = "UTC"  # the desk's: days, weeks and hours of the week are local

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def conditions(self, *, period: bool = True) -> list[Any]:
        """SQL conditions on Case and its opening message (`metrics.OPENING`)."""
        conds: list[Any] = []
        if period and self.start is not None:
            conds.append(Case.created_at >= self.start)
        if period and self.end is not None:
            conds.append(Case.created_at < self.end)
        if self.account_id is not None:
            conds.append(Case.account_id == self.account_id)
        if self.team_id is not None:
            conds.append(Case.team_id == self.team_id)
        if self.network is not None:
            conds.append(Case.network == self.network)
        if self.category is not None:
            conds.append(Case.category == self.category)
        if self.language is not None:
            conds.append(OPENING.language == self.language)
        if self.agent_id is not None:
            replied = select(CaseEvent.case_id).where(
                CaseEvent.kind == "reply_sent", CaseEvent.actor_id == self.agent_id
            )
            conds.append(or_(Case.assignee_id == self.agent_id, Case.id.in_(replied)))
        return conds

    def narrowed(self, **changes: Any) -> MetricsQuery:
        return replace(self, **changes)


FIRST_YEAR, LAST_YEAR = 1970, 9000  # a period's bounds; beyond, time zone arithmetic overflows


def check_year(moment: date, what: str) -> None:
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise InvalidInput(f"{what}: a date between {FIRST_YEAR} and {LAST_YEAR}")


def _day(text: str, what: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{what}: {text!r} is not a date (YYYY-MM-DD)") from None
    check_year(day, what)
    return day


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(ZoneInfo("UTC"))


def parse_moment(text: str, tz: ZoneInfo, *, what: str, end: bool = False) -> datetime:
    """A date (a whole local day: its start, or with `end` the next day's start) or an ISO
    time (an offset-less one is local)."""
    text = text.strip()
    if len(text) <= 10:
        day = _day(text, what)
        return local_midnight(day + timedelta(days=1) if end else day, tz)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{what}: {text!r} is not a date or an ISO time") from None
    check_year(moment, what)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(ZoneInfo("UTC"))


def week_bounds(text: str, tz: ZoneInfo) -> tuple[date, datetime, datetime]:
    """An ISO week ("2026-W49") or any day in it: its Monday and its [start, end) in UTC."""
    m = _WEEK.match(text.strip())
    try:
        monday = (
            date.fromisocalendar(int(m[1]), int(m[2]), 1) if m else date.fromisoformat(text.strip())
        )
    except ValueError:
        raise InvalidInput(f"week: {text!r} is not a week like 2026-W49 or a date") from None
    check_year(monday, "week")
    monday -= timedelta(days=monday.weekday())
    return monday, local_midnight(monday, tz), local_midnight(monday + timedelta(days=7), tz)


def _id_or(text: str, what: str) -> int | None:
    if text.isdecimal():
        value = int(text)
        if not 1 <= value <= MAX_ID:
            raise InvalidInput(f"{what}: no such {what} {text!r}")
        return value
    return None


def _account(session: Session, text: str) -> int:
    ident = _id_or(text, "account")
    if ident is not None and session.get(NetworkAccount, ident) is not None:
        return ident
    network, _, handle = text.rpartition(":")
    stmt = select(NetworkAccount.id).where(
        func.lower(NetworkAccount.handle) == handle.lstrip("@").lower()
    )
    if network:
        stmt = stmt.where(NetworkAccount.network == network)
    found = list(session.scalars(stmt.limit(2)))
    if len(found) == 1:
        return found[0]
    if found:
        raise InvalidInput(f"account: {text!r} names several accounts; write network:handle")
    raise InvalidInput(f"account: no account {text!r}")


def _team(session: Session, text: str) -> int:
    ident = _id_or(text, "team")
    if ident is not None and session.get(Team, ident) is not None:
        return ident
    found = session.scalar(select(Team.id).where(func.lower(Team.name) == text.lower()))
    if found is None:
        raise InvalidInput(f"team: no team {text!r}")
    return found


def _agent(session: Session, text: str) -> int:
    ident = _id_or(text, "agent")
    if ident is not None and session.get(Agent, ident) is not None:
        return ident
    found = session.scalar(select(Agent.id).where(func.lower(Agent.email) == text.lower()))
    if found is None:
        raise InvalidInput(f"agent: no agent {text!r}")
    return found


def parse_query(
    session: Session,
    *,
    timezone: str,
    start: str | None = None,
    end: str | None = None,
    **filters: str | None,
) -> MetricsQuery:
    """A checked MetricsQuery from text values (empty or None: not filtered)."""
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise InvalidInput(f"unknown filter(s): {', '.join(sorted(unknown))}")
    given = {k: v.strip() for k, v in filters.items() if v is not None and v.strip()}
    if any(len(v) > 200 for v in given.values()):
        raise InvalidInput("a filter value holds at most 200 characters")
    tz = ZoneInfo(timezone)
    q = MetricsQuery(timezone=timezone)
    if start and start.strip():
        q = q.narrowed(start=parse_moment(start, tz, what="from"))
    if end and end.strip():
        q = q.narrowed(end=parse_moment(end, tz, what="to", end=True))
    if q.start is not None and q.end is not None and q.end <= q.start:
        raise InvalidInput("the period ends before it starts")
    if "network" in given and not _NETWORK.match(given["network"]):
        raise InvalidInput(f"network: {given['network']!r} is not a network name")
    if "category" in given and given["category"] not in CATEGORIES:
        raise InvalidInput(f"category: one of {', '.join(CATEGORIES)}")
    if "language" in given and not (_LANGUAGE.match(given["language"])):
        raise InvalidInput(f"language: {given['language']!r} is not a language code like fr")
    return q.narrowed(
        network=given.get("network"),
        category=given.get("category"),
        language=given.get("language"),
        account_id=_account(session, given["account"]) if "account" in given else None,
        team_id=_team(session, given["team"]) if "team" in given else None,
        agent_id=_agent(session, given["agent"]) if "agent" in given else None,
    )
