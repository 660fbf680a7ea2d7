"""`carebird eval`: the shipped models and the training recipe on real, third-party data.

Reads the data sets from a `shared/data` folder (never shipped); each figure names its protocol.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_recall_fscore_support,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold

from carebird.understand.classifier import BuiltinClassifier, Probabilities
from carebird.understand.decision import (
    ARGMAX,
    Decision,
    decide,
    ece,
    rates,
    reliability,
    scale,
    stored_beside,
)
from carebird.understand.defaults import SHIPPED, default_model
from carebird.understand.labels import CATEGORIES, SENTIMENTS
from carebird.understand.model import train_head
from carebird.understand.text import for_model


class TierClassifier(Protocol):
    """What the evaluation reads of a tier's classifier (fast: builtin; accurate)."""

    @property
    def model_path(self) -> Path | None: ...

    def probabilities(self, norm: list[str]) -> Probabilities: ...

    def decision(self) -> Decision: ...


SENTIMENT_CODES = {"0": "negative", "1": "neutral", "2": "positive"}


def read_csv_records(path: Path) -> list[dict[str, str]]:
    """CSV whose records end at "\\n" (or "\\r\\n") with bare "\\r" inside unquoted texts."""
    text = path.read_bytes().decode("utf-8", "replace").lstrip("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\ue000")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    return [{k: (v or "").replace("\ue000", "\r") for k, v in r.items() if k} for r in rows]


