"""Trainable text models: TF-IDF word and character n-grams into a logistic regression.

A model file holds one or more *heads* (category, sentiment, complaint), each a fitted
scikit-learn pipeline with its labels; it is written with joblib beside a JSON description.
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
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_union

from carebird.errors import InvalidInput
from carebird.understand.text import for_model

log = logging.getLogger(__name__)
FORMAT = 1


def build_pipeline(*, c: float = 6.0) -> Pipeline:
    features = make_union(
        TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_features=200_000, dtype=np.float32
        ),
        TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            sublinear_tf=True,
            min_df=2,
            max_features=300_000,
            dtype=np.float32,
        ),
    )
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    return Pipeline([("features", features), ("clf", clf)])


@dataclass
class Head:
    task: str
    labels: list[str]
    pipeline: Pipeline
    trained_on: str = ""
    examples: int = 0

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, columns in `self.labels` order, for already normalised texts."""
        p = self.pipeline.predict_proba(list(texts))
        order = [list(self.pipeline.classes_).index(lab) for lab in self.labels]
        return p[:, order]


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


def train_head(
    task: str,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    trained_on: str = "",
    c: float = 6.0,
) -> Head:
    if len(texts) != len(labels):
        raise InvalidInput("texts and labels differ in length")
    distinct = sorted(set(labels))
    if len(distinct) < 2:
        raise InvalidInput(f"training {task} needs at least two distinct labels")
    pipeline = build_pipeline(c=c)
    pipeline.fit([for_model(t) for t in texts], list(labels))
    return Head(
        task=task, labels=distinct, pipeline=pipeline, trained_on=trained_on, examples=len(texts)
    )


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
