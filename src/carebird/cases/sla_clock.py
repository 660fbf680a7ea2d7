"""The resolution clock: business time from a case's opening (or its latest reopening), paused
while the case waits on the customer (status `waiting_customer`), read from the case's status
history (`status` case events)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.cases.calendars import Calendar
from carebird.cases.models import Case, CaseEvent
from carebird.cases.states import Status
from carebird.db.base import as_utc

_ENDED = (Status.RESOLVED, Status.CLOSED)


@dataclass(slots=True)
class Clock:
    since: datetime  # the opening or latest reopening
    pauses: list[tuple[datetime, datetime]] = field(default_factory=list)  # ended pauses
    paused_since: datetime | None = None  # waiting on the customer now

    def due(self, calendar: Calendar, target: timedelta) -> datetime | None:
        """When `target` of running business time is reached; None while paused (the time
        left is frozen) or when the calendar does not open for that long."""
        if self.paused_since is not None:
            return None
        return resolution_due(calendar, self.since, self.pauses, target)

    def elapsed(self, calendar: Calendar, now: datetime) -> timedelta:
        """Running business time up to `now`."""
        total = calendar.between(self.since, now)
        for begin, end in self.pauses:
            total -= calendar.between(begin, min(end, now))
        if self.paused_since is not None and self.paused_since < now:
            total -= calendar.between(self.paused_since, now)
        return total


def resolution_due(
    calendar: Calendar,
    since: datetime,
    pauses: Sequence[tuple[datetime, datetime]],
    target: timedelta,
) -> datetime | None:
    """The moment the running time from `since` reaches `target`, not counting closed time nor
    the `pauses` (ordered, non-overlapping, each ending before the clock runs again)."""
    start, left = as_utc(since), target
    for begin, end in sorted((as_utc(b), as_utc(e)) for b, e in pauses):
        if end <= start:
            continue
        begin = max(begin, start)
        run = calendar.between(start, begin)
        if run >= left:
            return calendar.add(start, left)
        left -= run
        start = end
    return calendar.add(start, left)


def clocks(session: Session, ids: Sequence[int]) -> dict[int, Clock]:
    """Each case's resolution clock, from its opening and its status history."""
    out = {
        case_id: Clock(as_utc(created))
        for case_id, created in session.execute(
            select(Case.id, Case.created_at).where(Case.id.in_(ids))
        )
    }
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.old, CaseEvent.new, CaseEvent.at)
        .where(CaseEvent.case_id.in_(ids), CaseEvent.kind == "status")
        .order_by(CaseEvent.case_id, CaseEvent.at, CaseEvent.id)
    )
    for case_id, old, new, at in rows:
        clock, at = out.get(case_id), as_utc(at)
        if clock is None:
            continue
        if old in _ENDED and new not in _ENDED:  # reopened: a new clock
            out[case_id] = clock = Clock(at)
        if clock.paused_since is not None and new != Status.WAITING_CUSTOMER:
            clock.pauses.append((clock.paused_since, at))
            clock.paused_since = None
        if new == Status.WAITING_CUSTOMER and clock.paused_since is None:
            clock.paused_since = at
    return out
