"""SLA policies and deadlines counted in business time (a case's business calendar).

A customer waiting on the desk gets an answer within the target, counted only while the desk
is open: a message at 21:30 with a 1 h target and "Mon-Sat 08:00-22:00" is due at 08:30 the
next morning, and one on Saturday at 21:45 is due on Monday at 08:45. Each policy has a first
response target, optionally a next-response one (after our first answer) and a resolution one
(from the case's opening or reopening, paused while it waits on the customer: see
carebird.cases.sla_clock). Calendars (hours, time zone, holidays; per account) are in
carebird.cases.calendars; the watcher writing warnings and breaches in carebird.cases.sla_watch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from carebird.cases.calendars import Calendar, Calendars
from carebird.cases.conditions import Conditions, Facts, matches
from carebird.cases.hours import BusinessHours
from carebird.cases.states import ACTIVE, Status
from carebird.config import Settings
from carebird.db.base import as_utc
from carebird.errors import InvalidInput
from carebird.ingest.models import Message

MAX_TARGET_MINUTES = 60 * 24 * 90
TARGETS = ("first_response", "next_response", "resolution")


class OnBreach(BaseModel):
    """What a breach of the policy does besides warning the lead (each written as a case event):
    raise the case's priority, hand it to its team's lead, or move it to another team."""

    model_config = ConfigDict(extra="forbid")

    priority_boost: float | None = Field(default=None, ge=-1000, le=1000)
    assign_to_lead: bool = False
    team: str | None = Field(default=None, min_length=1, max_length=120)


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    hours: BusinessHours | Calendar  # the desk's; a case's account may have its own calendar
    first_response: timedelta = timedelta(hours=1)
    next_response: timedelta | None = None  # after our first answer; None: as the first
    name: str = "default"
    resolution: timedelta | None = None  # from opening or reopening, paused while we wait
    on_breach: OnBreach | None = None

    @property
    def calendar(self) -> Calendar:
        return Calendar.of(self.hours)

    def target(self, *, answered_before: bool) -> timedelta:
        """The answer target of a wait: the next-response one once we answered (if set)."""
        if answered_before and self.next_response is not None:
            return self.next_response
        return self.first_response

    def target_name(self, *, answered_before: bool) -> str:
        if answered_before and self.next_response is not None:
            return "next_response"
        return "first_response"

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
    rules' conditions), its targets in business minutes and what a breach does."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    when: Conditions = Field(default_factory=Conditions)
    first_response_minutes: float = Field(gt=0, le=MAX_TARGET_MINUTES)
    next_response_minutes: float | None = Field(default=None, gt=0, le=MAX_TARGET_MINUTES)
    resolution_minutes: float | None = Field(default=None, gt=0, le=MAX_TARGET_MINUTES)
    on_breach: OnBreach | None = None


def _minutes(value: float | None) -> timedelta | None:
    return timedelta(minutes=value) if value is not None else None


@dataclass(frozen=True, slots=True)
class SlaSetup:
    """The desk's SLA policies, tried in order; the first whose conditions a case shows
    applies, else the default (`sla_first_response_minutes`). Timers count in the case's
    account's calendar, else the desk's (`calendars`)."""

    default: SlaPolicy
    policies: tuple[tuple[PolicySpec, SlaPolicy], ...] = ()
    teams: tuple[str, ...] = ()  # declared under [[teams]]: an escalation may create one

    @classmethod
    def from_config(
        cls,
        sla: dict[str, Any],
        *,
        opening_hours: str,
        timezone: str,
        default_minutes: float,
        holidays: Iterable[str] = (),
        teams: Iterable[str] = (),
    ) -> SlaSetup:
        calendar = Calendar.parse(opening_hours, timezone, holidays)
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
            policy = SlaPolicy(
                calendar,
                timedelta(minutes=spec.first_response_minutes),
                _minutes(spec.next_response_minutes),
                spec.name,
                _minutes(spec.resolution_minutes),
                spec.on_breach,
            )
            policies.append((spec, policy))
        default = SlaPolicy(calendar, timedelta(minutes=default_minutes))
        return cls(default, tuple(policies), tuple(teams))

    @classmethod
    def from_settings(cls, settings: Settings) -> SlaSetup:
        return cls.from_config(
            settings.sla,
            opening_hours=settings.opening_hours,
            timezone=settings.timezone,
            default_minutes=settings.sla_first_response_minutes,
            holidays=settings.holidays,
            teams=[str(t.get("name", "")) for t in settings.teams if isinstance(t, dict)],
        )

    @property
    def calendar(self) -> Calendar:
        """The desk's calendar."""
        return self.default.calendar

    def calendars(self, session: Session) -> Calendars:
        """The desk's calendar and each account's (read now: an account page may change it)."""
        return Calendars.load(session, self.calendar)

    @property
    def needs_facts(self) -> bool:
        return bool(self.policies)

    @property
    def has_resolution(self) -> bool:
        return any(p.resolution is not None for _, p in self.policies)

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


def open_intervals(
    hours: BusinessHours | Calendar, start: datetime, days: int
) -> Iterator[tuple[datetime, datetime]]:
    """The calendar's open periods (UTC, in order) overlapping [start, start + days)."""
    return Calendar.of(hours).open_intervals(start, days)


def add_business_time(
    hours: BusinessHours | Calendar, start: datetime, amount: timedelta
) -> datetime | None:
    """`start` plus `amount` of open time; None when the calendar does not open for that long."""
    return Calendar.of(hours).add(start, amount)


def deadline(
    policy: SlaPolicy,
    *,
    status: str,
    waiting_since: datetime | None,
    answered_before: bool,
    now: datetime,
    calendar: Calendar | None = None,
) -> Deadline | None:
    """The answer deadline of a case whose customer waits on the desk since `waiting_since`,
    in `calendar` (the case's account's; default: the policy's, the desk's).

    None when nobody waits on us: no pending customer message, a case no longer active, or
    one waiting on an outside owner (that wait has its own deadline).
    """
    if waiting_since is None or status not in ACTIVE or status == Status.WAITING_THIRD_PARTY:
        return None
    cal = calendar or policy.calendar
    due = cal.add(waiting_since, policy.target(answered_before=answered_before))
    if due is None:
        return None
    return Deadline(due_at=due, breached=now > due)


# --- who waits on us ---------------------------------------------------------------------------
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
    return {case_id: as_utc(at) for case_id, at in rows if case_id is not None}, answered
