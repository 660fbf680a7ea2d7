"""How many agents a desk needs: Erlang C for a target service level.

Contacts arrive at random (Poisson) and wait in one queue for the first free agent; with an
offered load of A = arrivals × handle time / interval erlangs and N agents, Erlang C gives the
chance that a contact waits at all, from which follow the service level (the share answered
within T seconds), the average wait and the occupancy. The textbook case — 100 contacts in
30 minutes, 180 s each, 80 % answered within 20 s — needs 14 agents, 20 on the schedule once
30 % of paid time goes to breaks, training and absence (shrinkage).

Social care is asynchronous: an agent keeps several conversations open at once. Erlang C,
which assumes one contact per agent at a time, is then an upper bound; `concurrent_bound`
gives the lower one (the load shared out at `concurrency` conversations per agent, under a
maximum occupancy).

`week_plan` applies both to the desk's own history: the support cases that arrived in each hour
of an average week (in the desk's time zone), times a what-if factor, give the agents each hour
needs (the /staffing page's heat map, `carebird staffing --from-history`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from carebird.cases.models import Case
from carebird.db.base import as_utc
from carebird.errors import InvalidInput

MAX_AGENTS = 100_000  # beyond any desk; bounds the search on absurd inputs


@dataclass(frozen=True, slots=True)
class Staffing:
    agents: int  # on the floor, answering
    scheduled: int  # on the schedule, after shrinkage
    service_level: float  # share answered within the target, with `agents`
    average_wait_seconds: float
    occupancy: float  # share of the agents' time spent handling
    load_erlangs: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def erlang_c(agents: int, load: float) -> float:
    """The chance that a contact waits (Erlang C), through the stable Erlang B recursion."""
    if agents <= load:
        return 1.0
    b = 1.0
    for n in range(1, agents + 1):
        b = load * b / (n + load * b)
    return agents * b / (agents - load * (1 - b))


def service_level(agents: int, load: float, handle_seconds: float, within: float) -> float:
    if agents <= load:
        return 0.0
    waits = erlang_c(agents, load)
    return 1.0 - waits * math.exp(-(agents - load) * within / handle_seconds)


def _check(**values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value) or value < 0:
            raise InvalidInput(f"{name} must be a finite number >= 0, not {value!r}")


def plan(
    *,
    arrivals: float,
    interval_minutes: float,
    handle_seconds: float,
    answer_within_seconds: float,
    service_level_target: float,
    shrinkage: float = 0.0,
) -> Staffing:
    """The fewest agents meeting the service level, and the schedule that yields them."""
    _check(arrivals=arrivals, answer_within_seconds=answer_within_seconds)
    if not (interval_minutes > 0 and math.isfinite(interval_minutes)):
        raise InvalidInput("interval_minutes must be > 0")
    if not (handle_seconds > 0 and math.isfinite(handle_seconds)):
        raise InvalidInput("handle_seconds must be > 0")
    if not 0 < service_level_target < 1:
        raise InvalidInput("the service level is a share strictly between 0 and 1 (e.g. 0.8)")
    if not 0 <= shrinkage < 1:
        raise InvalidInput("shrinkage is a share from 0 up to (not including) 1 (e.g. 0.3)")
    load = arrivals * handle_seconds / (interval_minutes * 60)
    if load > MAX_AGENTS / 2:
        raise InvalidInput(f"{load:.0f} erlangs is beyond what this planner sizes")
    agents = max(1, math.floor(load) + 1) if arrivals else 0
    while agents and service_level(agents, load, handle_seconds, answer_within_seconds) < (
        service_level_target
    ):
        agents += 1
    if agents == 0:
        return Staffing(0, 0, 1.0, 0.0, 0.0, 0.0)
    waits = erlang_c(agents, load)
    return Staffing(
        agents=agents,
        scheduled=math.ceil(agents / (1 - shrinkage) - 1e-9),
        service_level=service_level(agents, load, handle_seconds, answer_within_seconds),
        average_wait_seconds=waits * handle_seconds / (agents - load),
        occupancy=load / agents,
        load_erlangs=load,
    )


def concurrent_bound(load: float, *, concurrency: float, max_occupancy: float = 0.85) -> int:
    """The fewest agents for `load` erlangs when each works `concurrency` conversations at
    once and is kept at most `max_occupancy` busy (asynchronous work's lower bound)."""
    _check(load=load)
    if not concurrency >= 1 or not 0 < max_occupancy <= 1:
        raise InvalidInput("concurrency must be >= 1 and max occupancy in (0, 1]")
    return math.ceil(load / (concurrency * max_occupancy) - 1e-9)


# --- from the desk's own history: agents needed per hour of the week --------------------------
@dataclass(frozen=True, slots=True)
class HourPlan:
    day: int  # 0 = Monday, in the desk's time zone
    hour: int
    arrivals: float  # support cases in this hour of an average week, × the what-if factor
    agents: int  # Erlang C, one conversation at a time
    scheduled: int  # after shrinkage
    concurrent_agents: int  # asynchronous work: `concurrency` conversations each
    occupancy: float


@dataclass(frozen=True, slots=True)
class WeekPlan:
    timezone: str
    weeks: int
    factor: float
    handle_seconds: float
    answer_within_seconds: float
    service_level: float
    shrinkage: float
    concurrency: float
    support_cases: int  # in the window read
    hours: tuple[HourPlan, ...]

    @property
    def peak_agents(self) -> int:
        return max((h.agents for h in self.hours), default=0)

    def cell(self, day: int, hour: int) -> HourPlan:
        return self.hours[day * 24 + hour]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["peak_agents"] = self.peak_agents
        out["peak_concurrent_agents"] = max((h.concurrent_agents for h in self.hours), default=0)
        out["agent_hours"] = sum(h.agents for h in self.hours)
        out["scheduled_hours"] = sum(h.scheduled for h in self.hours)
        return out


def _occurrences(start: datetime, end: datetime, tz: ZoneInfo) -> list[int]:
    """How many times each hour of the week (day * 24 + hour, local) overlaps [start, end)."""
    seen = [0] * 168
    at = start.replace(minute=0, second=0, microsecond=0)
    while at < end:
        local = at.astimezone(tz)
        seen[local.weekday() * 24 + local.hour] += 1
        at += timedelta(hours=1)
    return seen


def week_plan(
    session: Session,
    *,
    tz: ZoneInfo,
    now: datetime,
    weeks: int = 4,
    factor: float = 1.0,
    handle_seconds: float = 300.0,
    answer_within_seconds: float = 3600.0,
    service_level_target: float = 0.8,
    shrinkage: float = 0.3,
    concurrency: float = 3.0,
) -> WeekPlan:
    """Agents needed in each hour of the week, from the support cases (category other than
    `other`) opened in the last `weeks` weeks (or since the first one, when the desk is
    younger), each hour's average × `factor` ("a 2× incident day")."""
    if not 1 <= weeks <= 52:
        raise InvalidInput("weeks: from 1 to 52")
    if not (math.isfinite(factor) and 0 < factor <= 100):
        raise InvalidInput("factor: a number above 0, at most 100")
    if not (math.isfinite(concurrency) and 1 <= concurrency <= 50):
        raise InvalidInput("concurrency: from 1 to 50 conversations per agent")
    since = now - timedelta(weeks=weeks)
    support = (Case.created_at >= since, Case.created_at < now,
               or_(Case.category.is_(None), Case.category != "other"))  # fmt: skip
    opened = [as_utc(at) for at in session.scalars(select(Case.created_at).where(*support))]
    counts = [0] * 168
    for at in opened:
        local = at.astimezone(tz)
        counts[local.weekday() * 24 + local.hour] += 1
    seen = _occurrences(min(opened, default=now), now, tz) if opened else [0] * 168
    hours = []
    for slot in range(168):
        arrivals = counts[slot] / seen[slot] * factor if seen[slot] else 0.0
        result = plan(
            arrivals=arrivals,
            interval_minutes=60,
            handle_seconds=handle_seconds,
            answer_within_seconds=answer_within_seconds,
            service_level_target=service_level_target,
            shrinkage=shrinkage,
        )
        bound = concurrent_bound(result.load_erlangs, concurrency=concurrency)
        hours.append(HourPlan(slot // 24, slot % 24, round(arrivals, 2), result.agents,
                              result.scheduled, bound, round(result.occupancy, 3)))  # fmt: skip
    return WeekPlan(
        timezone=tz.key,
        weeks=weeks,
        factor=factor,
        handle_seconds=handle_seconds,
        answer_within_seconds=answer_within_seconds,
        service_level=service_level_target,
        shrinkage=shrinkage,
        concurrency=concurrency,
        support_cases=len(opened),
        hours=tuple(hours),
    )
