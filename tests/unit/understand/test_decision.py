"""The category decision rule (asymmetric costs) and the reliability measures, on made-up
probabilities worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from carebird.understand.classifier import BuiltinClassifier, scores_from
from carebird.understand.decision import (
    ARGMAX,
    TARGET,
    Decision,
    choose,
    cost,
    decide,
    ece,
    rates,
    read_beside,
    reliability,
    scale,
)
from carebird.understand.labels import CATEGORIES, SENTIMENTS

LABELS = ["assistance", "complaint", "other"]


def test_other_needs_high_confidence_else_the_message_stays_in_the_queue() -> None:
    cat = np.array(
        [
            [0.30, 0.25, 0.45],  # other by arg-max, but unsure: next best support category
            [0.05, 0.05, 0.90],  # other, confidently
            [0.20, 0.39, 0.41],  # unsure other: complaint is the next best
            [0.70, 0.20, 0.10],  # not other at all: untouched
        ]
    )
    comp = np.zeros(4)
    rule = Decision(other_min=0.8)
    assert decide(LABELS, cat, comp, ARGMAX) == ["other", "other", "other", "assistance"]
    assert decide(LABELS, cat, comp, rule) == ["assistance", "other", "complaint", "assistance"]


def test_complaint_wins_past_its_threshold_even_over_a_confident_other() -> None:
    cat = np.array([[0.60, 0.30, 0.10], [0.60, 0.30, 0.10], [0.02, 0.03, 0.95]])
    comp = np.array([0.65, 0.55, 0.70])
    rule = Decision(other_min=0.8, complaint_min=0.6)
    assert decide(LABELS, cat, comp, rule) == ["complaint", "assistance", "complaint"]
    assert decide(LABELS, cat[:0], comp[:0], rule) == []


def test_the_rule_decides_in_every_scores_path() -> None:
    """`scores_from` (the classifier's and the plugins' path) and its per-row fallback apply
    the same rule; the probabilities themselves are left as they are."""
    cat_labels = list(CATEGORIES)
    row = dict.fromkeys(CATEGORIES, 0.05)
    row.update(other=0.45, assistance=0.3)
    cat = np.array([[row[c] for c in cat_labels]])
    sent = np.array([[0.2, 0.6, 0.2]])
    comp = np.array([0.1])
    rule = Decision(other_min=0.5, complaint_min=0.6)
    (plain,) = scores_from(cat_labels, cat, SENTIMENTS, sent, comp)
    (decided,) = scores_from(cat_labels, cat, SENTIMENTS, sent, comp, decision=rule)
    assert plain.category == "other" and decided.category == "assistance"
    assert decided.category_scores == plain.category_scores
    # A label set missing a category takes the per-row path: the same decision.
    short = [c for c in cat_labels if c != "praise"]
    cat_short = np.array([[row[c] for c in short]])
    (by_row,) = scores_from(short, cat_short, SENTIMENTS, sent, comp, decision=rule)
    assert by_row.category == "assistance"
    (won,) = scores_from(short, cat_short, SENTIMENTS, sent, np.array([0.7]), decision=rule)
    assert won.category == "complaint"


def test_ece_and_reliability_against_a_hand_worked_example() -> None:
    # Top confidences 0.95 (right), 0.95 (right), 0.95 (wrong), 0.35 (wrong).
    proba = np.array(
        [[0.95, 0.03, 0.02], [0.02, 0.95, 0.03], [0.95, 0.04, 0.01], [0.35, 0.33, 0.32]]
    )
    gold = np.array([0, 1, 2, 1])
    # bin 0.9-1.0: 3 rows, accuracy 2/3, confidence 0.95: |2/3 - 0.95| * 3/4 = 0.2125
    # bin 0.3-0.4: 1 row, accuracy 0, confidence 0.35: 0.35 * 1/4 = 0.0875
    assert ece(proba, gold) == pytest.approx(0.3)
    table = {row["bin"]: row for row in reliability(proba, gold)}
    assert table["0.9-1.0"] == {"bin": "0.9-1.0", "n": 3, "confidence": 0.95, "accuracy": 0.6667}
    assert table["0.3-0.4"]["n"] == 1 and table["0.3-0.4"]["accuracy"] == 0.0
    assert sum(row["n"] for row in table.values()) == 4
    perfect = np.eye(3)
    assert ece(perfect, np.arange(3)) == 0.0


def test_temperature_scaling_sharpens_below_one_and_keeps_the_ranking() -> None:
    p = np.array([[0.6, 0.3, 0.1]])
    sharp, flat = scale(p, 0.5), scale(p, 2.0)
    assert sharp[0, 0] > 0.6 > flat[0, 0]
    assert list(sharp.argmax(axis=1)) == list(flat.argmax(axis=1)) == [0]
    assert scale(p, 1.0) == pytest.approx(p)


def test_the_desk_rates_and_the_cost_of_errors() -> None:
    gold = ["complaint", "complaint", "assistance", "other"]
    pred = ["other", "complaint", "other", "assistance"]
    r = rates(gold, pred)
    assert r["missed_complaint_rate"] == 0.5 and r["accuracy"] == 0.25
    # complaint as other 10 + support as other 5 + noise left in the queue 1, over 4 messages
    assert cost(gold, pred) == pytest.approx(16 / 4)


def test_choose_keeps_missed_complaints_within_the_target() -> None:
    rng = np.random.default_rng(0)
    rows, gold = [], []
    for _ in range(200):  # complaints the model half-mistakes for noise
        p_other = rng.uniform(0.3, 0.75)
        rows.append([0.05, 1 - p_other - 0.05, p_other])
        gold.append("complaint")
    for _ in range(200):  # real noise, confidently
        rows.append([0.02, 0.03, 0.95])
        gold.append("other")
    cat = np.array(rows)
    comp = np.zeros(len(gold))
    rule = choose(LABELS, cat, comp, gold)
    assert rule.other_min >= 0.75  # above every complaint's P(other)
    assert rates(gold, decide(LABELS, cat, comp, rule))["missed_complaint_rate"] <= TARGET
    assert rates(gold, decide(LABELS, cat, comp, ARGMAX))["missed_complaint_rate"] > TARGET


def test_the_rule_is_read_from_the_json_description(tmp_path: Path) -> None:
    model = tmp_path / "m.joblib"
    assert read_beside(model) == ARGMAX  # no description: the plain arg-max
    model.with_suffix(".json").write_text(
        json.dumps({"format": 1, "decision": {"other_min": 0.8, "complaint_min": 0.55}})
    )
    assert read_beside(model) == Decision(other_min=0.8, complaint_min=0.55)
    model.with_suffix(".json").write_text("not json")
    assert read_beside(model) == ARGMAX


def test_the_shipped_classifier_applies_the_shipped_rule() -> None:
    """The shipped JSON description carries thresholds chosen by cross-validation (not the
    plain arg-max), and the classifier uses them."""
    from carebird.understand.defaults import SHIPPED

    stored = json.loads(SHIPPED.with_suffix(".json").read_text())["decision"]
    assert stored["chosen_on"].endswith("cross-validation over the training corpus")
    rule = BuiltinClassifier().decision()
    assert rule == Decision(stored["other_min"], stored["complaint_min"]) != ARGMAX
    assert rule.other_min >= 0.5


def test_the_shipped_thresholds_are_what_cross_validation_on_the_corpus_chooses() -> None:
    """`carebird train --corpus` is reproducible: the same folds, the same thresholds."""
    from carebird.understand.decision import calibrate
    from carebird.understand.defaults import SHIPPED, corpus_rows

    rows = corpus_rows()
    fresh = calibrate([r["text"] for r in rows], [r["category"] for r in rows])
    stored = json.loads(SHIPPED.with_suffix(".json").read_text())["decision"]
    assert (fresh["other_min"], fresh["complaint_min"]) == (
        stored["other_min"],
        stored["complaint_min"],
    )
    assert fresh["cv"]["rule"]["missed_complaint_rate"] <= TARGET


def test_training_a_category_model_stores_its_rule_in_the_description(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from carebird.cli.main import cli

    texts = {
        "complaint": "still no delivery for order {i}, nobody answers, useless service",
        "assistance": "hi, how do I change the address on order {i}? thanks",
        "other": "watching match number {i} at the pub with friends tonight lol",
    }
    csv_path = tmp_path / "labels.csv"
    lines = ["text,label"] + [f'"{t.format(i=i)}",{c}' for c, t in texts.items() for i in range(12)]
    csv_path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "cat.joblib"
    args = ["train", "--labels", str(csv_path), "--task", "category", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    stored = json.loads(out.with_suffix(".json").read_text())["decision"]
    assert 0.5 <= stored["other_min"] <= 0.95 and stored["complaint_min"] > 0
    assert stored["chosen_on"] == "5-fold cross-validation over the training corpus"
    assert BuiltinClassifier(model_path=out).decision() == read_beside(out) != ARGMAX
