"""`carebird eval --tier accurate`: the accurate tier's figures, beside the fast tier's
(understand/evaluate.py), on the same real data sets and with the same protocols.

- complaints-acl2019: 10-fold CV of the accurate recipe (TF-IDF fitted and heads trained on
  each fold, each text embedded once), and the shipped heads untouched (transfer);
- sentiment: TweetEval EN and XLM-T FR validation sets with the shipped heads, and the recipe
  trained on XLM-T's train split;
- the 600 hand-labelled real messages: `evaluate.category_sample` with the accurate classifier
  (arg-max, then its stored decision rule; calibration).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sklearn.metrics import f1_score, recall_score

from carebird.understand.accurate import (
    N_FEATURES,
    AccurateClassifier,
    AccurateHeads,
    fit_heads,
    joined,
)
from carebird.understand.accurate_rule import embed_cached, out_of_fold
from carebird.understand.evaluate import (
    PARTS,
    SENTIMENT_CODES,
    _binary,
    _lines,
    category_sample,
    complaints_rows,
)
from carebird.understand.features import HashedTfidf
from carebird.understand.labels import SENTIMENTS
from carebird.understand.text import for_model


def complaints(data: Path, clf: AccurateClassifier, *, folds: int = 10) -> dict[str, Any]:
    texts, y = complaints_rows(data)
    norm = [for_model(t) for t in texts]
    emb = embed_cached(norm, clf.encoder)
    targets = {"complaint": [str(v) for v in y]}
    labels, p = out_of_fold(norm, emb, targets, stratify=targets["complaint"], folds=folds)[
        "complaint"
    ]
    proba = p[:, labels.index("1")]
    shipped = clf.probabilities(norm)[4]
    return {
        "data": "complaints-acl2019",
        "n": len(y),
        f"cv{folds}": _binary(y, proba),
        "shipped_model_transfer": _binary(y, shipped),
        "published": {"linguistic_features_f1": 0.79, "transformers_macro_f1": 0.87},
    }


def _sentiment_set(folder: Path, split: str) -> tuple[list[str], list[str]]:
    texts = [for_model(t) for t in _lines(folder / f"{split}_text.txt")]
    return texts, [SENTIMENT_CODES[x.strip()] for x in _lines(folder / f"{split}_labels.txt")]


def _shipped_sentiment(clf: AccurateClassifier, norm: list[str]) -> list[str]:
    _, _, labels, sent, _ = clf.probabilities(norm)
    return [labels[i] for i in sent.argmax(axis=1)]


def _f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    return round(float(f1_score(gold, pred, labels=list(SENTIMENTS), average="macro")), 4)


def sentiment(data: Path, clf: AccurateClassifier) -> dict[str, Any]:
    en_norm, en_gold = _sentiment_set(data / "tweeteval-sentiment", "val")
    fr_dir = data / "xlmt-french-sentiment"
    fr_norm, fr_gold = _sentiment_set(fr_dir, "val")
    tr_norm, tr_gold = _sentiment_set(fr_dir, "train")
    en_pred = _shipped_sentiment(clf, en_norm)
    features = HashedTfidf(n_features=N_FEATURES).fit(tr_norm)
    tr_emb = embed_cached(tr_norm, clf.encoder)
    labels, coef, intercept = fit_heads(joined(features, tr_norm, tr_emb), {"sentiment": tr_gold})
    heads = AccurateHeads(features.idf_, labels, coef, intercept, {})
    p = heads.proba("sentiment", features.transform(fr_norm), embed_cached(fr_norm, clf.encoder))
    fr_trained = [labels["sentiment"][i] for i in p.argmax(axis=1)]
    return {
        "tweeteval_en_val": {
            "n": len(en_gold),
            "protocol": "shipped heads, no training on this data",
            "macro_recall": round(
                float(recall_score(en_gold, en_pred, labels=list(SENTIMENTS), average="macro")),
                4,
            ),
            "macro_f1": _f1(en_gold, en_pred),
            "published_best_macro_recall": 0.737,
        },
        "xlmt_fr_val": {
            "n": len(fr_gold),
            "published_xlmr_macro_f1": 0.72,
            "shipped_model_macro_f1": _f1(fr_gold, _shipped_sentiment(clf, fr_norm)),
            "trained_on_xlmt_train_macro_f1": _f1(fr_gold, fr_trained),
        },
    }


def run_accurate(
    data: Path,
    labels_csv: Path,
    *,
    folds: int = 10,
    progress: Callable[[str], None] = lambda _: None,
    parts: Sequence[str] = PARTS,
    classifier: AccurateClassifier | None = None,
) -> dict[str, Any]:
    """Every figure of the accurate tier (same keys as the fast tier's `run_all`)."""
    clf = classifier or AccurateClassifier()
    out: dict[str, Any] = {}
    if "complaints" in parts:
        progress(f"accurate tier: complaints ({folds}-fold cross-validation and transfer)")
        out["complaints"] = complaints(data, clf, folds=folds)
    if "sentiment" in parts:
        progress("accurate tier: sentiment (English, French)")
        out["sentiment"] = sentiment(data, clf)
    if "categories" in parts:
        progress("accurate tier: categories on the hand-labelled sample")
        out["categories"] = category_sample(data, labels_csv, classifier=clf)
    return out
