"""From probabilities to a category, with asymmetric costs; and how reliable the probabilities are.

Filing a real complaint as `other` ("not a support request") sinks it to the bottom of the
inbox: the worst error a desk can make, while an `other` left in the queue costs an agent a
glance. So the category is not the plain arg-max:

- a message is `other` only when P(other) reaches `other_min`; otherwise it stays in the queue
  under its most likely support category;
- complaint wins over every other category when the complaint head's probability reaches
  `complaint_min`.

Both thresholds are chosen by `carebird train` on cross-validated predictions over the
training corpus (never on the hand-labelled test messages), by the least expected cost under
`COSTS`, subject to a missed-complaint rate (complaints filed as `other`) of at most `TARGET`.
They are stored under "decision" in the model's JSON description.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from carebird.understand.model import train_heads
from carebird.understand.text import for_model

OTHER, COMPLAINT = "other", "complaint"
TARGET = 0.05  # the largest missed-complaint rate accepted on cross-validated predictions
# Expected cost of an error, in "an agent glances at a message and closes it" units: a
# complaint filed as `other` is a customer left waiting until they leave; another support
# request filed as `other` waits too but is less urgent; noise left in the queue costs a glance.
COSTS = {"complaint_as_other": 10.0, "support_as_other": 5.0, "other_in_queue": 1.0}
OTHER_GRID = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))  # 0.50 … 0.95: "high" only
COMPLAINT_GRID = (*(round(0.3 + 0.05 * i, 2) for i in range(14)), 1.01)  # 1.01: never
FOLDS = 5


@dataclass(frozen=True, slots=True)
class Decision:
    """The rule's thresholds; the defaults give the plain arg-max."""

    other_min: float = 0.0  # P(other) needed to file a message as `other`
    complaint_min: float = 1.01  # complaint probability that makes complaint win (>1: never)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Decision:
        if not isinstance(data, dict):
            return ARGMAX
        return cls(
            other_min=float(data.get("other_min", 0.0)),
            complaint_min=float(data.get("complaint_min", 1.01)),
        )


ARGMAX = Decision()


def decide(
    labels: Sequence[str], cat: np.ndarray, complaint: np.ndarray, rule: Decision
) -> list[str]:
    """The category of each row of `cat` (columns in `labels` order) under `rule`."""
    labels = list(labels)
    n = cat.shape[0]
    if not n:
        return []
    best = cat.argmax(axis=1)
    if OTHER in labels:
        oi = labels.index(OTHER)
        rest = cat.copy()
        rest[:, oi] = -np.inf
        unsure = (best == oi) & (cat[:, oi] < rule.other_min)
        best = np.where(unsure, rest.argmax(axis=1), best)
    if COMPLAINT in labels:
        best = np.where(complaint >= rule.complaint_min, labels.index(COMPLAINT), best)
    return [labels[i] for i in best.tolist()]


def stored_beside(model_file: Path) -> dict[str, Any]:
    """What `carebird train` stored under "decision" in the JSON description beside a model
    file (thresholds, how they were chosen, the cross-validated figures); {} if nothing."""
    try:
        data = json.loads(model_file.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = data.get("decision") if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}


def read_beside(model_file: Path) -> Decision:
    """The rule stored in the JSON description beside a model file (the arg-max if none)."""
    return Decision.from_dict(stored_beside(model_file) or None)


# --- reliability ---------------------------------------------------------------------------


def reliability(proba: np.ndarray, gold: np.ndarray, *, bins: int = 10) -> list[dict[str, Any]]:
    """Reliability table of the top prediction: per confidence bin (equal widths over [0, 1],
    the first closed), how many rows, their mean confidence and their accuracy."""
    conf = proba.max(axis=1)
    right = proba.argmax(axis=1) == gold
    idx = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    table = []
    for b in range(bins):
        m = idx == b
        table.append(
            {
                "bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}",
                "n": int(m.sum()),
                "confidence": round(float(conf[m].mean()), 4) if m.any() else None,
                "accuracy": round(float(right[m].mean()), 4) if m.any() else None,
            }
        )
    return table


def ece(proba: np.ndarray, gold: np.ndarray, *, bins: int = 10) -> float:
    """Expected calibration error: the rows-weighted mean |accuracy - confidence| over bins."""
    conf = proba.max(axis=1)
    right = proba.argmax(axis=1) == gold
    idx = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.mean() * abs(right[m].mean() - conf[m].mean())
    return float(total)


