"""The accurate tier: offline, its shipped heads derived from the corpus, arrays only, hostile
input."""

from __future__ import annotations

import math
import socket
from pathlib import Path

import numpy as np
import pytest

from carebird.errors import InvalidInput
from carebird.understand import accurate
from carebird.understand.accurate import AccurateClassifier, AccurateHeads, train_accurate
from carebird.understand.classifier import load_classifier
from carebird.understand.defaults import corpus_rows
from carebird.understand.labels import CATEGORIES, SENTIMENTS
from carebird.understand.text import for_model
from tests.unit.understand.test_classifier import EXAMPLES

HOSTILE = [
    "",
    "   \n\t ",
    "😡😡😡🔥🔥",
    "a" * 100_000,
    "x " * 50_000,
    "\u202eémoji\u202c \u200b\u200d\u2066inversé\u2069\ufeff",
    "\x00\x01\x02",
    "🏳️‍🌈" * 5000,
]


@pytest.fixture(scope="module")
def classifier() -> AccurateClassifier:
    return AccurateClassifier()


def test_it_loads_and_classifies_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the accurate tier must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    found = load_classifier("accurate").classify([t for t, _ in EXAMPLES])
    assert [s.category for s in found] == [c for _, c in EXAMPLES]


def test_hostile_input_gets_valid_scores(classifier: AccurateClassifier) -> None:
    found = classifier.classify(HOSTILE)
    assert len(found) == len(HOSTILE)
    for s in found:
        assert s.category in CATEGORIES and s.sentiment in SENTIMENTS
        assert math.isclose(sum(s.category_scores.values()), 1.0, abs_tol=1e-6)
        assert math.isclose(sum(s.sentiment_scores.values()), 1.0, abs_tol=1e-6)
        assert 0.0 <= s.complaint <= 1.0
    assert classifier.classify([]) == []


def test_the_shipped_heads_are_what_the_corpus_trains(classifier: AccurateClassifier) -> None:
    """The artefact is derived from the project's own corpus and nothing else: trained again
    here, the heads take the same decisions (lbfgs may stop a little elsewhere on another
    BLAS build, hence >= 99 % rather than all)."""
    rows = corpus_rows()
    shipped = classifier.heads
    assert shipped.meta["corpus"] == accurate.corpus_digest(rows), (
        "the corpus changed: run `carebird train-accurate` to rebuild the shipped heads"
    )
    fresh = train_accurate(classifier.encoder)
    norm = [for_model(r["text"]) for r in rows] + [for_model(t) for t, _ in EXAMPLES]
    emb = classifier.encoder.embed(norm)
    for task in accurate.TASKS:
        assert shipped.labels[task] == fresh.labels[task]
        a = shipped.proba(task, shipped.tfidf().transform(norm), emb)
        b = fresh.proba(task, fresh.tfidf().transform(norm), emb)
        same = float((a.argmax(axis=1) == b.argmax(axis=1)).mean())
        assert same >= 0.99, (task, same)
        assert np.abs(a - b).max() < 0.1


def test_heads_files_hold_arrays_only(tmp_path: Path, classifier: AccurateClassifier) -> None:
    path = tmp_path / "heads.npz"
    classifier.heads.save(path)
    again = AccurateHeads.load(path)
    assert again.labels == classifier.heads.labels
    assert np.array_equal(again.coef["category"], classifier.heads.coef["category"])
    # An object array (which only pickle could read back) is refused, not unpickled.
    arrays = dict(np.load(path, allow_pickle=False))
    arrays["idf"] = np.array([object()], dtype=object)
    np.savez(path, **arrays)
    with pytest.raises(InvalidInput):
        AccurateHeads.load(path)
    with pytest.raises(InvalidInput):
        AccurateHeads.load(tmp_path / "missing.npz")
