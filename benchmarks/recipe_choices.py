"""How far the accurate recipe's own choices move the two recipe figures of issue 12:
complaints-acl2019 (10-fold CV macro-F1, aim >= 0.86) and XLM-T French sentiment (trained on
its train split, macro-F1 on its validation split, aim >= 0.70).

For each (embedding weight W, regularisation C) of a small grid: the acl2019 10-fold figure
(and the same averaged with the fast tier's NB-LR complaint head), and for French sentiment
the 5-fold CV figure on the train split (what a recipe may choose by) beside the validation
figure. The grid's best validation figure bounds what any choice by inner CV could reach.

    .venv/bin/python -m benchmarks.recipe_choices [--data ../shared/data]

Prints one JSON object (a few minutes once the embeddings are cached).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from carebird.understand.accurate import N_FEATURES
from carebird.understand.accurate_rule import embed_cached
from carebird.understand.evaluate import complaints_rows
from carebird.understand.evaluate_accurate import _sentiment_set
from carebird.understand.features import HashedTfidf
from carebird.understand.model import NBLogisticRegression
from carebird.understand.text import for_model

GRID = tuple((w, c) for w in (0.5, 1.0, 2.0) for c in (1.5, 3.0, 6.0, 12.0))


def _fit_predict(
    tr: list[str],
    tr_emb: np.ndarray,
    y: np.ndarray,
    te: list[str],
    te_emb: np.ndarray,
    w: float,
    c: float,
) -> np.ndarray:
    features = HashedTfidf(n_features=N_FEATURES).fit(tr)
    x = sp.hstack([features.transform(tr), sp.csr_matrix(w * tr_emb)]).tocsr()
    xt = sp.hstack([features.transform(te), sp.csr_matrix(w * te_emb)]).tocsr()
    with threadpool_limits(limits=1):
        lr = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, y)
    out: np.ndarray = lr.predict_proba(xt)
    return out


def acl(data: Path) -> dict[str, Any]:
    texts, y = complaints_rows(data)
    norm = [for_model(t) for t in texts]
    emb = embed_cached(norm)
    oof = {g: np.zeros(len(y)) for g in GRID}
    nb = np.zeros(len(y))
    for train, test in StratifiedKFold(10, shuffle=True, random_state=0).split(norm, y):
        tr, te = [norm[i] for i in train], [norm[i] for i in test]
        for g in GRID:
            oof[g][test] = _fit_predict(tr, emb[train], y[train], te, emb[test], *g)[:, 1]
        features = HashedTfidf(n_features=N_FEATURES).fit(tr)
        with threadpool_limits(limits=1):
            head = NBLogisticRegression().fit(features.transform(tr), y[train])
        nb[test] = head.predict_proba(features.transform(te))[:, 1]

    def f1(p: np.ndarray) -> float:
        return round(float(f1_score(y, (p >= 0.5).astype(int), average="macro")), 4)

    return {
        f"W={w} C={c}": {
            "cv10_macro_f1": f1(oof[(w, c)]),
            "averaged_with_nb_lr": f1((oof[(w, c)] + nb) / 2),
        }
        for w, c in GRID
    }


def french_sentiment(data: Path) -> dict[str, Any]:
    folder = data / "xlmt-french-sentiment"
    tr, tr_y = _sentiment_set(folder, "train")
    va, va_y = _sentiment_set(folder, "val")
    y, tr_emb, va_emb = np.array(tr_y), embed_cached(tr), embed_cached(va)
    out: dict[str, Any] = {}
    for w, c in GRID:
        pred = np.empty(len(y), dtype=object)
        for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(tr, y):
            p = _fit_predict(
                [tr[i] for i in train],
                tr_emb[train],
                y[train],
                [tr[i] for i in test],
                tr_emb[test],
                w,
                c,
            )
            pred[test] = np.sort(np.unique(y[train]))[p.argmax(axis=1)]
        labels = np.sort(np.unique(y))
        val = labels[_fit_predict(tr, tr_emb, y, va, va_emb, w, c).argmax(axis=1)]
        out[f"W={w} C={c}"] = {
            "train_cv5_macro_f1": round(float(f1_score(y, pred.astype(str), average="macro")), 4),
            "val_macro_f1": round(float(f1_score(va_y, val, average="macro")), 4),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    result = {
        "complaints_acl2019": acl(args.data),
        "xlmt_french_sentiment": french_sentiment(args.data),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
