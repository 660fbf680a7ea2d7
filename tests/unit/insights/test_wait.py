"""The expected-wait estimator on hand-built situations: history, backlog, nobody on, closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carebird.cases.calendars import Calendar
from carebird.insights.wait import (
    Answered,
    WaitInputs,
    estimate_wait,
    rounded_minutes,
    weighted_median,
)

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday, 11:00 in Paris
PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = Calendar.parse("Mon-Fri 08:00-18:00", "Europe/Paris")


def answered(minutes_ago: float, waited_minutes: float) -> Answered:
    return Answered(NOW - timedelta(minutes=minutes_ago), waited_minutes * 60)


def test_without_any_answer_the_default_wait_is_stated() -> None:
    got = estimate_wait(WaitInputs(now=NOW, default_seconds=2700))
    assert (got.open_seconds, got.seconds, got.basis, got.sample) == (2700, 2700, "default", 0)
    assert got.is_open and got.opens_at is None


def test_the_recent_answers_weigh_more_than_old_ones() -> None:
    # Three fresh answers after ~10 min; four from yesterday after 3 h: the fresh ones win.
    history = [answered(5, 10), answered(15, 12), answered(30, 9)]
    history += [answered(24 * 60 + n, 180) for n in range(4)]
    got = estimate_wait(WaitInputs(now=NOW, answered=history))
    assert got.basis == "recent"
    assert got.open_seconds == 10 * 60
    assert got.sample == 7
    # Answers given after `now` are not known yet.
    later = estimate_wait(WaitInputs(now=NOW, answered=[answered(-5, 300), answered(10, 20)]))
    assert later.open_seconds == 20 * 60 and later.sample == 1


def test_only_the_latest_answers_count() -> None:
    history = [answered(200 + n, 100) for n in range(30)] + [answered(n, 5) for n in range(10)]
    assert estimate_wait(WaitInputs(now=NOW, answered=history)).open_seconds == 5 * 60


def test_a_backlog_longer_than_the_recent_waits_sets_the_wait_when_agents_are_known() -> None:
    history = [answered(10, 10), answered(40, 10)]  # two answers in the last hour
    waiting = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4, 5, 6)]  # six ahead
    with_agents = estimate_wait(
        WaitInputs(now=NOW, answered=history, waiting=waiting, agents_available=2)
    )
    assert with_agents.basis == "backlog"
    assert with_agents.open_seconds == pytest.approx(6 / 2 * 3600)
    assert with_agents.backlog == 6 and with_agents.agents == 2
    # Unknown agents (a replay): the backlog's pace is not trusted, the recent waits stand.
    unknown = estimate_wait(WaitInputs(now=NOW, answered=history, waiting=waiting))
    assert (unknown.basis, unknown.open_seconds, unknown.backlog) == ("recent", 600, 6)
    # Cases waiting for more than a day are abandoned, not ahead in the queue.
    old = [NOW - timedelta(days=2)] * 50
    assert estimate_wait(WaitInputs(now=NOW, answered=history, waiting=old,
                                    agents_available=2)).basis == "recent"  # fmt: skip


def test_with_nobody_available_the_wait_is_at_least_the_oldest_case_s() -> None:
    history = [answered(10, 10)]
    waiting = [NOW - timedelta(minutes=95), NOW - timedelta(minutes=3)]
    got = estimate_wait(WaitInputs(now=NOW, answered=history, waiting=waiting, agents_available=0))
    assert got.basis == "no_agent"
    assert got.open_seconds == 95 * 60
    # Nobody waiting: nothing to add to the recent waits.
    idle = estimate_wait(WaitInputs(now=NOW, answered=history, agents_available=0))
    assert (idle.basis, idle.open_seconds) == ("recent", 600)


def test_outside_hours_the_wait_runs_to_the_next_opening() -> None:
    saturday = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
    history = [Answered(saturday - timedelta(days=1), 20 * 60)]
    got = estimate_wait(WaitInputs(now=saturday, answered=history, calendar=WEEKDAYS))
    monday_8 = datetime(2026, 3, 9, 8, 0, tzinfo=PARIS)
    assert got.opens_at == monday_8
    assert not got.is_open
    assert got.open_seconds == 20 * 60
    assert got.seconds == (monday_8 - saturday).total_seconds() + 20 * 60


def test_a_wait_that_crosses_the_closing_hour_goes_on_at_the_opening() -> None:
    friday = datetime(2026, 3, 6, 16, 50, tzinfo=UTC)  # 17:50 in Paris, closing at 18:00
    history = [Answered(friday - timedelta(minutes=5), 30 * 60)]
    got = estimate_wait(WaitInputs(now=friday, answered=history, calendar=WEEKDAYS))
    assert got.is_open
    done = friday + timedelta(seconds=got.seconds or 0)
    assert done == datetime(2026, 3, 9, 8, 20, tzinfo=PARIS)


def test_a_calendar_that_never_opens_gives_no_wall_clock_wait() -> None:
    never = Calendar.parse("Mon-Fri 08:00-18:00", "Europe/Paris", ["01-01..12-31"])
    got = estimate_wait(WaitInputs(now=NOW, calendar=never))
    assert got.seconds is None and got.opens_at is None


def test_helpers() -> None:
    assert weighted_median([(1.0, 1.0), (10.0, 5.0), (3.0, 1.0)]) == 10.0
    assert weighted_median([(4.0, 1.0)]) == 4.0
    assert [rounded_minutes(s) for s in (0, 60, 400, 1510, 7200)] == [5, 5, 5, 25, 120]
