"""The accurate tier's decision rule, chosen like the fast tier's: thresholds by
cross-validation over the project's corpus (never on the hand-labelled real messages), the
accurate recipe (USE-m3 embeddings beside the hashed TF-IDF → class-balanced logistic heads)
retrained on each fold, then `decision.choose` on the out-of-fold probabilities.

Each text is embedded once (the encoder is the slow part) and the embeddings are reused across
folds; embeddings of fixed data sets are cached under the user cache (`~/.cache/carebird`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from carebird.understand.accurate import (
    N_FEATURES,
    AccurateHeads,
    C,
    Encoder,
    _encoder_version,
    fit_heads,
    joined,
    train_accurate,
)
from carebird.understand.decision import COMPLAINT, FOLDS, chosen_from
from carebird.understand.defaults import corpus_rows
from carebird.understand.features import HashedTfidf
from carebird.understand.text import for_model


def _cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "carebird" / "use-m3"


def embed_cached(norm: Sequence[str], encoder: Encoder | None = None) -> np.ndarray:
    """Embeddings of normalised texts, read from the user cache when this exact list was
    embedded before by this encoder version (a cache that cannot be written is skipped)."""
    key = hashlib.sha256(
        "\x00".join([_encoder_version(), *norm]).encode("utf-8", "surrogatepass")
    ).hexdigest()
    path = _cache_dir() / f"{key}.npy"
    try:
        cached = np.load(path, allow_pickle=False)
        if cached.shape == (len(norm), 512):
            return np.asarray(cached, dtype=np.float32)
    except (OSError, ValueError):
        pass
    emb = (encoder or Encoder()).embed(norm)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{key}.{os.getpid()}.tmp.npy")
        np.save(tmp, emb, allow_pickle=False)
        tmp.replace(path)
    except OSError:
        pass
    return emb


def out_of_fold(
    norm: Sequence[str],
    emb: np.ndarray,
    targets: Mapping[str, Sequence[str]],
    *,
    stratify: Sequence[str],
    folds: int,
    c: float = C,
    balanced: bool = True,
) -> dict[str, tuple[list[str], np.ndarray]]:
    """Out-of-fold probabilities of the accurate recipe for each task (TF-IDF weights and
    heads fitted on each training fold; folds seeded): per task, its labels and matrix."""
    n = len(norm)
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train, test in skf.split(np.zeros(n), np.asarray(stratify)):
        tr = [norm[i] for i in train]
        features = HashedTfidf(n_features=N_FEATURES).fit(tr)
        ys = {t: [str(y[i]) for i in train] for t, y in targets.items()}
        labels, coef, intercept = fit_heads(
            joined(features, tr, emb[train]), ys, c=c, balanced=balanced
        )
        heads = AccurateHeads(features.idf_, labels, coef, intercept, {})
        te = [norm[i] for i in test]
        x = features.transform(te)
        for task in targets:
            all_labels = sorted({str(v) for v in targets[task]})
            if task not in out:
                out[task] = (all_labels, np.zeros((n, len(all_labels))))
            p = heads.proba(task, x, emb[test])
            cols = [labels[task].index(lab) if lab in labels[task] else -1 for lab in all_labels]
            block = np.zeros((len(test), len(all_labels)))
            for j, col in enumerate(cols):
                if col >= 0:
                    block[:, j] = p[:, col]
            out[task][1][test] = block
    return out


def calibrate_accurate(
    texts: Sequence[str],
    categories: Sequence[str],
    *,
    emb: np.ndarray | None = None,
    folds: int = FOLDS,
) -> dict[str, Any]:
    """The accurate tier's "decision" description: thresholds and calibration measures from
    `folds`-fold cross-validation of the accurate recipe over (texts, categories)."""
    norm = [for_model(t) for t in texts]
    if emb is None:
        emb = embed_cached(norm)
    folds = min(folds, min(list(categories).count(c) for c in set(categories)))
    targets = {
        "category": list(categories),
        "complaint": ["1" if c == COMPLAINT else "0" for c in categories],
    }
    oof = out_of_fold(norm, emb, targets, stratify=categories, folds=folds)
    labels, cat = oof["category"]
    comp_labels, comp = oof["complaint"]
    return chosen_from(labels, cat, comp[:, comp_labels.index("1")], categories, folds=folds)


def train_accurate_with_rule(encoder: Encoder | None = None) -> AccurateHeads:
    """`carebird train-accurate`: the heads on the corpus and, stored with them, the decision
    thresholds chosen by cross-validation over the same corpus (reproducible: seeded folds,
    one BLAS thread, the same embeddings)."""
    rows = corpus_rows()
    emb = embed_cached([for_model(r["text"]) for r in rows], encoder)
    heads = train_accurate(encoder, emb=emb)
    heads.meta["decision"] = calibrate_accurate(
        [r["text"] for r in rows], [r["category"] for r in rows], emb=emb
    )
    return heads
