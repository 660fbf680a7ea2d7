"""Per-case times, derived from messages and the event log (never from stored counters).

first response = the first outbound message of the case (an acknowledgement is none) minus its
first inbound message;
resolution = the last `resolved` status event minus the first inbound message.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from carebird.auth.models import Agent, Team
from carebird.cases.calendars import Calendar
from carebird.cases.conditions import facts_of
from carebird.cases.models import Case, CaseEvent
from carebird.cases.sla import SlaSetup
from carebird.cases.sla_clock import Clock, clocks
from carebird.ingest.models import Author, Message, NetworkAccount

OPENING = aliased(Message, name="opening")  # the message that opened a case (filters use it)


@dataclass(frozen=True, slots=True)
class CaseTimes:
    case_id: int
    customer: str
    network: str
    account: str | None
    status: str
    category: str | None
    priority: float
    created_at: datetime
    first_inbound_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    language: str | None = None  # the opening message's
    team: str | None = None
    assignee: str | None = None  # the agent's e-mail
    first_response_due_at: datetime | None = None  # by the SLA policy covering the case
    first_response_breached: bool | None = None
    resolution_due_at: datetime | None = None  # the policy's resolution target, if it has one
    resolution_breached: bool | None = None
    account_id: int | None = None
    opening_direction: str | None = None  # "in": a customer's message opened the case

    @property
    def first_response_seconds(self) -> float | None:
        if self.first_inbound_at is None or self.first_response_at is None:
            return None
        return (self.first_response_at - self.first_inbound_at).total_seconds()

    @property
    def resolution_seconds(self) -> float | None:
        if self.first_inbound_at is None or self.resolved_at is None:
            return None
        return (self.resolved_at - self.first_inbound_at).total_seconds()


def case_times(
    session: Session, *, batch: int = 5000, where: Sequence[Any] = ()
) -> Iterator[CaseTimes]:
    """Stream every case (or those matching the `where` conditions on Case and its opening
    message `OPENING`) with its derived times, in case id order."""
    first_in = (
        select(Message.case_id, func.min(Message.created_at).label("at"))
        .where(Message.direction == "in", Message.case_id.is_not(None))
        .group_by(Message.case_id)
        .subquery()
    )
    first_out = (
        select(Message.case_id, func.min(Message.created_at).label("at"))
        .where(
            Message.direction == "out",
            Message.case_id.is_not(None),
            # an automatic "bien reçu" answers nothing; a survey comes after the answer
            Message.kind.not_in(("acknowledgement", "survey")),
        )
        .group_by(Message.case_id)
        .subquery()
    )
    resolved = (
        select(CaseEvent.case_id, func.max(CaseEvent.at).label("at"))
        .where(CaseEvent.kind == "status", CaseEvent.new == "resolved")
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    opening = OPENING
    stmt = (
        select(
            Case.id,
            Author.handle,
            Case.network,
            NetworkAccount.handle.label("account"),
            Case.status,
            Case.category,
            Case.priority,
            Case.created_at,
            first_in.c.at.label("first_in"),
            first_out.c.at.label("first_out"),
            resolved.c.at.label("resolved"),
            opening.language.label("language"),
            Team.name.label("team"),
            Agent.email.label("assignee"),
            Case.account_id,
            opening.direction.label("opening_direction"),
        )
        .join(Author, Author.id == Case.customer_id)
        .outerjoin(opening, opening.id == Case.opening_message_id)
        .outerjoin(Team, Team.id == Case.team_id)
        .outerjoin(Agent, Agent.id == Case.assignee_id)
        .outerjoin(NetworkAccount, NetworkAccount.id == Case.account_id)
        .outerjoin(first_in, first_in.c.case_id == Case.id)
        .outerjoin(first_out, first_out.c.case_id == Case.id)
        .outerjoin(resolved, resolved.c.case_id == Case.id)
        .where(*where)
        .order_by(Case.id)
    )
    for row in session.execute(stmt.execution_options(yield_per=batch)):
        # Only a case still resolved (or closed after it) counts as resolved.
        done = row.status in ("resolved", "closed")
        yield CaseTimes(
            case_id=row.id,
            customer=row.handle,
            network=row.network,
            account=row.account,
            status=row.status,
            category=row.category,
            priority=row.priority,
            created_at=row.created_at,
            first_inbound_at=_utc(row.first_in),
            first_response_at=_utc(row.first_out),
            resolved_at=_utc(row.resolved) if done else None,
            language=row.language,
            team=row.team,
            assignee=row.assignee,
            account_id=row.account_id,
            opening_direction=row.opening_direction,
        )


def _utc(value: datetime | str | None) -> datetime | None:
    """Aggregates bypass the column type: SQLite returns text, PostgreSQL naive datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def with_deadlines(
    session: Session, times: Iterable[CaseTimes], sla: SlaSetup, *, now: datetime, batch: int = 2000
) -> Iterator[CaseTimes]:
    """`times` with each case's first-response deadline (its SLA policy, in business time from
    the first customer message) and whether the first answer came later (or has not come and
    the deadline passed)."""
    it = iter(times)
    calendars = sla.calendars(session)
    while part := list(itertools.islice(it, batch)):
        facts = facts_of(session, [t.case_id for t in part]) if sla.needs_facts else {}
        ids = [t.case_id for t in part]
        accounts = {
            c: a
            for c, a in session.execute(select(Case.id, Case.account_id).where(Case.id.in_(ids)))
        }
        running = clocks(session, ids) if sla.has_resolution else {}
        for t in part:
            policy = sla.policy_for(facts.get(t.case_id))
            calendar = calendars.of(accounts.get(t.case_id))  # the account's, else the desk's
            t = _resolution(t, policy.resolution, running.get(t.case_id), calendar, now)
            if t.first_inbound_at is None:
                yield t
                continue
            due = calendar.add(t.first_inbound_at, policy.first_response)
            if due is None:
                yield t
                continue
            answered = t.first_response_at if t.first_response_at is not None else now
            yield dataclasses.replace(
                t, first_response_due_at=due, first_response_breached=answered > due
            )


def _resolution(
    t: CaseTimes, target: timedelta | None, clock: Clock | None, calendar: Calendar, now: datetime
) -> CaseTimes:
    """The resolution deadline (paused while waiting on the customer) and whether the case was
    resolved later (or is not resolved and the deadline passed)."""
    if target is None or clock is None:
        return t
    due = clock.due(calendar, target)
    if due is None:
        return t
    done = t.resolved_at if t.resolved_at is not None else now
    return dataclasses.replace(t, resolution_due_at=due, resolution_breached=done > due)