def _binary(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    pred = (proba >= 0.5).astype(int)
    return {
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
        "roc_auc": round(float(roc_auc_score(y, proba)), 4),
    }


def complaints_rows(data: Path) -> tuple[list[str], np.ndarray]:
    """complaints-acl2019's texts and their 0/1 complaint labels."""
    with (data / "complaints-acl2019" / "complaints-data.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if len(r) >= 3]
    return [r[1] for r in rows], np.array([int(r[2]) for r in rows])


def complaints(data: Path, *, folds: int = 10) -> dict[str, Any]:
    texts, y = complaints_rows(data)
    proba = np.zeros(len(y))
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train, test in skf.split(texts, y):
        head = train_head("complaint", [texts[i] for i in train], [str(y[i]) for i in train])
        proba[test] = head.proba([for_model(texts[i]) for i in test])[:, head.labels.index("1")]
    shipped = default_model().heads["complaint"]
    transfer = shipped.proba([for_model(t) for t in texts])[:, shipped.labels.index("1")]
    return {
        "data": "complaints-acl2019",
        "n": len(y),
        f"cv{folds}": _binary(y, proba),
        "shipped_model_transfer": _binary(y, transfer),
        "published": {"linguistic_features_f1": 0.79, "transformers_macro_f1": 0.87},
    }


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _sentiment_preds(texts: list[str]) -> list[str]:
    head = default_model().heads["sentiment"]
    p = head.proba([for_model(t) for t in texts])
    return [head.labels[i] for i in p.argmax(axis=1)]


def sentiment(data: Path) -> dict[str, Any]:
    en_dir, fr_dir = data / "tweeteval-sentiment", data / "xlmt-french-sentiment"
    en_texts = _lines(en_dir / "val_text.txt")
    en_gold = [SENTIMENT_CODES[x.strip()] for x in _lines(en_dir / "val_labels.txt")]
    en_pred = _sentiment_preds(en_texts)
    fr_texts = _lines(fr_dir / "val_text.txt")
    fr_gold = [SENTIMENT_CODES[x.strip()] for x in _lines(fr_dir / "val_labels.txt")]
    fr_pred = _sentiment_preds(fr_texts)
    fr_train = _lines(fr_dir / "train_text.txt")
    fr_train_y = [SENTIMENT_CODES[x.strip()] for x in _lines(fr_dir / "train_labels.txt")]
    head = train_head("sentiment", fr_train, fr_train_y)
    p = head.proba([for_model(t) for t in fr_texts])
    fr_trained = [head.labels[i] for i in p.argmax(axis=1)]
    labels = list(SENTIMENTS)
    return {
        "tweeteval_en_val": {
            "n": len(en_gold),
            "protocol": "shipped model, no training on this data",
            "macro_recall": round(
                float(recall_score(en_gold, en_pred, labels=labels, average="macro")), 4
            ),
            "published_best_macro_recall": 0.737,
        },
        "xlmt_fr_val": {
            "n": len(fr_gold),
            "published_xlmr_macro_f1": 0.72,
            "shipped_model_macro_f1": round(
                float(f1_score(fr_gold, fr_pred, labels=labels, average="macro")), 4
            ),
            "trained_on_xlmt_train_macro_f1": round(
                float(f1_score(fr_gold, fr_trained, labels=labels, average="macro")), 4
            ),
        },
    }


def _category_figures(gold: list[str], pred: list[str], datasets: list[str]) -> dict[str, Any]:
    prec, rec, f1, support = precision_recall_fscore_support(
        gold, pred, labels=list(CATEGORIES), zero_division=0
    )
    per_class = {
        c: {
            "precision": round(float(prec[i]), 3),
            "recall": round(float(rec[i]), 3),
            "f1": round(float(f1[i]), 3),
            "support": int(support[i]),
        }
        for i, c in enumerate(CATEGORIES)
    }
    by_set = {}
    for name in sorted(set(datasets), key=DATASETS.index):
        idx = [i for i, d in enumerate(datasets) if d == name]
        by_set[name] = round(
            float(accuracy_score([gold[i] for i in idx], [pred[i] for i in idx])), 4
        )
    desk = rates(gold, pred)
    return {
        "n": len(gold),
        "accuracy": desk["accuracy"],
        "macro_f1": round(
            float(f1_score(gold, pred, labels=list(CATEGORIES), average="macro", zero_division=0)),
            4,
        ),
        **{k: v for k, v in desk.items() if k != "accuracy"},
        "accuracy_by_dataset": by_set,
        "per_class": per_class,
    }


DATASETS = ("twcs", "free-mobile")


def category_sample(
    data: Path, labels_csv: Path, *, classifier: TierClassifier | None = None
) -> dict[str, Any]:
    """The shipped model (or `classifier`) on the project's hand-labelled real messages: the
    plain arg-max's figures (top level, as before), the same under the model's decision rule
    (`with_decision`), and the reliability of the category probabilities (`calibration`)."""
    texts = {
        ("twcs", r["tweet_id"]): r["text"]
        for r in read_csv_records(data / "twcs-head5k" / "twcs.csv")
    }
    texts.update(
        (("free-mobile", r["tweet_id"]), r["text"])
        for r in read_csv_records(data / "free-mobile-tweets-fr" / "free_tweet_export.csv")
    )
    with labels_csv.open(encoding="utf-8", newline="") as fh:
        gold_rows = [r for r in csv.DictReader(fh) if (r["dataset"], r["id"]) in texts]
    sample = [texts[(r["dataset"], r["id"])] for r in gold_rows]
    gold = [r["category"] for r in gold_rows]
    datasets = [r["dataset"] for r in gold_rows]
    clf = classifier or BuiltinClassifier()
    labels, cat, _, _, comp = clf.probabilities([for_model(t) for t in sample])
    rule = clf.decision()
    argmax = decide(labels, cat, comp, ARGMAX)
    out = _category_figures(gold, argmax, datasets)
    out["with_decision"] = {
        "thresholds": rule.as_dict(),
        **_category_figures(gold, decide(labels, cat, comp, rule), datasets),
    }
    out["calibration"] = calibration(labels, cat, comp, gold, clf)
    return out


def calibration(
    labels: Any, cat: np.ndarray, comp: np.ndarray, gold: list[str], clf: TierClassifier
) -> dict[str, Any]:
    """ECE and reliability table of the category head, the complaint probability's ECE, and
    the category ECE after the temperature that cross-validation on the corpus found."""
    labels = list(labels)
    known = [i for i, g in enumerate(gold) if g in labels]
    idx = np.array([labels.index(gold[i]) for i in known], dtype=int)
    cat = cat[known]
    is_comp = np.array([gold[i] == "complaint" for i in known], dtype=int)
    comp2 = np.column_stack([1.0 - comp[known], comp[known]])
    out: dict[str, Any] = {
        "bins": 10,
        "category_ece": round(ece(cat, idx), 4),
        "complaint_ece": round(ece(comp2, is_comp), 4),
        "category_reliability": reliability(cat, idx),
    }
    stored = stored_beside(clf.model_path or SHIPPED).get("cv") or {}
    temperature = stored.get("temperature") if isinstance(stored, dict) else None
    if temperature:
        out["temperature_from_cv"] = temperature
        out["category_ece_temperature_scaled"] = round(ece(scale(cat, temperature), idx), 4)
    comp_temperature = stored.get("complaint_temperature") if isinstance(stored, dict) else None
    if comp_temperature:
        out["complaint_temperature_from_cv"] = comp_temperature
        out["complaint_ece_temperature_scaled"] = round(
            ece(scale(comp2, comp_temperature), is_comp), 4
        )
    return out


PARTS = ("complaints", "sentiment", "categories")


def run_all(
    data: Path,
    labels_csv: Path,
    *,
    folds: int = 10,
    progress: Callable[[str], None] = lambda _: None,
    parts: Sequence[str] = PARTS,
    classifier: BuiltinClassifier | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "complaints" in parts:
        progress("complaints (10-fold cross-validation and transfer)")
        out["complaints"] = complaints(data, folds=folds)
    if "sentiment" in parts:
        progress("sentiment (English, French)")
        out["sentiment"] = sentiment(data)
    if "categories" in parts:
        progress("categories on the hand-labelled sample")
        out["categories"] = category_sample(data, labels_csv, classifier=classifier)
    return out


def summary(figures: dict[str, Any]) -> list[str]:
    """The figures as lines for a person: every figure as `path: value`, then the categories'
    desk figures side by side, arg-max against the decision rule."""
    lines: list[str] = []
    _flatten("", figures, lines)
    if "categories" in figures:
        lines += _category_table(figures["categories"])
    if "categories" in figures.get("accurate", {}):
        lines += [""] + [
            "accurate tier: " + line
            for line in _category_table(figures["accurate"]["categories"])
            if line
        ]
    return lines


def _flatten(prefix: str, value: Any, lines: list[str]) -> None:
    if prefix.endswith("_reliability"):
        return  # a table, in `_category_table`
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, lines)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _flatten(f"{prefix}[{i}]", v, lines)
    else:
        lines.append(f"{prefix}: {value}")


def _category_table(cats: dict[str, Any]) -> list[str]:
    after = cats["with_decision"]
    lines = ["", f"categories, {cats['n']} hand-labelled real messages: arg-max -> decision"]
    for key in (
        "accuracy",
        "macro_f1",
        "missed_complaint_rate",
        "support_vs_other_macro_f1",
        "complaint_vs_rest_macro_f1",
    ):
        lines.append(f"  {key:28} {cats[key]:.4f} -> {after[key]:.4f}")
    for c, row in cats["per_class"].items():
        new = after["per_class"][c]
        lines.append(
            f"  {c:12} precision {row['precision']:.3f} -> {new['precision']:.3f}"
            f"  recall {row['recall']:.3f} -> {new['recall']:.3f}  (n={row['support']})"
        )
    lines += ["", "category reliability (confidence bin: n, mean confidence, accuracy)"]
    for row in cats["calibration"]["category_reliability"]:
        if row["n"]:
            lines.append(
                f"  {row['bin']}: {row['n']:4}  {row['confidence']:.3f}  {row['accuracy']:.3f}"
            )
    return lines
