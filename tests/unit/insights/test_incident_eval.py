"""The incidents' evaluation: its scoring, and the figures on the simulator and on Free's
hand-labelled days (tests/data/incident_labels.csv), the busy non-outage day kept out."""

from __future__ import annotations

import csv
from pathlib import Path

from carebird.insights.incident_eval import free_mobile, score, simulated
from carebird.understand.service import Understander
from tests.support.shared import shared_data

LABELS = Path(__file__).resolve().parents[2] / "data" / "incident_labels.csv"


def test_score_counts_messages_and_pairs() -> None:
    truth = {"a": "X", "b": "X", "c": "X", "d": None, "e": None}
    predicted = {"a": 1, "b": 1, "d": 1, "e": None}
    out = score(predicted, truth)
    assert out["precision"] == round(2 / 3, 3) and out["recall"] == round(2 / 3, 3)
    assert out["pair_precision"] == round(1 / 3, 3)  # (a,b) of (a,b) (a,d) (b,d)
    assert out["pair_recall"] == round(1 / 3, 3)  # (a,b) of (a,b) (a,c) (b,c)
    assert score({}, truth)["precision"] is None


def test_labels_cover_whole_days_keyed_by_tweet_id() -> None:
    with LABELS.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    days = {r["day"] for r in rows}
    assert {"2024-09-10", "2024-10-02", "2024-10-22"} <= days
    assert len({r["tweet_id"] for r in rows}) == len(rows)
    assert len({r["incident"] for r in rows if r["incident"]}) >= 5


def test_free_mobile_bursts_are_grouped_and_the_busy_ordinary_day_stays_out(
    tmp_path: Path,
) -> None:
    data = shared_data("free-mobile-tweets-fr/free_tweet_export.csv").parents[1]
    out = free_mobile(data, LABELS, Understander())
    assert out["precision"] is not None and out["precision"] >= 0.9
    assert out["recall"] >= 0.2 and out["detected_incidents"] >= 4
    quiet = free_mobile_day(data, "2024-09-10", tmp_path)
    assert quiet == 0  # 46 tweets, none an outage: nothing grouped


def free_mobile_day(data: Path, day: str, tmp_path: Path) -> int:
    """Messages of `day` put in an incident (all its labels are 'none')."""
    one_day = tmp_path / f"labels_{day}.csv"
    with LABELS.open(encoding="utf-8", newline="") as f, one_day.open("w", newline="") as g:
        rows = [r for r in csv.DictReader(f) if r["day"] == day]
        writer = csv.DictWriter(g, fieldnames=["tweet_id", "day", "incident"])
        writer.writeheader()
        writer.writerows(rows)
    assert rows and not any(r["incident"] for r in rows)
    return int(free_mobile(data, one_day, Understander())["grouped_messages"])


def test_the_simulators_incidents_are_found() -> None:
    out = simulated(Understander(), seed=11, messages=8000)
    assert out["true_incidents"] >= 5
    assert out["precision"] >= 0.85 and out["recall"] >= 0.85
