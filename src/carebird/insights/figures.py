"""The desk's figures for a period and filters, from the cases' facts (messages and event log
only, never counters kept by hand): one report for `carebird metrics --json`, GET /api/metrics
and the dashboard.

Definitions (over the period's support cases, carebird.insights.casefacts):
    answered_within_1h / _24h  share whose first real answer came within 3,600 / 86,400 s,
                               wall clock (never answered: not within)
    contacted_within_1h / _24h the same for the first contact (an acknowledgement, a bare
                               "please DM us" or an answer)
    median/p90_first_response_seconds  over the answered support cases (wall clock, and in
                               business time: `_business_seconds`)
    next response              each later wait of the customer (their first message after
                               our last answer) until our next answer
    resolution                 first customer message to the last resolution, of the cases
                               resolved now
    silence_rate               share never answered; no_contact_rate: never contacted at all
    reopen_rate                share of the support cases ever resolved that were reopened

More figures plug in as sections: functions (session, query, facts) -> {key: value}, merged
into the report (a list of rows is also a table: exported and drawn like the others).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebird.auth.models import Agent
from carebird.cases.calendars import Calendars
from carebird.cases.models import Case
from carebird.cases.states import ACTIVE
from carebird.errors import NotFound
from carebird.insights.casefacts import CaseFacts, case_facts
from carebird.insights.metrics import OPENING
from carebird.insights.query import MetricsQuery
from carebird.insights.satisfaction import SatisfactionFilters, satisfaction_summary
from carebird.insights.stats import median, p90, share
from carebird.understand.labels import SENTIMENTS

HOUR, DAY = 3600.0, 86400.0
Section = Callable[[Session, MetricsQuery, Sequence[CaseFacts]], dict[str, Any]]
GROUPS: dict[
    str, tuple[str, Callable[[CaseFacts], str]]
] = {  # table -> (its key column, the case's value)
    "by_category": ("category", lambda f: f.times.category or "unknown"),
    "by_language": ("language", lambda f: f.times.language or "und"),
    "by_network": ("network", lambda f: f.times.network),
    "by_account": ("account", lambda f: f.times.account or ""),
    "by_team": ("team", lambda f: f.times.team or ""),
}


def _within(values: Iterable[float | None], limit: float) -> int:
    return sum(1 for v in values if v is not None and v <= limit)


def _times(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def summary(facts: Sequence[CaseFacts]) -> dict[str, Any]:
    support = [f for f in facts if f.support]
    answered = [f for f in support if f.answered]
    contacted = [f for f in support if f.first_contact_at is not None]
    first = _times(f.first_response_seconds for f in answered)
    first_biz = _times(f.first_response_business_seconds for f in answered)
    contact = _times(f.first_contact_seconds for f in contacted)
    nxt = [s for f in support for s in f.next_response_seconds()]
    nxt_biz = [s for f in support for s in f.next_response_seconds(business=True)]
    resolution = _times(f.resolution_seconds for f in support)
    resolution_biz = _times(f.resolution_business_seconds for f in support)
    ever = [f for f in support if f.ever_resolved]
    reopened = sum(1 for f in ever if f.reopened)
    n = len(support)
    return {
        "cases": len(facts),
        "support_cases": n,
        "answered": len(answered),
        "contacted": len(contacted),
        "contact_only": len(contacted) - sum(1 for f in contacted if f.answered),
        "median_first_response_seconds": median(first),
        "p90_first_response_seconds": p90(first),
        "median_first_response_business_seconds": median(first_biz),
        "p90_first_response_business_seconds": p90(first_biz),
        "median_first_contact_seconds": median(contact),
        "p90_first_contact_seconds": p90(contact),
        "answered_within_1h": share(_within(first, HOUR), n),
        "answered_within_24h": share(_within(first, DAY), n),
        "contacted_within_1h": share(_within(contact, HOUR), n),
        "contacted_within_24h": share(_within(contact, DAY), n),
        "silence_rate": share(n - len(answered), n),
        "no_contact_rate": share(n - len(contacted), n),
        "next_responses": len(nxt),
        "median_next_response_seconds": median(nxt),
        "p90_next_response_seconds": p90(nxt),
        "median_next_response_business_seconds": median(nxt_biz),
        "p90_next_response_business_seconds": p90(nxt_biz),
        "resolved": len(resolution),
        "median_resolution_seconds": median(resolution),
        "p90_resolution_seconds": p90(resolution),
        "median_resolution_business_seconds": median(resolution_biz),
        "p90_resolution_business_seconds": p90(resolution_biz),
        "reopened": reopened,
        "reopen_rate": share(reopened, len(ever)),
    }


GROUP_COLUMNS = (
    "cases",
    "support_cases",
    "answered",
    "answered_within_1h",
    "answered_within_24h",
    "silence_rate",
    "median_first_response_seconds",
    "p90_first_response_seconds",
    "median_first_response_business_seconds",
    "median_resolution_seconds",
)


def grouped(
    facts: Sequence[CaseFacts], column: str, key: Callable[[CaseFacts], str]
) -> list[dict[str, Any]]:
    groups: dict[str, list[CaseFacts]] = {}
    for f in facts:
        groups.setdefault(key(f), []).append(f)
    rows = []
    for value, members in groups.items():
        s = summary(members)
        rows.append({column: value} | {c: s[c] for c in GROUP_COLUMNS})
    return sorted(rows, key=lambda r: (-r["cases"], str(r[column])))


def _local(at: datetime, query: MetricsQuery) -> datetime:
    return at.astimezone(query.tz)


def by_day(facts: Sequence[CaseFacts], query: MetricsQuery) -> list[dict[str, Any]]:
    days: dict[str, list[CaseFacts]] = {}
    for f in facts:
        days.setdefault(_local(f.times.created_at, query).date().isoformat(), []).append(f)
    rows = []
    for day in sorted(days):
        s = summary(days[day])
        rows.append({"day": day} | {c: s[c] for c in GROUP_COLUMNS})
    return rows


def by_hour_of_week(facts: Sequence[CaseFacts], query: MetricsQuery) -> list[dict[str, Any]]:
    """Cases opened per local weekday (0 = Monday) and hour, every one of the 168 cells."""
    cells = {(d, h): [0, 0] for d in range(7) for h in range(24)}
    for f in facts:
        at = _local(f.times.created_at, query)
        cell = cells[(at.weekday(), at.hour)]
        cell[0] += 1
        cell[1] += f.support
    return [
        {"weekday": d, "hour": h, "cases": c, "support_cases": s}
        for (d, h), (c, s) in sorted(cells.items())
    ]


def sentiment_trend(facts: Sequence[CaseFacts], query: MetricsQuery) -> list[dict[str, Any]]:
    """The customers' messages per local day and sentiment (within the period)."""
    days: dict[str, dict[str, int]] = {}
    for f in facts:
        for at, sentiment in f.sentiments:
            if (query.start and at < query.start) or (query.end and at >= query.end):
                continue
            tally = days.setdefault(
                _local(at, query).date().isoformat(), dict.fromkeys(SENTIMENTS, 0)
            )
            tally[sentiment] = tally.get(sentiment, 0) + 1
    rows = []
    for day, counts in sorted(days.items()):
        total = sum(counts.values())
        rows.append({"day": day, **counts, "messages": total,
                     "negative_share": share(counts.get("negative", 0), total)})  # fmt: skip
    return rows


