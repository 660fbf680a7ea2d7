"""The accurate tier's decision rule: stored with its heads, chosen by cross-validation over
the corpus (never on the hand-labelled real messages), applied by every entry point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from carebird.understand.accurate import SHIPPED, AccurateClassifier
from carebird.understand.classifier import scores_from
from carebird.understand.decision import ARGMAX, TARGET, Decision
from carebird.understand.service import Understander

NOISE = "watching the match at the pub tonight with the lads, come on!"
COMPLAINT = "@SkyRailHelp my train was cancelled again and nobody had a clue, useless"


@pytest.fixture(scope="module")
def classifier() -> AccurateClassifier:
    return AccurateClassifier()


def _with_rule(tmp_path: Path, clf: AccurateClassifier, rule: dict[str, float]) -> Path:
    # A file per rule: a classifier reloads its heads when their file changes.
    path = tmp_path / f"heads-{len(list(tmp_path.glob('*.npz')))}.npz"
    clf.heads.save(path)
    description = json.loads(path.with_suffix(".json").read_text())
    description["decision"] = rule
    path.with_suffix(".json").write_text(json.dumps(description))
    return path


def test_the_shipped_heads_carry_a_rule_chosen_on_the_corpus(
    classifier: AccurateClassifier,
) -> None:
    stored = json.loads(SHIPPED.with_suffix(".json").read_text())["decision"]
    assert stored["chosen_on"].endswith("cross-validation over the training corpus")
    assert stored["cv"]["rule"]["missed_complaint_rate"] <= TARGET
    rule = classifier.decision()
    assert rule == Decision(stored["other_min"], stored["complaint_min"]) != ARGMAX


def test_the_stored_rule_decides_on_every_entry_point(
    tmp_path: Path, classifier: AccurateClassifier
) -> None:
    texts = [NOISE, COMPLAINT, "hi, how do I reset my password?"]
    plain = [s.category for s in classifier.classify(texts)]
    assert plain[0] == "other"  # the shipped rule keeps a clear `other`
    # complaint_min 0: complaint wins everywhere; other_min > 1: nothing is ever `other`.
    everything = AccurateClassifier(_with_rule(tmp_path, classifier, {"complaint_min": 0.0}))
    assert [s.category for s in everything.classify(texts)] == ["complaint"] * 3
    never_other = AccurateClassifier(_with_rule(tmp_path, classifier, {"other_min": 1.01}))
    found = never_other.classify(texts)
    assert found[0].category != "other" and found[0].category_scores["other"] > 0.5
    # The desk's understanding step (intake, the background re-read) goes through classify.
    assert [u.category for u in Understander(everything).analyse(texts)] == ["complaint"] * 3
    # The probabilities are untouched by the rule; only the category changes.
    a, b = classifier.probabilities(texts[:1]), never_other.probabilities(texts[:1])
    assert np.array_equal(a[1], b[1])


def test_the_rule_on_made_up_probabilities() -> None:
    labels = ["assistance", "complaint", "other", "praise", "question", "suggestion"]
    cat = np.array([[0.1, 0.1, 0.6, 0.1, 0.05, 0.05], [0.3, 0.2, 0.4, 0.1, 0.0, 0.0]])
    sent = np.array([[0.2, 0.6, 0.2], [0.2, 0.6, 0.2]])
    comp = np.array([0.1, 0.7])
    rule = Decision(other_min=0.55, complaint_min=0.65)
    found = scores_from(labels, cat, ["negative", "neutral", "positive"], sent, comp, decision=rule)
    assert [s.category for s in found] == ["other", "complaint"]


def test_the_shipped_thresholds_are_what_cross_validation_on_the_corpus_chooses(
    classifier: AccurateClassifier,
) -> None:
    """`carebird train-accurate` is reproducible: the same folds, the same thresholds."""
    from carebird.understand.accurate_rule import calibrate_accurate
    from carebird.understand.defaults import corpus_rows
    from carebird.understand.text import for_model

    rows = corpus_rows()
    emb = classifier.encoder.embed([for_model(r["text"]) for r in rows])
    fresh = calibrate_accurate([r["text"] for r in rows], [r["category"] for r in rows], emb=emb)
    stored = classifier.heads.meta["decision"]
    assert (fresh["other_min"], fresh["complaint_min"]) == (
        stored["other_min"],
        stored["complaint_min"],
    )
    assert fresh["cv"]["rule"]["missed_complaint_rate"] <= TARGET
