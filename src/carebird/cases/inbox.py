"""The agent's inbox: active cases by priority, with filters, full-text search and, per row,
the badges (category, language, network, account), the waiting time and the answer deadline.

Filters: mine, unassigned, assignee, team, category, language (of the message that opened the
case), network, status (default: the active ones), account, tag; search: words in the case's
messages or its customer's handle and name (carebird.cases.search). Deadlines run in business
time, in the case's account's calendar (carebird.cases.sla, carebird.cases.calendars).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from carebird.cases.conditions import facts_of
from carebird.cases.models import Case, CaseTag
from carebird.cases.queries import COUNT_CAP, CaseRow, Page, Sort, select_page, text_condition
from carebird.cases.search import facet_condition, search_condition
from carebird.cases.sla import SlaSetup, deadline
from carebird.cases.sla_clock import clocks
from carebird.cases.states import ACTIVE
from carebird.db.base import as_utc, utcnow
from carebird.errors import InvalidInput
from carebird.ingest.models import Message, NetworkAccount

ACTIVE_STATUSES: tuple[str, ...] = tuple(sorted(str(s) for s in ACTIVE))


@dataclass(slots=True)
class InboxRow(CaseRow):
    account_id: int | None = None
    account_handle: str | None = None
    language: str | None = None  # of the message that opened the case
    waiting_since: datetime | None = None  # the oldest customer message nobody answered yet
    waiting_seconds: int | None = None
    due_at: datetime | None = None  # answer deadline in business time (None: none runs)
    breached: bool = False
    answered_before: bool = False  # internal: an answer of ours came before (not an ack)

    @classmethod
    def extra_columns(cls, dialect: str) -> dict[str, Any]:
        return dict(_badge_columns())

    def fill(self, case: Any, extra: Mapping[str, Any]) -> None:
        self.account_id = case.account_id
        self.account_handle = extra.get("account_handle") if case.account_id else None
        self.language = extra.get("language") if case.opening_message_id is not None else None
        if self.status in ACTIVE_STATUSES:  # nobody waits on a resolved case
            since = extra.get("waiting_since")
            self.waiting_since = as_utc(since) if since is not None else None
            self.answered_before = extra.get("last_answer") is not None


@functools.cache
def _badge_columns() -> dict[str, Any]:
    """The badges and the waiting time, as correlated subqueries of the page's statement
    (carebird.cases.sla.waiting_on_us says the same for a list of ids); built once (the
    constructs are immutable; building them costs more than running them)."""
    out_msg, in_msg = aliased(Message), aliased(Message)
    last_answer = (
        select(func.max(out_msg.created_at))
        .where(
            out_msg.case_id == Case.id,
            out_msg.direction == "out",
            out_msg.kind != "acknowledgement",  # "bien reçu": the customer still waits
        )
        .correlate(Case)  # the page's case, also from inside `since` below
        .scalar_subquery()
    )
    since = select(func.min(in_msg.created_at)).where(
        in_msg.case_id == Case.id,
        in_msg.direction == "in",
        or_(last_answer.is_(None), in_msg.created_at > last_answer),
    )
    handle = select(NetworkAccount.handle).where(NetworkAccount.id == Case.account_id)
    language = select(Message.language).where(Message.id == Case.opening_message_id)
    return {
        "account_handle": handle.scalar_subquery(),
        "language": language.scalar_subquery(),
        "last_answer": last_answer,
        "waiting_since": since.scalar_subquery(),
    }


@dataclass(slots=True)
class InboxFilters:
    mine: bool = False  # assigned to the asking agent
    unassigned: bool = False
    assignee_id: int | None = None
    team_id: int | None = None
    category: list[str] | None = None
    language: str | None = None
    network: str | None = None
    status: list[str] | None = None  # None: every active status
    account_id: int | None = None
    tag: str | None = None
    search: str | None = None  # words found in the case's messages, customer handle or name


def inbox_conditions(session: Session, filters: InboxFilters, *, agent_id: int | None) -> list[Any]:
    f = filters
    if f.mine and f.unassigned:
        raise InvalidInput("a case cannot be both mine and unassigned")
    conds: list[Any] = [Case.status.in_(f.status or ACTIVE_STATUSES)]
    conds += _owner_conditions(f, agent_id)
    if f.category:
        conds.append(Case.category.in_(f.category))
    if f.network:
        conds.append(Case.network == f.network)
    if f.account_id is not None:
        conds.append(Case.account_id == f.account_id)
    conds += _content_conditions(session, f)
    return conds


def _owner_conditions(f: InboxFilters, agent_id: int | None) -> list[Any]:
    """Who the cases are assigned to: the agent, nobody, someone, a team."""
    conds: list[Any] = []
    if f.mine:
        if agent_id is None:
            raise InvalidInput("'mine' needs a signed-in agent")
        conds.append(Case.assignee_id == agent_id)
    if f.unassigned:
        conds.append(Case.assignee_id.is_(None))
    if f.assignee_id is not None:
        conds.append(Case.assignee_id == f.assignee_id)
    if f.team_id is not None:
        conds.append(Case.team_id == f.team_id)
    return conds


def _content_conditions(session: Session, f: InboxFilters) -> list[Any]:
    """What the cases hold: a language, a tag, words."""
    conds: list[Any] = []
    if f.language:  # a facet of the search index: no per-case look at the opening message
        conds.append(facet_condition(session, "lang", f.language))
    if f.tag:
        tagged = select(CaseTag.case_id).where(CaseTag.tag == f.tag.strip().lower())
        conds.append(Case.id.in_(tagged))
    if f.search and f.search.strip():
        found = search_condition(session, f.search)
        conds.append(found if found is not None else text_condition(f.search.strip()))
    return conds


def inbox(
    session: Session,
    *,
    filters: InboxFilters | None = None,
    agent_id: int | None = None,
    sort: Sort = "priority",
    limit: int = 50,
    cursor: str | None = None,
    sla: SlaSetup | None = None,
    now: datetime | None = None,
    count_cap: int | None = COUNT_CAP,
) -> Page[InboxRow]:
    """The agent's inbox: active cases by priority (unless `filters.status` says otherwise)."""
    conds = inbox_conditions(session, filters or InboxFilters(), agent_id=agent_id)
    page: Page[InboxRow] = select_page(
        session,
        conds,
        sort=sort,
        limit=limit,
        offset=0,
        cursor=cursor,
        row_type=InboxRow,
        count_cap=count_cap,
    )
    _attach_deadlines(session, page.items, sla=sla, now=now or utcnow())
    return page


