"""What the incident page reads: its cases with their customers, and its volume over time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.cases.incidents import IncidentCase
from carebird.cases.models import Case
from carebird.db.base import as_utc
from carebird.ingest.models import Author, Message


@dataclass(frozen=True, slots=True)
class MemberCase:
    id: int
    status: str
    subject: str
    customer: str
    network: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Bar:
    start: datetime
    count: int


def member_cases(session: Session, incident_id: int) -> list[MemberCase]:
    rows = session.execute(
        select(Case.id, Case.status, Case.subject, Author.handle, Case.network, Case.created_at)
        .join(IncidentCase, IncidentCase.case_id == Case.id)
        .join(Author, Author.id == Case.customer_id)
        .where(IncidentCase.incident_id == incident_id)
        .order_by(Case.created_at, Case.id)
    ).all()
    return [MemberCase(*row) for row in rows]


def volume(session: Session, incident_id: int, *, bars: int = 24) -> tuple[list[Bar], timedelta]:
    """Inbound messages of the incident's cases per time step (at most `bars` steps of 5
    minutes or more, from its first message to its last)."""
    times = [
        as_utc(t)
        for t in session.scalars(
            select(Message.created_at)
            .join(IncidentCase, IncidentCase.case_id == Message.case_id)
            .where(IncidentCase.incident_id == incident_id, Message.direction == "in")
            .order_by(Message.created_at)
        )
    ]
    if not times:
        return [], timedelta(minutes=5)
    first, last = times[0], times[-1]
    step = timedelta(minutes=5)
    while (last - first) / step >= bars:
        step *= 2
    counts = [0] * (int((last - first) / step) + 1)
    for t in times:
        counts[int((t - first) / step)] += 1
    return [Bar(first + n * step, c) for n, c in enumerate(counts)], step
