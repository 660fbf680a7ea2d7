"""The expected wait for a first response (KLM's "we reply within ~25 min"): one estimator.

`estimate_wait` is a pure function of what is known at a moment (`WaitInputs`): the account's
latest answered support cases (when each was answered and how long it had waited, in open
hours), the support cases still waiting, the agents available (None when unknown) and the
business calendar. The live desk (carebird.insights.wait_store, refreshed by a job every few
minutes) and the replay on TWCS (carebird.insights.wait_replay) both call it, so the figure
measured by `carebird eval wait-time` is the one customers are shown.

The estimate:
1. **Recent waits.** The weighted median of the latest `SAMPLE` answered cases' waits, each
   weighing 0.5 ** (hours since it was answered / `HALF_LIFE` hours): the last answers tell
   most about the next one ("last to enter service", robust to the days-long tail a mean
   follows). No answered case yet: the desk's default wait.
2. **Backlog.** When the agents available are known, the support cases waiting (opened within
   `BACKLOG_HORIZON`) ahead of a new one are cleared at the rate the desk answered in the last
   hour: the wait is at least backlog ÷ rate. With nobody available it is at least the time the
   oldest waiting case has already waited (nobody drains the queue until someone is back).
3. **Calendar.** That much open time is laid on the calendar from now: outside hours the wait
   runs to the next opening, then on (`opens_at` says when).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from carebird.cases.calendars import Calendar

SAMPLE = 10  # answered cases the recent wait rests on
HALF_LIFE = timedelta(hours=1)  # an answer this old weighs half as much as one just given
BACKLOG_HORIZON = timedelta(hours=24)  # waiting longer: abandoned, not ahead in the queue
RATE_WINDOW = timedelta(hours=1)  # the desk's answering rate is measured over this


@dataclass(frozen=True, slots=True)
class Answered:
    answered_at: datetime
    waited_seconds: float  # from the customer's first message to the first answer, open time


@dataclass(frozen=True, slots=True)
class WaitInputs:
    now: datetime
    answered: Sequence[Answered] = ()  # answered support cases (any order, any age)
    waiting: Sequence[datetime] = ()  # when each unanswered support case opened
    agents_available: int | None = None  # None: unknown (a replay knows no presence)
    calendar: Calendar | None = None  # None: always open
    default_seconds: float = 3600.0  # before any case was answered


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    seconds: float | None  # wall clock from `now` to the expected answer; None: closed 3 weeks+
    open_seconds: float  # the same in open time (the wait once the desk is open)
    opens_at: datetime | None  # closed now: the next opening (the wait runs to it)
    basis: str  # recent | default | backlog | no_agent
    sample: int  # answered cases it rests on
    backlog: int  # support cases waiting ahead
    agents: int | None  # agents available (None: unknown)

    @property
    def is_open(self) -> bool:
        return self.opens_at is None


def weighted_median(pairs: Sequence[tuple[float, float]]) -> float:
    """The value at which half the weight lies on each side ((value, weight) pairs)."""
    ordered = sorted(pairs)
    half = sum(w for _, w in ordered) / 2
    acc = 0.0
    for value, weight in ordered:
        acc += weight
        if acc >= half:
            return value
    return ordered[-1][0]


def _recent(inputs: WaitInputs) -> tuple[float, int]:
    known = sorted((a for a in inputs.answered if a.answered_at <= inputs.now),
                   key=lambda a: a.answered_at)[-SAMPLE:]  # fmt: skip
    if not known:
        return inputs.default_seconds, 0
    half = HALF_LIFE.total_seconds()
    pairs = [
        (max(0.0, a.waited_seconds),
         0.5 ** ((inputs.now - a.answered_at).total_seconds() / half) + 1e-12)
        for a in known
    ]  # fmt: skip
    return weighted_median(pairs), len(known)


def _backlog_floor(inputs: WaitInputs, queue: list[datetime]) -> tuple[float, str] | None:
    """The least the backlog alone makes a new case wait (and why), when agents are known."""
    if inputs.agents_available is None or not queue:
        return None
    if inputs.agents_available <= 0:
        return (inputs.now - min(queue)).total_seconds(), "no_agent"
    since = inputs.now - RATE_WINDOW
    rate = sum(1 for a in inputs.answered if since <= a.answered_at <= inputs.now)
    if rate == 0:
        return None  # nothing answered lately: the backlog's pace is unknown
    return len(queue) / rate * RATE_WINDOW.total_seconds(), "backlog"


def estimate_wait(inputs: WaitInputs) -> WaitEstimate:
    """The expected wait for a case arriving at `inputs.now` (see the module's docstring)."""
    now = inputs.now
    open_seconds, sample = _recent(inputs)
    basis = "recent" if sample else "default"
    queue = [at for at in inputs.waiting if at <= now and now - at < BACKLOG_HORIZON]
    floor = _backlog_floor(inputs, queue)
    if floor is not None and floor[0] > open_seconds:
        open_seconds, basis = floor
    calendar = inputs.calendar
    opens_at = None
    seconds: float | None = open_seconds
    if calendar is not None:
        if not calendar.is_open(now):
            opens_at = calendar.next_opening(now)
        done = calendar.add(now, timedelta(seconds=open_seconds))
        if opens_at is None and not calendar.is_open(now):
            done = None  # no opening within three weeks
        seconds = (done - now).total_seconds() if done is not None else None
        if opens_at is not None and open_seconds == 0:
            seconds = (opens_at - now).total_seconds()
    return WaitEstimate(
        seconds=seconds,
        open_seconds=open_seconds,
        opens_at=opens_at,
        basis=basis,
        sample=sample,
        backlog=len(queue),
        agents=inputs.agents_available,
    )


def rounded_minutes(seconds: float, step: int = 5) -> int:
    """What is published: minutes rounded to `step`, never below `step`."""
    return max(step, round(seconds / 60 / step) * step)