def _attach_deadlines(
    session: Session, rows: list[InboxRow], *, sla: SlaSetup | None, now: datetime
) -> None:
    """How long each active case's customer has waited on us (since: the page's statement),
    and the deadline that runs first: the answer's, or the resolution's (its policy has one
    and the case is not waiting on the customer), in the case's account's calendar. Only a
    desk with SLA policies reads more: the calendars, and the facts and clocks if needed."""
    ids = [r.id for r in rows if r.status in ACTIVE_STATUSES]
    if not ids:
        return
    since = {r.id: r.waiting_since for r in rows if r.waiting_since is not None}
    for r in rows:
        if r.waiting_since is not None:
            r.waiting_seconds = max(0, int((now - r.waiting_since).total_seconds()))
    running = clocks(session, ids) if sla is not None and sla.has_resolution else {}
    if sla is None or not (since or running):
        return
    facts = facts_of(session, sorted(set(since) | set(running))) if sla.needs_facts else {}
    calendars = sla.calendars(session)
    for r in rows:
        policy, calendar = sla.policy_for(facts.get(r.id)), calendars.of(r.account_id)
        dues = []
        answer = deadline(
            policy,
            status=r.status,
            waiting_since=r.waiting_since,
            answered_before=r.answered_before,
            now=now,
            calendar=calendar,  # the account's hours and holidays
        )
        if answer is not None:
            dues.append(answer.due_at)
        clock = running.get(r.id)
        if clock is not None and policy.resolution is not None:
            resolve = clock.due(calendar, policy.resolution)
            dues += [resolve] if resolve is not None else []
        if dues:
            r.due_at = min(dues)
            r.breached = now > r.due_at
