"""The classifier extension point and the built-in TF-IDF classifier.

A classifier turns texts into category and sentiment scores. Classifiers register under the
`carebird.classifiers` entry point group (the built-in one too), so a heavier model — sentence
embeddings, a transformer — replaces the default by name without touching the pipeline.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from carebird.errors import InvalidInput
from carebird.plugins import CLASSIFIERS, load
from carebird.understand.decision import ARGMAX, Decision, decide, read_beside
from carebird.understand.defaults import default_decision, default_model
from carebird.understand.labels import CATEGORIES, SENTIMENTS
from carebird.understand.model import Head, TextModel, load_model
from carebird.understand.text import for_model

log = logging.getLogger(__name__)
GROUP = CLASSIFIERS


@dataclass(frozen=True, slots=True)
class TextScores:
    category: str
    category_scores: dict[str, float]
    sentiment: str
    sentiment_scores: dict[str, float]
    complaint: float  # probability that the text is a complaint


# (category labels, their probabilities, sentiment labels, theirs, complaint probability)
Probabilities = tuple[Sequence[str], np.ndarray, Sequence[str], np.ndarray, np.ndarray]
# TextScores field by field, one list per field (the fields in order), a row per text.
ScoreColumns = tuple[
    list[str], list[dict[str, float]], list[str], list[dict[str, float]], list[float]
]


@runtime_checkable
class Classifier(Protocol):
    name: str

    def classify(self, texts: Sequence[str]) -> list[TextScores]: ...


class BuiltinClassifier:
    """The shipped model, or a trained one given by path; reloaded when its file changes."""

    name = "builtin"

    def __init__(self, model_path: Path | None = None) -> None:
        self.model_path = model_path
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._decision = ARGMAX
        self._model = self._load()

    def _load(self) -> TextModel:
        base = default_model()
        if self.model_path is None:
            self._decision = default_decision()
            return base
        if not self.model_path.is_file():
            raise InvalidInput(
                f"model file {self.model_path} not found (train one with `carebird train --out …`)"
            )
        self._mtime = self.model_path.stat().st_mtime
        custom = load_model(self.model_path)
        # The rule stored with the custom model; a model without a category head of its
        # own keeps the default's (its thresholds were chosen for that head).
        stored = read_beside(self.model_path)
        if stored == ARGMAX and "category" not in custom.heads:
            stored = default_decision()
        self._decision = stored
        # Heads missing from a custom model (e.g. it only retrained sentiment) come from default.
        return TextModel(
            heads={**base.heads, **custom.heads},
            created_at=custom.created_at,
            extra={**base.extra, **custom.extra},  # the description's other keys, custom first
        )

    def model(self) -> TextModel:
        """The current model, reloading it if its file was replaced (no restart needed)."""
        if self.model_path is not None:
            try:
                mtime = self.model_path.stat().st_mtime
            except FileNotFoundError:
                return self._model
            if mtime != self._mtime:
                with self._lock:
                    if mtime != self._mtime:
                        log.info("reloading model %s", self.model_path)
                        try:
                            self._model = self._load()
                        except InvalidInput as exc:  # e.g. a pickle copied over it
                            self._mtime = mtime  # reported once, not at every batch
                            log.error("%s; keeping the model loaded before", exc)
        return self._model

    def decision(self) -> Decision:
        """The category decision rule of the current model (understand/decision.py)."""
        self.model()
        return self._decision

    def classify(self, texts: Sequence[str]) -> list[TextScores]:
        if not texts:
            return []
        probabilities = self.probabilities([for_model(t) for t in texts])
        return scores_from(*probabilities, decision=self.decision())

    def probabilities(self, norm: list[str]) -> Probabilities:
        """The arguments of `scores_from` for texts already normalised by `for_model`."""
        model = self.model()
        matrices: dict[int, object] = {}  # one vectorisation per distinct feature extractor

        def proba(head: Head) -> np.ndarray:
            key = id(head.features)
            if key not in matrices:
                matrices[key] = head.features.transform(norm)
            return head.proba_from(matrices[key])

        cat_head, sent_head = model.heads["category"], model.heads["sentiment"]
        cat = proba(cat_head)
        sent = proba(sent_head)
        comp_head = model.heads.get("complaint")
        comp = proba(comp_head)[:, comp_head.labels.index("1")] if comp_head else None
        ci = cat_head.labels.index("complaint")
        return (
            cat_head.labels,
            cat,
            sent_head.labels,
            sent,
            comp if comp is not None else cat[:, ci],
        )


def scores_from(
    cat_labels: Sequence[str],
    cat: np.ndarray,
    sent_labels: Sequence[str],
    sent: np.ndarray,
    complaint: np.ndarray,
    *,
    decision: Decision = ARGMAX,
) -> list[TextScores]:
    """TextScores from probability matrices (rows = texts, columns in the labels' order),
    each text's category chosen by `decision` (the plain arg-max by default)."""
    columns = score_columns(cat_labels, cat, sent_labels, sent, complaint, decision=decision)
    if columns is None:
        out = _scores_by_row(cat_labels, cat, sent_labels, sent, complaint)
        if decision != ARGMAX and out:
            chosen = decide(
                cat_labels, np.asarray(cat, dtype=float), np.asarray(complaint), decision
            )
            out = [replace(s, category=c) for s, c in zip(out, chosen, strict=True)]
        return out
    return list(map(TextScores, *columns))


def _scores_by_row(
    cat_labels: Sequence[str],
    cat: np.ndarray,
    sent_labels: Sequence[str],
    sent: np.ndarray,
    complaint: np.ndarray,
) -> list[TextScores]:
    out = []
    for crow, srow, comp in zip(cat.tolist(), sent.tolist(), complaint.tolist(), strict=True):
        cs = dict(zip(cat_labels, crow, strict=True))
        ss = dict(zip(sent_labels, srow, strict=True))
        out.append(
            TextScores(
                category=max(cs, key=cs.__getitem__),
                category_scores={c: cs.get(c, 0.0) for c in CATEGORIES},
                sentiment=max(ss, key=ss.__getitem__),
                sentiment_scores={s: ss.get(s, 0.0) for s in SENTIMENTS},
                complaint=comp,
            )
        )
    return out


def score_columns(
    cat_labels: Sequence[str],
    cat: Any,
    sent_labels: Sequence[str],
    sent: Any,
    complaint: Any,
    *,
    decision: Decision = ARGMAX,
) -> ScoreColumns | None:
    """What `scores_from` returns, as columns, with the arg-max and the column order done by
    numpy for the whole batch: when that gives exactly the same values, i.e. float matrices
    with one column per label, every label set complete and without repeats, no NaN (where
    max() and argmax() disagree), the same number of rows. None otherwise (the per-row
    version handles, or rejects, the rest).
    """
    matrices = (cat, sent, complaint)
    if not all(isinstance(m, np.ndarray) and m.dtype.kind == "f" for m in matrices):
        return None
    if cat.ndim != 2 or sent.ndim != 2 or complaint.ndim != 1:
        return None
    n = cat.shape[0]
    if sent.shape[0] != n or complaint.shape[0] != n:
        return None
    columns = []
    for labels, probs, names in ((cat_labels, cat, CATEGORIES), (sent_labels, sent, SENTIMENTS)):
        labels = list(labels)
        if probs.shape[1] != len(labels) or len(set(labels)) != len(labels):
            return None
        if set(labels) != set(names) or np.isnan(probs).any():
            return None
        best = probs.argmax(axis=1).tolist() if n else []
        ordered = probs[:, [labels.index(name) for name in names]].tolist()
        columns.append(
            ([labels[i] for i in best], [dict(zip(names, r, strict=True)) for r in ordered])
        )
    (categories, cat_scores), (sentiments, sent_scores) = columns
    if decision != ARGMAX:
        categories = decide(cat_labels, cat, complaint, decision)
    return categories, cat_scores, sentiments, sent_scores, complaint.tolist()


def load_classifier(name: str = "builtin", *, model_path: Path | None = None) -> Classifier:
    """The classifier registered as `name`, built with the given model path."""
    cls = load(GROUP, name, kind="classifier")
    return cls(model_path=model_path)  # type: ignore[no-any-return]
