"""Trainable text models: hashed TF-IDF word and character n-grams into a logistic regression.

A model file holds one or more *heads* (category, sentiment, complaint), each a logistic
regression over a fitted feature extractor; heads trained together share one extractor, so a
text is vectorised once for all of them. Written with joblib beside a JSON description.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

from carebird.errors import InvalidInput
from carebird.understand.features import HashedTfidf
from carebird.understand.text import for_model

log = logging.getLogger(__name__)
FORMAT = 1


def build_features() -> Any:
    """Hashed word 1-2-grams and character 2-5-grams with TF-IDF, vectorised over a batch."""
    return HashedTfidf(n_features=2**16)  # per block; wider costs training time, not accuracy


def build_classifier(*, c: float = 6.0) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced")


@dataclass
class Head:
    """One task's classifier over a (possibly shared) fitted feature extractor."""

    task: str
    labels: list[str]
    features: Any
    clf: LogisticRegression
    trained_on: str = ""
    examples: int = 0

    def proba_from(self, x: Any) -> np.ndarray:
        """Probabilities for a feature matrix, columns in `self.labels` order."""
        p = self.clf.predict_proba(x)
        order = [list(self.clf.classes_).index(lab) for lab in self.labels]
        return p[:, order]

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities for already normalised texts."""
        return self.proba_from(self.features.transform(list(texts)))


@dataclass
class TextModel:
    heads: dict[str, Head] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def describe(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "sklearn": sklearn.__version__,
            "created_at": self.created_at,
            "heads": {
                t: {"labels": h.labels, "trained_on": h.trained_on, "examples": h.examples}
                for t, h in self.heads.items()
            },
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        joblib.dump(
            {"format": FORMAT, "sklearn": sklearn.__version__, "model": self}, tmp, compress=3
        )
        tmp.replace(path)  # atomic: a desk watching the file never reads half of it
        path.with_suffix(".json").write_text(json.dumps(self.describe(), indent=2))


def train_heads(
    texts: Sequence[str],
    tasks: dict[str, Sequence[str]],
    *,
    trained_on: str = "",
    c: float = 6.0,
) -> dict[str, Head]:
    """Fit the features once on `texts`, then one classifier per task on them."""
    for task, labels in tasks.items():
        if len(texts) != len(labels):
            raise InvalidInput(f"{task}: texts and labels differ in length")
        if len(set(labels)) < 2:
            raise InvalidInput(f"training {task} needs at least two distinct labels")
    features = build_features()
    x = features.fit_transform([for_model(t) for t in texts])
    heads = {}
    for task, labels in tasks.items():
        clf = build_classifier(c=c).fit(x, list(labels))
        heads[task] = Head(
            task=task,
            labels=sorted(set(labels)),
            features=features,
            clf=clf,
            trained_on=trained_on,
            examples=len(texts),
        )
    return heads


def train_head(
    task: str,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    trained_on: str = "",
    c: float = 6.0,
) -> Head:
    return train_heads(texts, {task: labels}, trained_on=trained_on, c=c)[task]


def load_model(path: Path) -> TextModel:
    """Load a model file; refuse files of another format or scikit-learn version."""
    import warnings

    with warnings.catch_warnings():
        # A version mismatch is reported by us below as a clear error, not as a warning.
        warnings.simplefilter("ignore")
        data = joblib.load(path)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInput(f"{path} is not a carebird model file")
    if data.get("sklearn") != sklearn.__version__:
        raise InvalidInput(
            f"{path} was trained with scikit-learn {data.get('sklearn')}, "
            f"this is {sklearn.__version__}: retrain it with `carebird train`"
        )
    model = data["model"]
    if not isinstance(model, TextModel):
        raise InvalidInput(f"{path} holds no carebird model")
    return model
