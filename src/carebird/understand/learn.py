"""Learning from the desk: both tiers retrained on the corpus plus agents' corrections, with
an evaluation on held-out corrections before the new model replaces the one in use.

The corrections are the category labels agents set (`cases.service.correct_category`; "not a
support request" is `other`), the latest per message. The newest HOLDOUT_SHARE of them (at
least HOLDOUT_MIN) are held out: a candidate trained on the corpus plus the older ones is
compared with the model in use on them (accuracy, macro-F1, missed-complaint rate); the final
model is then trained on the corpus plus every correction. It is installed only when the
candidate is not worse than the model in use on the held-out corrections (macro-F1 not lower
and missed-complaint rate not higher), or when forced; otherwise it is written beside, as
`<name>.candidate.npz`. Under MIN_CORRECTIONS corrections nothing is trained.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score
from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.understand.classifier import BuiltinClassifier, Classifier
from carebird.understand.models_db import Label

CORRECTION_WEIGHT = 3  # an agent's correction counts as much as three corpus examples
MIN_CORRECTIONS = 20
HOLDOUT_SHARE = 0.2
HOLDOUT_MIN = 5
TIERS = ("fast", "accurate")
Correction = tuple[str, str]  # (text, category)


def desk_corrections(session: Session) -> list[Correction]:
    """The agents' category corrections, oldest first, the latest per message only."""
    from carebird.ingest.models import Message

    rows = session.execute(
        select(Label.message_id, Message.text, Label.label)
        .join(Message, Message.id == Label.message_id)
        .where(Label.task == "category")
        .order_by(Label.created_at, Label.id)
    ).all()
    latest: dict[int, Correction] = {}
    for message_id, text, label in rows:
        latest.pop(message_id, None)  # re-inserted: ordered by its latest correction
        latest[message_id] = (text, label)
    return [c for c in latest.values() if c[0].strip()]


def split_holdout(corrections: Sequence[Correction]) -> tuple[list[Correction], list[Correction]]:
    """(train, held out): the newest share of the corrections is held out."""
    n = max(HOLDOUT_MIN, math.ceil(HOLDOUT_SHARE * len(corrections)))
    return list(corrections[:-n]), list(corrections[-n:])


def figures(classifier: Classifier, held: Sequence[Correction]) -> dict[str, Any]:
    """Accuracy, macro-F1 (over the categories present) and the missed-complaint rate
    (complaints filed as `other`) of a classifier on held-out corrections."""
    gold = [c for _, c in held]
    pred = [s.category for s in classifier.classify([t for t, _ in held])]
    complaints = [p for g, p in zip(gold, pred, strict=True) if g == "complaint"]
    labels = sorted(set(gold))
    return {
        "n": len(held),
        "accuracy": round(float(np.mean([g == p for g, p in zip(gold, pred, strict=True)])), 4),
        "macro_f1": round(
            float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0)), 4
        ),
        "complaints": len(complaints),
        "missed_complaints": (
            round(complaints.count("other") / len(complaints), 4) if complaints else 0.0
        ),
    }


def not_worse(candidate: dict[str, Any], current: dict[str, Any]) -> bool:
    return bool(
        candidate["macro_f1"] >= current["macro_f1"]
        and candidate["missed_complaints"] <= current["missed_complaints"]
    )


def candidate_path(target: Path) -> Path:
    return target.with_name(f"{target.stem}.candidate.npz")


class Tier:
    """How one tier trains, loads and saves (the accurate one shares its encoder)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._encoder: Any = None

    def train(self, corrections: Sequence[Correction]) -> Any:
        if self.name == "fast":
            from carebird.understand.train import train_with_corrections

            return train_with_corrections(corrections, weight=CORRECTION_WEIGHT)
        from carebird.understand.accurate import SHIPPED, AccurateHeads, train_accurate

        heads = train_accurate(
            self.encoder(), extra=list(corrections), extra_weight=CORRECTION_WEIGHT
        )
        # The shipped decision rule stays, as the fast tier keeps its thresholds: the
        # corrections are too few to choose thresholds by cross-validation.
        shipped = AccurateHeads.load(SHIPPED).meta.get("decision")
        if shipped is not None:
            heads.meta["decision"] = shipped
        return heads

    def encoder(self) -> Any:
        if self._encoder is None:
            from carebird.understand.accurate import Encoder

            self._encoder = Encoder(cache=True)  # the corpus is embedded once, not per model
        return self._encoder

    def classifier(self, model: Any = None, path: Path | None = None) -> Classifier:
        """The tier reading the model in use at `path` (None: shipped), or a trained one."""
        if self.name == "accurate":
            from carebird.understand.accurate import AccurateClassifier

            return AccurateClassifier(path, heads=model, encoder=self.encoder())
        if model is None:
            return BuiltinClassifier(model_path=path)
        with tempfile.TemporaryDirectory() as tmp:  # loaded as the desk will load it
            model.save(Path(tmp) / "candidate.npz")
            return BuiltinClassifier(model_path=Path(tmp) / "candidate.npz")


@dataclass
class TierReport:
    tier: str
    target: Path
    corrections: int
    held_out: int = 0
    current: dict[str, Any] = field(default_factory=dict)
    candidate: dict[str, Any] = field(default_factory=dict)
    installed: bool = False
    written: Path | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "target": str(self.target),
            "corrections": self.corrections,
            "held_out": self.held_out,
            "current": self.current,
            "candidate": self.candidate,
            "installed": self.installed,
            "written": str(self.written) if self.written else None,
            "reason": self.reason,
        }


def learn_tier(
    tier: Tier,
    corrections: Sequence[Correction],
    *,
    target: Path,
    in_use: Path | None,
    force: bool = False,
    evaluated: Callable[[TierReport], None] = lambda _: None,
) -> TierReport:
    """Evaluate a candidate on held-out corrections against the model in use (`in_use`, None:
    the shipped one), call `evaluated` with the figures, then train on every correction and
    write the model to `target` if it is not worse (or `force`), beside it otherwise."""
    report = TierReport(tier.name, target, len(corrections))
    if len(corrections) < MIN_CORRECTIONS:
        report.reason = (
            f"only {len(corrections)} corrections (at least {MIN_CORRECTIONS} needed): "
            "the model in use is kept"
        )
        evaluated(report)
        return report
    train, held = split_holdout(corrections)
    report.held_out = len(held)
    in_use = in_use if in_use is not None and in_use.is_file() else None
    report.current = figures(tier.classifier(path=in_use), held)
    report.candidate = figures(tier.classifier(model=tier.train(train)), held)
    better = not_worse(report.candidate, report.current)
    report.installed = better or force
    report.reason = (
        "not worse than the model in use on the held-out corrections"
        if better
        else "worse than the model in use on the held-out corrections"
        + (" (installed: --force)" if force else "")
    )
    evaluated(report)  # the figures are out before anything is written
    final = tier.train(corrections)
    report.written = target if report.installed else candidate_path(target)
    final.save(report.written)
    return report


def describe(report: TierReport) -> list[str]:
    """The report as lines of text."""
    head = f"{report.tier} tier: {report.corrections} corrections"
    if not report.held_out:
        return [head, f"  {report.reason}"]
    lines = [f"{head}, {report.held_out} newest held out"]
    for name in ("current", "candidate"):
        f = getattr(report, name)
        lines.append(
            f"  {name:<9} accuracy {f['accuracy']:.3f}  macro-F1 {f['macro_f1']:.3f}  "
            f"missed complaints {f['missed_complaints']:.3f} (of {f['complaints']})"
        )
    lines.append(f"  candidate {report.reason}")
    return lines