def scale(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling of probabilities (softmax of log-probabilities / T)."""
    logits = np.log(np.clip(proba, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def fit_temperature(proba: np.ndarray, gold: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of `gold`."""

    def nll(t: float) -> float:
        p = scale(proba, t)[np.arange(gold.shape[0]), gold]
        return float(-np.log(np.clip(p, 1e-12, 1.0)).mean())

    return float(minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x)


# --- choosing the thresholds ---------------------------------------------------------------


def rates(gold: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    """The desk's figures for predicted against gold categories."""
    g, p = np.asarray(gold), np.asarray(pred)
    comp = g == COMPLAINT
    support = np.where(g == OTHER, "other", "support")
    support_pred = np.where(p == OTHER, "other", "support")
    is_comp = np.where(comp, "complaint", "rest")
    is_comp_pred = np.where(p == COMPLAINT, "complaint", "rest")
    return {
        "accuracy": round(float((g == p).mean()), 4) if g.size else 0.0,
        "missed_complaint_rate": round(float((p[comp] == OTHER).mean()), 4) if comp.any() else 0.0,
        "support_vs_other_macro_f1": round(
            float(f1_score(support, support_pred, average="macro", zero_division=0)), 4
        ),
        "complaint_vs_rest_macro_f1": round(
            float(f1_score(is_comp, is_comp_pred, average="macro", zero_division=0)), 4
        ),
    }


def cost(gold: Sequence[str], pred: Sequence[str]) -> float:
    """Mean cost per message under `COSTS`."""
    g, p = np.asarray(gold), np.asarray(pred)
    as_other = p == OTHER
    total = (
        COSTS["complaint_as_other"] * (as_other & (g == COMPLAINT)).sum()
        + COSTS["support_as_other"] * (as_other & (g != OTHER) & (g != COMPLAINT)).sum()
        + COSTS["other_in_queue"] * (~as_other & (g == OTHER)).sum()
    )
    return float(total) / max(len(g), 1)


def choose(
    labels: Sequence[str], cat: np.ndarray, complaint: np.ndarray, gold: Sequence[str]
) -> Decision:
    """Thresholds for (cross-validated) predictions: `other_min` with the least expected cost
    among those keeping the missed-complaint rate within TARGET, then `complaint_min` with the
    best complaint-vs-rest macro-F1 (ties: the higher threshold, the rarer override)."""
    best: tuple[float, float] | None = None
    other_min = OTHER_GRID[-1]
    for t in OTHER_GRID:
        pred = decide(labels, cat, complaint, Decision(other_min=t))
        if rates(gold, pred)["missed_complaint_rate"] > TARGET:
            continue
        c = cost(gold, pred)
        if best is None or c < best[0] - 1e-12:
            best, other_min = (c, t), t
    scored = []
    for t in COMPLAINT_GRID:
        pred = decide(labels, cat, complaint, Decision(other_min=other_min, complaint_min=t))
        scored.append((rates(gold, pred)["complaint_vs_rest_macro_f1"], t))
    f1_best = max(s for s, _ in scored)
    complaint_min = max(t for s, t in scored if s >= f1_best - 1e-12)
    return Decision(other_min=other_min, complaint_min=complaint_min)


def cross_validated(
    texts: Sequence[str], categories: Sequence[str], *, folds: int = FOLDS
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Out-of-fold category probabilities and complaint probabilities, by the training recipe
    (category head + complaint yes/no head on a shared extractor), folds seeded."""
    y = np.asarray(categories)
    labels = sorted(set(categories))
    cat = np.zeros((len(texts), len(labels)))
    comp = np.zeros(len(texts))
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train, test in skf.split(np.zeros(len(y)), y):
        heads = train_heads(
            [texts[i] for i in train],
            {
                "category": [str(v) for v in y[train]],
                "complaint": ["1" if v == COMPLAINT else "0" for v in y[train]],
            },
        )
        norm = [for_model(texts[i]) for i in test]
        head = heads["category"]
        cat[test] = heads["category"].proba(norm)[:, [head.labels.index(lab) for lab in labels]]
        comp_head = heads["complaint"]
        comp[test] = comp_head.proba(norm)[:, comp_head.labels.index("1")]
    return labels, cat, comp


def calibrate(texts: Sequence[str], categories: Sequence[str]) -> dict[str, Any]:
    """The decision and the calibration measures, from cross-validation over a corpus: what
    `carebird train` stores under "decision" in the model's JSON description."""
    folds = min(FOLDS, min(list(categories).count(c) for c in set(categories)))
    labels, cat, comp = cross_validated(texts, categories, folds=folds)
    return chosen_from(labels, cat, comp, categories, folds=folds)


def chosen_from(
    labels: Sequence[str],
    cat: np.ndarray,
    comp: np.ndarray,
    categories: Sequence[str],
    *,
    folds: int,
) -> dict[str, Any]:
    """The "decision" description from out-of-fold probabilities over a corpus (any tier)."""
    labels = list(labels)
    gold_idx = np.array([labels.index(c) for c in categories])
    rule = choose(labels, cat, comp, categories)
    temperature = fit_temperature(cat, gold_idx)
    is_comp = np.array([c == COMPLAINT for c in categories], dtype=int)
    comp2 = np.column_stack([1.0 - comp, comp])
    comp_temperature = fit_temperature(comp2, is_comp)
    return {
        **rule.as_dict(),
        "chosen_on": f"{folds}-fold cross-validation over the training corpus",
        "target_missed_complaint_rate": TARGET,
        "costs": COSTS,
        "cv": {
            "argmax": rates(categories, decide(labels, cat, comp, ARGMAX)),
            "rule": rates(categories, decide(labels, cat, comp, rule)),
            "ece": round(ece(cat, gold_idx), 4),
            "temperature": round(temperature, 4),
            "ece_temperature_scaled": round(ece(scale(cat, temperature), gold_idx), 4),
            "complaint_ece": round(ece(comp2, is_comp), 4),
            "complaint_temperature": round(comp_temperature, 4),
            "complaint_ece_temperature_scaled": round(
                ece(scale(comp2, comp_temperature), is_comp), 4
            ),
        },
    }
