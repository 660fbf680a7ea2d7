"""The understand stage: annotate inbound messages, then score the cases they touch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import starmap
from typing import Any, TypeGuard

from carebird.db.base import utcnow
from carebird.ingest.base import Direction, InboundItem
from carebird.understand.classifier import (
    BuiltinClassifier,
    Classifier,
    load_classifier,
    score_columns,
    scores_from,
)
from carebird.understand.cues import MAX_CUE_CHARS, find_cues, find_cues_lowered
from carebird.understand.language import detect, warm_up
from carebird.understand.pii import find_personal_data
from carebird.understand.text import MAX_MODEL_CHARS, for_model, for_model_lowered


@dataclass(frozen=True, slots=True)
class Understanding:
    language: str
    category: str
    category_scores: dict[str, float]
    sentiment: str
    sentiment_scores: dict[str, float]
    complaint: float
    cues: list[str]
    personal_data: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "category": self.category,
            "category_scores": {k: round(v, 4) for k, v in self.category_scores.items()},
            "sentiment": self.sentiment,
            "sentiment_scores": {k: round(v, 4) for k, v in self.sentiment_scores.items()},
            "complaint": round(self.complaint, 4),
            "cues": self.cues,
            "personal_data": self.personal_data,
        }


class Understander:
    """Everything the desk knows how to read in a text, for a batch of texts at once."""

    def __init__(self, classifier: Classifier | None = None) -> None:
        self.classifier = classifier or load_classifier("builtin")
        warm_up()  # the language model, loaded once per process
        if _is_builtin(self.classifier):
            _warm_up(self.classifier)

    def analyse(self, texts: Sequence[str]) -> list[Understanding]:
        if _is_builtin(self.classifier):
            return _analyse_builtin(self.classifier, texts)
        scores = self.classifier.classify(texts)
        return [
            _understanding(
                text,
                None,
                s.category,
                s.category_scores,
                s.sentiment,
                s.sentiment_scores,
                s.complaint,
            )
            for text, s in zip(texts, scores, strict=True)
        ]

    def columns(self, items: Sequence[InboundItem]) -> list[dict[str, Any]]:
        """Message columns for a batch (the store's `annotate` hook); ours are left alone."""
        inbound = [i for i, it in enumerate(items) if it.direction is Direction.IN]
        found = self.analyse([items[i].text for i in inbound])
        cols: list[dict[str, Any]] = [{} for _ in items]
        # Read by the accurate tier already: its background pass has nothing to add.
        accurate = {"accurate_at": utcnow()} if self.classifier.name == "accurate" else {}
        for i, u in zip(inbound, found, strict=True):
            cols[i] = {
                "language": items[i].language or u.language,  # the network's own tag wins
                "category": u.category,
                "category_scores": {k: round(v, 4) for k, v in u.category_scores.items()},
                "sentiment": u.sentiment,
                "cues": u.cues,
                "personal_data": u.personal_data,
                **accurate,
            }
        return cols


def _is_builtin(classifier: Classifier) -> TypeGuard[BuiltinClassifier]:
    """The built-in classifier, or a subclass that classifies the same way."""
    if not isinstance(classifier, BuiltinClassifier):
        return False
    cls = type(classifier)
    return (
        cls.classify is BuiltinClassifier.classify
        and cls.probabilities is BuiltinClassifier.probabilities
    )


def _warm_up(classifier: BuiltinClassifier) -> None:
    """Vectorise one text with each feature extractor, so that its lookup tables (built once
    per process, tens of milliseconds) are built while loading rather than in the first batch."""
    seen: set[int] = set()
    for head in classifier.model().heads.values():
        if id(head.features) not in seen:
            seen.add(id(head.features))
            head.features.transform([for_model("warm-up")])


# Texts this short are lower-cased once, for the model's normalisation and for the cues.
_SHARED_LOWER = min(MAX_MODEL_CHARS, MAX_CUE_CHARS)


def _analyse_builtin(classifier: BuiltinClassifier, texts: Sequence[str]) -> list[Understanding]:
    """`analyse` with the built-in classifier: the same result, with less work per text."""
    if not texts:
        return []
    lowered = [t.lower() if len(t) <= _SHARED_LOWER else None for t in texts]
    norm = [
        for_model(t) if low is None else for_model_lowered(low)
        for t, low in zip(texts, lowered, strict=True)
    ]
    probabilities = classifier.probabilities(norm)
    decision = classifier.decision()
    columns = score_columns(*probabilities, decision=decision)
    if columns is None:
        scores = scores_from(*probabilities, decision=decision)
        columns = (
            [s.category for s in scores],
            [s.category_scores for s in scores],
            [s.sentiment for s in scores],
            [s.sentiment_scores for s in scores],
            [s.complaint for s in scores],
        )
    return list(starmap(_understanding, zip(texts, lowered, *columns, strict=True)))


def _understanding(
    text: str,
    lowered: str | None,
    category: str,
    category_scores: dict[str, float],
    sentiment: str,
    sentiment_scores: dict[str, float],
    complaint: float,
) -> Understanding:
    """A text's Understanding from its scores and the rules; `lowered` is the text
    lower-cased if it is no longer than _SHARED_LOWER, else None (or None if not at hand)."""
    found = find_personal_data(text)
    return Understanding(  # positional (the fields in order): cheaper for a frozen dataclass
        detect(text),
        category,
        category_scores,
        sentiment,
        sentiment_scores,
        complaint,
        find_cues(text) if lowered is None else find_cues_lowered(lowered),
        [{"kind": f.kind, "start": f.start, "end": f.end} for f in found] if found else [],
    )