def by_agent(
    session: Session, facts: Sequence[CaseFacts], query: MetricsQuery
) -> list[dict[str, Any]]:
    """Per agent: cases handled (assigned, replied or resolved), replies sent, first answers
    and their median time, cases resolved and their median time, open load (now)."""
    load: dict[int | None, int] = dict(
        session.execute(  # type: ignore[arg-type]
            select(Case.assignee_id, func.count())
            .outerjoin(OPENING, OPENING.id == Case.opening_message_id)
            .where(Case.assignee_id.is_not(None), Case.status.in_([str(s) for s in ACTIVE]))
            .where(*query.conditions(period=False))
            .group_by(Case.assignee_id)
        ).all()
    )
    people = {a.id: a for a in session.scalars(select(Agent))}
    by_email = {a.email: a.id for a in people.values()}
    rows = []
    for agent_id, agent in sorted(people.items()):
        mine = [
            f
            for f in facts
            if agent_id in f.replies
            or f.resolved_by == agent_id
            or by_email.get(f.times.assignee or "") == agent_id
        ]
        if not mine and not load.get(agent_id):
            continue
        first = _times(f.first_response_seconds for f in mine if f.first_answer_by == agent_id)
        done = _times(f.resolution_seconds for f in mine if f.resolved_by == agent_id)
        rows.append({
            "agent_id": agent_id, "agent": agent.email, "name": agent.name,
            "cases_handled": len(mine), "replies": sum(f.replies.get(agent_id, 0) for f in mine),
            "first_answers": len(first), "median_first_response_seconds": median(first),
            "resolved": len(done), "median_resolution_seconds": median(done),
            "open_load": int(load.get(agent_id, 0)),
        })  # fmt: skip
    return sorted(rows, key=lambda r: (-r["cases_handled"], r["agent"]))


