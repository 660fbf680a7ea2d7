"""The monthly X cost model: every message read once per pass, pages counted, plans compared."""

from __future__ import annotations

import pytest

from carebird.cases.hours import BusinessHours, PollingPlan
from carebird.insights.apicost import cost_of_month, month_of_traffic

HOURS = BusinessHours.parse("Mon-Sat 08:00-22:00", "Europe/Paris")


@pytest.fixture(scope="module")
def week():  # type: ignore[no-untyped-def]
    return month_of_traffic(weekly=3_000, days=7)


def test_traffic_matches_the_weekly_volume(week) -> None:  # type: ignore[no-untyped-def]
    total = sum(len(t) for k, t in week.times.items() if k != "own")
    assert 2_700 <= total <= 3_300
    assert all(t == sorted(t) for t in week.times.values())


def test_reads_do_not_depend_on_the_pace_but_calls_do(week) -> None:  # type: ignore[no-untyped-def]
    fast = cost_of_month(week, plan=PollingPlan(15, 120, HOURS), name="f", reconcile_every=None)
    slow = cost_of_month(week, plan=PollingPlan(60, 900, HOURS), name="s", reconcile_every=None)
    public = len(week.times["mentions"]) + len(week.times["search"])
    assert fast.units["post_read"] == slow.units["post_read"] == public
    assert fast.units["owned_read"] == len(week.times["dm"]) + len(week.times["own"])
    assert sum(fast.calls.values()) > 2 * sum(slow.calls.values())
    # Open 84 h a week at 15 s, closed 84 h at 120 s: 20,160 + 2,520 polls per stream.
    assert fast.calls["mentions"] == pytest.approx(84 * 240 + 84 * 30, rel=0.02)


def test_reconciliation_reads_its_window_again(week) -> None:  # type: ignore[no-untyped-def]
    plan = PollingPlan(30, 300, HOURS)
    without = cost_of_month(week, plan=plan, name="a", reconcile_every=None)
    hourly = cost_of_month(week, plan=plan, name="b", reconcile_every=3600, reconcile_window=3600)
    extra = hourly.units["post_read"] - without.units["post_read"]
    assert extra == pytest.approx(len(week.times["mentions"]), rel=0.02)  # each mention once more
    assert hourly.cost > without.cost
    assert hourly.as_dict(cap=10.0)["share_of_cap"] == pytest.approx(hourly.cost / 10.0, abs=1e-3)
