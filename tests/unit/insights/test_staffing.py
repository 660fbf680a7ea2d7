"""Erlang C staffing against the textbook case and an independent summation formula."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from carebird.errors import InvalidInput
from carebird.insights.staffing import concurrent_bound, erlang_c, plan


def reference_erlang_c(n: int, a: float) -> float:
    """The textbook formula with its sum of powers over factorials."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize(("n", "a"), [(14, 10.0), (3, 2.5), (30, 21.7), (1, 0.2)])
def test_erlang_c_matches_the_summation_formula(n: int, a: float) -> None:
    assert erlang_c(n, a) == pytest.approx(reference_erlang_c(n, a), rel=1e-9)


def test_the_textbook_case() -> None:
    # 100 contacts in 30 min, 180 s each, 80 % within 20 s: 10 erlangs.
    got = plan(arrivals=100, interval_minutes=30, handle_seconds=180,
               answer_within_seconds=20, service_level_target=0.8, shrinkage=0.3)  # fmt: skip
    assert (got.agents, got.scheduled) == (14, 20)
    assert got.service_level == pytest.approx(0.888, abs=0.001)
    assert got.average_wait_seconds == pytest.approx(7.8, abs=0.05)
    assert got.occupancy == pytest.approx(10 / 14)
    # 13 agents would not do: the answer is the fewest that meet the target.
    fewer = plan(arrivals=100, interval_minutes=30, handle_seconds=180,
                 answer_within_seconds=20, service_level_target=0.7)  # fmt: skip
    assert fewer.agents == 13 and fewer.service_level < 0.8


def test_no_traffic_needs_nobody_and_asynchronous_work_needs_fewer() -> None:
    none = plan(arrivals=0, interval_minutes=60, handle_seconds=300,
                answer_within_seconds=3600, service_level_target=0.9)  # fmt: skip
    assert none.agents == 0 and none.scheduled == 0
    assert concurrent_bound(10.0, concurrency=3, max_occupancy=0.85) == 4


@pytest.mark.parametrize(
    "bad",
    [
        {"service_level_target": 1.0},
        {"shrinkage": 1.0},
        {"handle_seconds": 0},
        {"interval_minutes": float("nan")},
        {"arrivals": -1},
        {"arrivals": 1e12},
    ],
)
def test_bad_inputs_are_clear_errors(bad: dict[str, float]) -> None:
    args = {"arrivals": 100, "interval_minutes": 30, "handle_seconds": 180,
            "answer_within_seconds": 20, "service_level_target": 0.8, **bad}  # fmt: skip
    with pytest.raises(InvalidInput):
        plan(**args)


def test_the_command_prints_the_plan_as_json() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "carebird", "staffing", "--arrivals", "100",
         "--interval-minutes", "30", "--handle-seconds", "180", "--answer-within-seconds",
         "20", "--service-level", "0.8", "--shrinkage", "0.3", "--concurrency", "3", "--json"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    out = json.loads(done.stdout)
    assert (out["agents"], out["scheduled"], out["concurrent_agents"]) == (14, 20, 4)
    assert {"service_level", "average_wait_seconds", "occupancy"} <= set(out)
    refused = subprocess.run(
        [sys.executable, "-m", "carebird", "staffing", "--arrivals", "100",
         "--handle-seconds", "180", "--answer-within-seconds", "20", "--service-level", "2"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2 and "service level" in refused.stderr
