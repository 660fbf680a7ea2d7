"""`carebird eval suggestions` and `carebird bench suggestions` run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.processes import run_cli
from tests.support.shared import shared_data

# The figures of the shipped ranking on twcs-head5k (deterministic: no randomness anywhere).
ROOT = Path(__file__).resolve().parents[2]  # the eval group checks its own defaults from here
EXPECTED = {"top1_token_f1": 0.1796, "top3_best_token_f1": 0.2376}


def test_eval_suggestions_beats_both_baselines() -> None:
    data = shared_data("twcs-head5k/twcs.csv").parents[1]
    out = run_cli({}, ROOT, "eval", "suggestions", "--data", str(data), "--json")
    figures = json.loads(out)
    assert figures["pairs"] == 1794  # inbound tweets answered by a brand with 5+ earlier replies
    for name, value in EXPECTED.items():
        assert figures[name] == pytest.approx(value, abs=0.01), name
    baselines = figures["baseline_random_token_f1"], figures["baseline_most_frequent_token_f1"]
    assert figures["top1_token_f1"] > max(baselines) + 0.01
    assert figures["top3_best_token_f1"] > figures["top1_token_f1"]
    assert figures["oracle_token_f1"] > figures["top3_best_token_f1"]  # the upper bound


def test_bench_suggestions_ranks_a_case_well_under_50_ms(tmp_path: Path) -> None:
    data = shared_data("twcs-head5k/twcs.csv").parents[1]
    out = run_cli(
        {}, tmp_path, "bench", "suggestions", "--data", str(data), "--cases", "60", "--json"
    )
    figures = json.loads(out)
    assert figures["history"] == 20_000 and figures["cases"] == 60
    assert figures["median_ms"] < 50  # typically ~5 ms; generous for a loaded machine
