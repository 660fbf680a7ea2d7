"""Cheap choices for the accurate tier, each chosen or rejected on the project's corpus by
5-fold cross-validation, and only then measured on the 600 hand-labelled real messages:
the regularisation C of the accurate heads, and averaging the fast and accurate tiers'
probabilities. Every variant gets its own decision thresholds from its own out-of-fold
probabilities (`decision.chosen_from`), never from the real labels.

    .venv/bin/python -m benchmarks.tier_choices [--data ../shared/data]

Prints one JSON object: per variant, the corpus CV figures under its rule and the figures on
the 600 real messages under that rule.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, log_loss

from benchmarks.tiers import hand_labelled
from carebird.understand.accurate import N_FEATURES, AccurateHeads, fit_heads, joined
from carebird.understand.accurate_rule import embed_cached, out_of_fold
from carebird.understand.classifier import BuiltinClassifier
from carebird.understand.decision import Decision, chosen_from, cross_validated, decide, rates
from carebird.understand.defaults import corpus_rows
from carebird.understand.features import HashedTfidf
from carebird.understand.labels import CATEGORIES
from carebird.understand.text import for_model

GRID = (1.5, 3.0, 6.0, 12.0)
ONLY_WEIGHTS = False  # set by --class-weights: only balanced against unweighted, C = 6


def _aligned(labels: list[str], cat: np.ndarray, order: list[str]) -> np.ndarray:
    return cat[:, [list(labels).index(c) for c in order]]


def _real(
    order: list[str], cat: np.ndarray, comp: np.ndarray, rule: dict[str, Any], gold: list[str]
) -> dict[str, Any]:
    pred = decide(order, cat, comp, Decision(rule["other_min"], rule["complaint_min"]))
    return {
        **rates(gold, pred),
        "macro_f1": round(
            float(f1_score(gold, pred, labels=list(CATEGORIES), average="macro", zero_division=0)),
            4,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument(
        "--class-weights", action="store_true", help="Only: C=6 with and without class weights."
    )
    args = parser.parse_args()
    if args.class_weights:
        return class_weights(args.data)
    rows = corpus_rows()
    texts, cats = [r["text"] for r in rows], [r["category"] for r in rows]
    norm = [for_model(t) for t in texts]
    emb = embed_cached(norm)
    order = sorted(set(cats))
    gold_idx = np.array([order.index(c) for c in cats])
    real_texts, gold = hand_labelled(args.data)
    real_norm = [for_model(t) for t in real_texts]
    real_emb = embed_cached(real_norm)
    targets = {"category": cats, "complaint": ["1" if c == "complaint" else "0" for c in cats]}
    features = HashedTfidf(n_features=N_FEATURES).fit(norm)
    x_all, x_real = joined(features, norm, emb), features.transform(real_norm)
    out: dict[str, Any] = {}
    oof_acc: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    real_acc: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    for c in GRID:
        oof = out_of_fold(norm, emb, targets, stratify=cats, folds=5, c=c)
        cat = _aligned(*oof["category"], order)
        comp = oof["complaint"][1][:, oof["complaint"][0].index("1")]
        oof_acc[c] = (cat, comp)
        labels, coef, intercept = fit_heads(x_all, targets, c=c)
        heads = AccurateHeads(features.idf_, labels, coef, intercept, {})
        rc = _aligned(labels["category"], heads.proba("category", x_real, real_emb), order)
        rp = heads.proba("complaint", x_real, real_emb)[:, labels["complaint"].index("1")]
        real_acc[c] = (rc, rp)
        rule = chosen_from(order, cat, comp, cats, folds=5)
        out[f"accurate_C{c}"] = {
            "corpus_cv_log_loss": round(float(log_loss(gold_idx, cat)), 4),
            "corpus_cv_rule": rule["cv"]["rule"],
            "thresholds": [rule["other_min"], rule["complaint_min"]],
            "real_600": _real(order, rc, rp, rule, gold),
        }
    labels_f, cat_f, comp_f = cross_validated(texts, cats, folds=5)
    cat_f = _aligned(labels_f, cat_f, order)
    fast = BuiltinClassifier()
    fl, fc, _, _, fp = fast.probabilities(real_norm)
    fc = _aligned(list(fl), fc, order)
    rule = chosen_from(order, cat_f, comp_f, cats, folds=5)
    out["fast"] = {
        "corpus_cv_log_loss": round(float(log_loss(gold_idx, cat_f)), 4),
        "corpus_cv_rule": rule["cv"]["rule"],
        "thresholds": [rule["other_min"], rule["complaint_min"]],
        "real_600": _real(order, fc, fp, rule, gold),
    }
    for c in GRID:
        cat = (cat_f + oof_acc[c][0]) / 2
        comp = (comp_f + oof_acc[c][1]) / 2
        rule = chosen_from(order, cat, comp, cats, folds=5)
        out[f"mean_fast_accurate_C{c}"] = {
            "corpus_cv_log_loss": round(float(log_loss(gold_idx, cat)), 4),
            "corpus_cv_rule": rule["cv"]["rule"],
            "thresholds": [rule["other_min"], rule["complaint_min"]],
            "real_600": _real(
                order, (fc + real_acc[c][0]) / 2, (fp + real_acc[c][1]) / 2, rule, gold
            ),
        }
    print(json.dumps(out, indent=2))


def class_weights(data: Path) -> None:
    rows = corpus_rows()
    cats = [r["category"] for r in rows]
    norm = [for_model(r["text"]) for r in rows]
    emb = embed_cached(norm)
    order = sorted(set(cats))
    real_texts, gold = hand_labelled(data)
    real_norm = [for_model(t) for t in real_texts]
    real_emb = embed_cached(real_norm)
    targets = {"category": cats, "complaint": ["1" if c == "complaint" else "0" for c in cats]}
    features = HashedTfidf(n_features=N_FEATURES).fit(norm)
    x_all, x_real = joined(features, norm, emb), features.transform(real_norm)
    out: dict[str, Any] = {}
    for balanced in (True, False):
        oof = out_of_fold(norm, emb, targets, stratify=cats, folds=5, balanced=balanced)
        cat = _aligned(*oof["category"], order)
        comp = oof["complaint"][1][:, oof["complaint"][0].index("1")]
        labels, coef, intercept = fit_heads(x_all, targets, balanced=balanced)
        heads = AccurateHeads(features.idf_, labels, coef, intercept, {})
        rc = _aligned(labels["category"], heads.proba("category", x_real, real_emb), order)
        rp = heads.proba("complaint", x_real, real_emb)[:, labels["complaint"].index("1")]
        rule = chosen_from(order, cat, comp, cats, folds=5)
        out["accurate_C6_" + ("balanced" if balanced else "unweighted")] = {
            "corpus_cv_rule": rule["cv"]["rule"],
            "thresholds": [rule["other_min"], rule["complaint_min"]],
            "real_600": _real(order, rc, rp, rule, gold),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