def _core(session: Session, query: MetricsQuery, facts: Sequence[CaseFacts]) -> dict[str, Any]:
    out: dict[str, Any] = {name: grouped(facts, col, key) for name, (col, key) in GROUPS.items()}
    out["by_agent"] = by_agent(session, facts, query)
    out["by_day"] = by_day(facts, query)
    out["by_hour_of_week"] = by_hour_of_week(facts, query)
    out["sentiment_trend"] = sentiment_trend(facts, query)
    return out


def _satisfaction(
    session: Session, query: MetricsQuery, facts: Sequence[CaseFacts]
) -> dict[str, Any]:
    """The survey scores of the same period and filters (surveys dated by their resolution)."""
    filters = SatisfactionFilters(
        account_id=query.account_id, network=query.network, team_id=query.team_id,
        agent_id=query.agent_id, category=query.category, language=query.language,
    )  # fmt: skip
    summary = satisfaction_summary(session, start=query.start, end=query.end, filters=filters)
    return {"satisfaction": {k: v for k, v in summary.items() if k not in ("from", "to")}}


SECTIONS: tuple[Section, ...] = (_core, _satisfaction)


def describe(query: MetricsQuery) -> dict[str, Any]:
    return {
        "from": query.start.isoformat() if query.start else None,
        "to": query.end.isoformat() if query.end else None,
        "timezone": query.timezone,
        "filters": {
            k: v
            for k, v in (
                ("account_id", query.account_id),
                ("team_id", query.team_id),
                ("agent_id", query.agent_id),
                ("network", query.network),
                ("category", query.category),
                ("language", query.language),
            )
            if v is not None
        },
    }


def load_facts(session: Session, query: MetricsQuery, calendars: Calendars) -> list[CaseFacts]:
    return list(case_facts(session, query, calendars))


def metrics(
    session: Session,
    query: MetricsQuery,
    calendars: Calendars,
    *,
    sections: Sequence[Section] = SECTIONS,
    facts: Sequence[CaseFacts] | None = None,
) -> dict[str, Any]:
    """The report: the period, the summary figures, then each section's keys."""
    if facts is None:
        facts = load_facts(session, query, calendars)
    report: dict[str, Any] = {"period": describe(query)} | summary(facts)
    for section in sections:
        report.update(section(session, query, facts))
    return report


def tables(report: dict[str, Any]) -> list[str]:
    """The report's tables (lists of rows), by name; `summary` is its figures as one row."""
    return ["summary"] + [k for k, v in report.items() if isinstance(v, list)]


def table(report: dict[str, Any], name: str) -> list[dict[str, Any]]:
    if name == "summary":
        return [{k: v for k, v in report.items() if not isinstance(v, list | dict)}]
    value = report.get(name)
    if not isinstance(value, list):
        raise NotFound(f"no table {name!r} (tables: {', '.join(tables(report))})")
    return value
