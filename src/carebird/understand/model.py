"""Trainable text models: hashed word and character n-grams into NB-weighted logistic regressions.

A model file holds one or more *heads* (category, sentiment, complaint), each a logistic
regression over a fitted feature extractor; heads trained together share one extractor, so a
text is vectorised once for all of them. Files hold arrays and JSON only (`model_store`):
loading a model can never run code.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from carebird.errors import InvalidInput
from carebird.understand.features import HashedTfidf
from carebird.understand.text import for_model

log = logging.getLogger(__name__)
FORMAT = 2  # 1: a joblib pickle (refused; `carebird convert-model`)


def build_features() -> Any:
    """Hashed word 1-2-grams and character 2-5-grams with TF-IDF, vectorised over a batch."""
    return HashedTfidf(n_features=2**16)  # per block; wider costs training time, not accuracy


def build_classifier(*, c: float = 6.0) -> LogisticRegression:
    """Logistic regression over TF-IDF values (used by the embeddings classifier, whose rows
    hold dense embedding columns that must not be binarised)."""
    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced")


NB_C = 0.3  # NB-LR regularisation, fixed a priori (Wang & Manning's range); 0.1-1 tie
LR_C = 6.0


def build_head_classifier(labels: Sequence[str], *, c: float | None = None) -> Any:
    """A head's classifier: NB-LR for a yes/no task, a logistic regression for several classes.

    NB-LR (naive-Bayes-weighted features) detects complaints better (10-fold macro-F1 0.821 vs
    0.807 on complaints-acl2019), but for the six categories it fits the project's own corpus
    so closely that it transfers worse to real messages (accuracy 0.45 vs 0.62 on the 600
    hand-labelled ones), so the multi-class heads keep the plain regression.
    """
    if len(set(labels)) == 2:
        return NBLogisticRegression(c=NB_C if c is None else c)
    return build_classifier(c=LR_C if c is None else c)


class NBLogisticRegression(ClassifierMixin, BaseEstimator):
    """NB-LR (Wang & Manning 2012, "NBSVM" with a logistic loss) over binarised features.

    For each class (the positive class of a binary task), every feature present in a text
    counts 1 (TF-IDF values are ignored, only presence); it is scaled by the naive-Bayes
    log-count ratio ``r = log(p / |p|_1) - log(q / |q|_1)``, p and q being the feature's
    document counts in and out of the class plus `alpha`, and a class-balanced logistic
    regression is fitted one-vs-rest on the scaled rows. The ratios are folded into
    `coef_` after fitting, so prediction is one sparse product with binarised rows, as cheap
    as a plain logistic regression, and the model is no larger (float32 coefficients).
    Multi-class probabilities are the one-vs-rest sigmoids normalised to sum to one.
    """

    def __init__(
        self,
        c: float = NB_C,
        alpha: float = 1.0,
        class_weight: str | None = "balanced",
        max_iter: int = 3000,
    ) -> None:
        self.c = c
        self.alpha = alpha
        self.class_weight = class_weight
        self.max_iter = max_iter

    @staticmethod
    def _binary(x: Any) -> sp.csr_matrix:
        x = sp.csr_matrix(x, dtype=np.float32, copy=True)
        x.eliminate_zeros()
        x.data[:] = 1.0
        return x

    def fit(self, x: Any, y: Sequence[str] | np.ndarray) -> NBLogisticRegression:
        xb = self._binary(x)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if self.classes_.shape[0] < 2:
            raise InvalidInput("NB-LR needs at least two classes")
        targets = self.classes_[1:] if self.classes_.shape[0] == 2 else self.classes_
        coefs, intercepts = [], []
        for target in targets:
            pos = y == target
            p = np.asarray(xb[pos].sum(axis=0)).ravel() + self.alpha
            q = np.asarray(xb[~pos].sum(axis=0)).ravel() + self.alpha
            r = (np.log(p / p.sum()) - np.log(q / q.sum())).astype(np.float32)
            lr = LogisticRegression(
                C=self.c, max_iter=self.max_iter, class_weight=self.class_weight
            ).fit(xb @ sp.diags(r), pos.astype(int))
            coefs.append(lr.coef_[0] * r)
            intercepts.append(lr.intercept_[0])
        self.coef_ = np.array(coefs, dtype=np.float32)  # as LogisticRegression on float32 rows
        self.intercept_ = np.array(intercepts)
        return self

    def decision_function(self, x: Any) -> np.ndarray:
        scores = np.asarray(self._binary(x) @ self.coef_.T) + self.intercept_
        # numpy types a sliced array as Any: name the result's type.
        out: np.ndarray = scores[:, 0] if self.classes_.shape[0] == 2 else scores
        return out

    def predict_proba(self, x: Any) -> np.ndarray:
        scores = self._binary(x) @ self.coef_.T + self.intercept_
        p = 1.0 / (1.0 + np.exp(-np.asarray(scores)))
        out: np.ndarray
        if self.classes_.shape[0] == 2:
            out = np.column_stack([1.0 - p[:, 0], p[:, 0]])
        else:
            out = p / p.sum(axis=1, keepdims=True)
        return out

    def predict(self, x: Any) -> np.ndarray:
        labels: np.ndarray = self.classes_[self.predict_proba(x).argmax(axis=1)]
        return labels


@dataclass
class Head:
    """One task's classifier over a (possibly shared) fitted feature extractor."""

    task: str
    labels: list[str]
    features: Any
    clf: Any  # NBLogisticRegression (or LogisticRegression in older model files)
    trained_on: str = ""
    examples: int = 0

    def proba_from(self, x: Any) -> np.ndarray:
        """Probabilities for a feature matrix, columns in `self.labels` order."""
        p: np.ndarray = self.clf.predict_proba(x)  # `clf` is an untyped scikit-learn estimator
        order = [list(self.clf.classes_).index(lab) for lab in self.labels]
        out: np.ndarray = p[:, order]
        return out

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities for already normalised texts."""
        return self.proba_from(self.features.transform(list(texts)))


@dataclass
class TextModel:
    heads: dict[str, Head] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    # The category decision rule's thresholds (understand/decision.py), chosen by `carebird
    # train`; read back from the JSON description. None: the plain arg-max.
    decision: dict[str, Any] | None = None
    # More keys of the JSON description (e.g. decision thresholds): saved and loaded as they are.
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            **self.extra,
            "format": FORMAT,
            "sklearn": sklearn.__version__,
            "created_at": self.created_at,
            "heads": {
                t: {"labels": h.labels, "trained_on": h.trained_on, "examples": h.examples}
                for t, h in self.heads.items()
            },
            **({"decision": self.decision} if self.decision is not None else {}),
        }

    def save(self, path: Path) -> None:
        """Arrays and JSON in `path` (atomically), the JSON description beside it."""
        from carebird.understand.model_store import save_model

        save_model(self, path)


def train_heads(
    texts: Sequence[str],
    tasks: Mapping[str, Sequence[str]],
    *,
    trained_on: str = "",
    c: float | None = None,
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
        # One BLAS thread: the solver's sums then run in one order on every machine, so
        # the same corpus gives the same model whatever the core count (the shipped
        # artefact is checked against a fresh training).
        with threadpool_limits(limits=1):
            clf = build_head_classifier(labels, c=c).fit(x, list(labels))
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
    c: float | None = None,
) -> Head:
    return train_heads(texts, {task: labels}, trained_on=trained_on, c=c)[task]


def load_model(path: Path) -> TextModel:
    """Load a model file (arrays and JSON); refuse pickles and anything else."""
    from carebird.understand.model_store import load_model as load

    return load(path)
