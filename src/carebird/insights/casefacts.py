"""Each case's facts for the figures, derived from its messages and its event log only.

On top of `CaseTimes` (carebird.insights.metrics): the first *contact* (any message of ours,
an acknowledgement or a bare "please DM us" included) and the first *answer* (the first that
is neither: carebird.insights.contact) with the agent who sent it (its `reply_sent` event),
each later wait of the customer on our next answer, reopenings, who resolved it, replies per
agent and the sentiment of the customer's messages. Business times count in the case's
account's calendar (carebird.cases.calendars).

A support case: opened by a customer's (inbound) message, and its category is not `other`
(the case's category: the understanding's reading, or an agent's correction).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from carebird.cases.calendars import Calendar, Calendars
from carebird.cases.models import CaseEvent
from carebird.db.base import as_utc
from carebird.ingest.base import MessageKind
from carebird.ingest.models import Message
from carebird.insights.contact import is_answer
from carebird.insights.metrics import CaseTimes, case_times
from carebird.insights.query import MetricsQuery

BATCH = 1000
_ENDED = ("resolved", "closed")


@dataclass(slots=True)
class CaseFacts:
    times: CaseTimes
    calendar: Calendar
    first_contact_at: datetime | None = None
    first_answer_at: datetime | None = None
    first_answer_by: int | None = None  # the agent who sent it (None: imported, unknown)
    next_waits: list[tuple[datetime, datetime]] = field(default_factory=list)
    reopened: bool = False
    ever_resolved: bool = False
    resolved_by: int | None = None
    replies: dict[int, int] = field(default_factory=dict)  # agent id -> replies sent
    sentiments: list[tuple[datetime, str]] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.times.case_id

    @property
    def support(self) -> bool:
        return self.times.opening_direction == "in" and self.times.category != "other"

    @property
    def answered(self) -> bool:
        return self.first_answer_at is not None

    def _since_first(self, at: datetime | None) -> float | None:
        start = self.times.first_inbound_at
        if start is None or at is None:
            return None
        return (at - start).total_seconds()

    def _business(self, at: datetime | None) -> float | None:
        start = self.times.first_inbound_at
        if start is None or at is None:
            return None
        return self.calendar.between(start, at).total_seconds()

    @property
    def first_contact_seconds(self) -> float | None:
        return self._since_first(self.first_contact_at)

    @property
    def first_response_seconds(self) -> float | None:
        """Until the first real answer, wall clock."""
        return self._since_first(self.first_answer_at)

    @property
    def first_response_business_seconds(self) -> float | None:
        return self._business(self.first_answer_at)

    @property
    def resolution_seconds(self) -> float | None:
        return self.times.resolution_seconds

    @property
    def resolution_business_seconds(self) -> float | None:
        return self._business(self.times.resolved_at)

    def next_response_seconds(self, *, business: bool = False) -> list[float]:
        if business:
            return [self.calendar.between(a, b).total_seconds() for a, b in self.next_waits]
        return [(b - a).total_seconds() for a, b in self.next_waits]


def case_facts(session: Session, query: MetricsQuery, calendars: Calendars) -> Iterator[CaseFacts]:
    """The facts of every case the query covers, in case id order."""
    rows = case_times(session, where=query.conditions())
    while True:
        part = [r for _, r in zip(range(BATCH), rows, strict=False)]
        if not part:
            return
        yield from _facts(session, part, calendars)


def _facts(session: Session, part: Sequence[CaseTimes], calendars: Calendars) -> list[CaseFacts]:
    facts = {t.case_id: CaseFacts(t, calendars.of(t.account_id)) for t in part}
    senders = _read_events(session, facts)
    messages = session.execute(
        select(
            Message.case_id,
            Message.direction,
            Message.kind,
            Message.created_at,
            case((Message.direction == "out", Message.text), else_=None),
            Message.external_id,
            Message.sentiment,
        )
        .where(Message.case_id.in_(list(facts)))
        .order_by(Message.case_id, Message.created_at, Message.id)
    )
    waiting: dict[int, datetime] = {}
    for case_id, direction, kind, created, text, external_id, sentiment in messages:
        if kind == MessageKind.SURVEY:
            continue  # sent after the resolution: neither a contact nor an answer
        f, at = facts[case_id], as_utc(created)
        if direction == "in":
            _customer_wrote(f, at, sentiment, waiting)
        else:
            _we_wrote(f, at, kind, text, senders.get((case_id, external_id)), waiting)
    return list(facts.values())


def _read_events(session: Session, facts: dict[int, CaseFacts]) -> dict[tuple[int, str], int]:
    """Reopenings, resolutions and replies per agent from the event log; who sent each
    posted reply (case id, external id) -> agent id."""
    senders: dict[tuple[int, str], int] = {}
    events = session.execute(
        select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.old, CaseEvent.new, CaseEvent.actor_id)
        .where(CaseEvent.case_id.in_(list(facts)), CaseEvent.kind.in_(("status", "reply_sent")))
        .order_by(CaseEvent.case_id, CaseEvent.at, CaseEvent.id)
    )
    for case_id, kind, old, new, actor in events:
        f = facts[case_id]
        if kind == "reply_sent":
            if actor is not None:
                f.replies[actor] = f.replies.get(actor, 0) + 1
                if new:
                    senders[(case_id, new)] = actor
        elif new == "resolved":
            f.ever_resolved, f.resolved_by = True, actor
        elif old in _ENDED and new not in _ENDED:
            f.reopened = True
    return senders


def _customer_wrote(
    f: CaseFacts, at: datetime, sentiment: str | None, waiting: dict[int, datetime]
) -> None:
    if sentiment:
        f.sentiments.append((at, sentiment))
    if f.first_answer_at is not None and f.id not in waiting:
        waiting[f.id] = at  # the customer waits on our next answer


def _we_wrote(
    f: CaseFacts,
    at: datetime,
    kind: str,
    text: str | None,
    sender: int | None,
    waiting: dict[int, datetime],
) -> None:
    if f.first_contact_at is None:
        f.first_contact_at = at
    if not is_answer(kind, text):
        return
    if f.first_answer_at is None:
        f.first_answer_at, f.first_answer_by = at, sender
    elif f.id in waiting:
        f.next_waits.append((waiting.pop(f.id), at))
