"""The customer behind a case: their network identity, their other cases, a few counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebird.cases.models import Case
from carebird.cases.states import ACTIVE
from carebird.errors import NotFound
from carebird.ingest.models import Author, Message

PAST_LIMIT = 20


@dataclass(slots=True)
class Identity:
    id: int
    network: str
    handle: str
    display_name: str
    external_id: str
    followers: int
    verified: bool


@dataclass(slots=True)
class PastCase:
    id: int
    status: str
    category: str | None
    subject: str
    created_at: datetime
    resolved_at: datetime | None


@dataclass(slots=True)
class Counts:
    cases: int = 0  # every case of the customer, this one included
    active: int = 0
    resolved: int = 0  # resolved or closed
    messages: int = 0  # messages the customer wrote to the desk


@dataclass(slots=True)
class CustomerProfile:
    identity: Identity
    previous_cases: list[PastCase] = field(default_factory=list)  # newest first
    counts: Counts = field(default_factory=Counts)


def customer_profile(session: Session, *, case_id: int, limit: int = PAST_LIMIT) -> CustomerProfile:
    found = session.execute(
        select(Author).join(Case, Case.customer_id == Author.id).where(Case.id == case_id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"case {case_id} not found")
    a = found
    profile = CustomerProfile(
        Identity(a.id, a.network, a.handle, a.display_name, a.external_id, a.followers, a.verified)
    )
    past = session.execute(
        select(Case.id, Case.status, Case.category, Case.subject, Case.created_at, Case.resolved_at)
        .where(Case.customer_id == a.id, Case.id != case_id, Case.message_count > 0)
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(limit)
    )
    profile.previous_cases = [PastCase(*row) for row in past]
    counts = profile.counts
    for status, n in session.execute(
        select(Case.status, func.count())
        .where(Case.customer_id == a.id, Case.message_count > 0)  # not emptied by a merge
        .group_by(Case.status)
    ):
        counts.cases += n
        if status in ACTIVE:
            counts.active += n
        elif status in ("resolved", "closed"):
            counts.resolved += n
    counts.messages = (
        session.scalar(select(func.count()).select_from(Message).where(Message.author_id == a.id))
        or 0
    )
    return profile
