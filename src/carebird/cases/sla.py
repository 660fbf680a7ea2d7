"""Response deadlines counted in business time (the desk's published opening hours).

A customer waiting on the desk gets an answer within the target, counted only while the desk
is open: a message at 21:30 with a 1 h target and "Mon-Sat 08:00-22:00" is due at 08:30 the
next morning, and one on Saturday at 21:45 is due on Monday at 08:45.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from carebird.cases.conditions import Conditions, Facts, matches
from carebird.cases.hours import BusinessHours
from carebird.cases.states import ACTIVE, Status
from carebird.config import Settings
from carebird.errors import InvalidInput
from carebird.ingest.models import Message

MAX_TARGET_MINUTES = 60 * 24 * 90

HORIZON_DAYS = 21  # hours that never open within three weeks give no deadline
_END_OF_DAY = time(23, 59, 59, 999999)  # how hours.py reads "24:00"


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    hours: BusinessHours
    first_response: timedelta = timedelta(hours=1)
    next_response: timedelta | None = None  # after our first answer; None: as the first
    name: str = "default"

    def target(self, *, answered_before: bool) -> timedelta:
        """The answer target of a wait: the next-response one once we answered (if set)."""
        if answered_before and self.next_response is not None:
            return self.next_response
        return self.first_response

    @classmethod
    def parse(
        cls, opening_hours: str, timezone: str, *, first_response_minutes: float = 60.0
    ) -> SlaPolicy:
        return cls(
            BusinessHours.parse(opening_hours, timezone),
            timedelta(minutes=first_response_minutes),
        )


class PolicySpec(BaseModel):
    """An SLA policy as written under `[[sla.policies]]`: the cases it covers (the routing
    rules' conditions) and its targets in business minutes."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    when: Conditions = Field(default_factory=Conditions)
    first_response_minutes: float = Field(gt=0, le=MAX_TARGET_MINUTES)
    next_response_minutes: float | None = Field(default=None, gt=0, le=MAX_TARGET_MINUTES)


@dataclass(frozen=True, slots=True)
class SlaSetup:
    """The desk's SLA policies, tried in order; the first whose conditions a case shows
    applies, else the default (`sla_first_response_minutes`)."""

    default: SlaPolicy
    policies: tuple[tuple[PolicySpec, SlaPolicy], ...] = ()

    @classmethod
    def from_config(
        cls, sla: dict[str, Any], *, opening_hours: str, timezone: str, default_minutes: float
    ) -> SlaSetup:
        hours = BusinessHours.parse(opening_hours, timezone)
        raw = sla.get("policies", [])
        if not isinstance(raw, list):
            raise InvalidInput("sla.policies must be a list of policies")
        policies = []
        for i, item in enumerate(raw):
            try:
                spec = PolicySpec.model_validate(item)
            except ValidationError as exc:
                first = exc.errors()[0]
                at = ".".join(str(p) for p in first["loc"])
                raise InvalidInput(f"sla.policies[{i}]: {at}: {first['msg']}") from None
            nxt = spec.next_response_minutes
            policy = SlaPolicy(
                hours,
                timedelta(minutes=spec.first_response_minutes),
                timedelta(minutes=nxt) if nxt is not None else None,
                spec.name,
            )
            policies.append((spec, policy))
        return cls(SlaPolicy(hours, timedelta(minutes=default_minutes)), tuple(policies))

    @classmethod
    def from_settings(cls, settings: Settings) -> SlaSetup:
        return cls.from_config(
            settings.sla,
            opening_hours=settings.opening_hours,
            timezone=settings.timezone,
            default_minutes=settings.sla_first_response_minutes,
        )

    @property
    def needs_facts(self) -> bool:
        return bool(self.policies)

    def policy_for(self, facts: Facts | None) -> SlaPolicy:
        if facts is not None:
            for spec, policy in self.policies:
                if matches(spec.when, facts):
                    return policy
        return self.default


@dataclass(frozen=True, slots=True)
class Deadline:
    due_at: datetime
    breached: bool


def _local(day: date, at: time, hours: BusinessHours) -> datetime:
    if at == _END_OF_DAY:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=hours.tz)
    return datetime.combine(day, at, tzinfo=hours.tz)


def open_intervals(
    hours: BusinessHours, start: datetime, days: int
) -> Iterator[tuple[datetime, datetime]]:
    """The desk's open periods (UTC, merged, in order) overlapping [start, start + days)."""
    start = start.astimezone(UTC)
    first = start.astimezone(hours.tz).date() - timedelta(days=1)  # yesterday may run past 0:00
    spans: list[tuple[datetime, datetime]] = []
    for n in range(days + 2):
        day = first + timedelta(days=n)
        for w in hours.windows:
            if w.day != day.weekday():
                continue
            begin = _local(day, w.start, hours)
            end = _local(day + timedelta(days=1) if w.end <= w.start else day, w.end, hours)
            spans.append((begin.astimezone(UTC), end.astimezone(UTC)))
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for begin, end in spans:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    for begin, end in merged:
        if end > start:
            yield max(begin, start), end


def add_business_time(hours: BusinessHours, start: datetime, amount: timedelta) -> datetime | None:
    """`start` plus `amount` of open time; None when the desk does not open for that long."""
    start = start.astimezone(UTC)  # aware arithmetic in a local zone would ignore DST
    left = amount
    for begin, end in open_intervals(hours, start, HORIZON_DAYS):
        if end - begin >= left:
            return begin + left
        left -= end - begin
    return None


def deadline(
    policy: SlaPolicy,
    *,
    status: str,
    waiting_since: datetime | None,
    answered_before: bool,
    now: datetime,
) -> Deadline | None:
    """The answer deadline of a case whose customer waits on the desk since `waiting_since`.

    None when nobody waits on us: no pending customer message, a case no longer active, or
    one waiting on an outside owner (that wait has its own deadline).
    """
    if waiting_since is None or status not in ACTIVE or status == Status.WAITING_THIRD_PARTY:
        return None
    due = add_business_time(
        policy.hours, waiting_since, policy.target(answered_before=answered_before)
    )
    if due is None:
        return None
    return Deadline(due_at=due, breached=now > due)


# --- who waits on us ---------------------------------------------------------------------------
def _utc(value: datetime | str) -> datetime:
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def waiting_on_us(session: Session, ids: Sequence[int]) -> tuple[dict[int, datetime], set[int]]:
    """Since when each case's customer waits on us (their first message after our last
    answer), and the cases we answered before. An acknowledgement is not an answer."""
    last_out = (
        select(Message.case_id, func.max(Message.created_at).label("at"))
        .where(
            Message.case_id.in_(ids),
            Message.direction == "out",
            Message.kind != "acknowledgement",  # "bien reçu": the customer still waits on us
        )
        .group_by(Message.case_id)
        .subquery()
    )
    answered = {case_id for case_id, _ in session.execute(select(last_out))}
    rows = session.execute(
        select(Message.case_id, func.min(Message.created_at))
        .outerjoin(last_out, last_out.c.case_id == Message.case_id)
        .where(
            Message.case_id.in_(ids),
            Message.direction == "in",
            or_(last_out.c.at.is_(None), Message.created_at > last_out.c.at),
        )
        .group_by(Message.case_id)
    ).all()
    return {case_id: _utc(at) for case_id, at in rows if case_id is not None}, answered
