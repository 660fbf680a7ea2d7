"""The accurate tier's second reading: inbound messages re-classified in the background.

The fast tier (the configured classifier, `builtin` by default) reads every message at intake.
A periodic pass (`carebird.jobs.tasks.reclassify`) then takes the inbound messages the accurate
tier has not read yet (`Message.accurate_at` is None), newest first, in bounded batches locked
with `FOR UPDATE SKIP LOCKED` on PostgreSQL so that two workers never take the same message;
it re-classifies them, updates their category, scores and sentiment, re-scores the cases they
belong to (an agent's category stands), writes a `reclassified` case event (old -> new
category) where a case's category changed, and tells open inboxes (`case.updated`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from carebird.cases.models import Case, CaseEvent
from carebird.cases.routing import RoutingSetup, reroute
from carebird.cases.scoring import score_cases
from carebird.config import Settings
from carebird.db.base import utcnow
from carebird.flows.announce import announce_cases
from carebird.ingest.models import Message
from carebird.live.events import CaseUpdated
from carebird.understand.classifier import Classifier, load_classifier

log = logging.getLogger(__name__)
EVENT = "reclassified"
ACCURATE = "accurate"


@dataclass(frozen=True, slots=True)
class ReclassifySetup:
    """What a pass needs: the accurate classifier and which messages it reads."""

    classifier: Classifier
    only_unsure: bool = False
    confidence: float = 0.7
    batch: int = 128

    @classmethod
    def from_settings(cls, settings: Settings) -> ReclassifySetup | None:
        """The desk's setup, or None when the accurate tier is off (or is already the
        classifier every message goes through at intake)."""
        from carebird.understand.accurate import available

        enabled = settings.accurate_tier
        if enabled is None:
            enabled = available()
        if not enabled or settings.classifier == ACCURATE:
            return None
        return cls(
            classifier=load_classifier(ACCURATE, model_path=settings.accurate_model_path),
            only_unsure=settings.accurate_tier_messages == "unsure",
            confidence=settings.accurate_tier_confidence,
            batch=settings.accurate_tier_batch,
        )


@dataclass(slots=True)
class ReclassifyReport:
    read: int = 0  # messages taken (marked as read by the accurate tier)
    classified: int = 0  # of which the accurate tier classified (the others were sure)
    changed: list[int] = field(default_factory=list)  # messages whose labels changed
    recategorised: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)
    updated_cases: list[int] = field(default_factory=list)  # announced (category or priority)


def _unsure(scores: Mapping[str, Any] | None, confidence: float) -> bool:
    values = [v for v in (scores or {}).values() if isinstance(v, int | float)]
    return not values or max(values) < confidence


def claim(session: Session, limit: int) -> Sequence[Any]:
    """Up to `limit` inbound messages not read by the accurate tier, newest first, locked
    for this transaction (rows another transaction holds are skipped, on PostgreSQL)."""
    return session.execute(
        select(
            Message.id,
            Message.text,
            Message.case_id,
            Message.category,
            Message.category_scores,
            Message.sentiment,
        )
        .where(Message.accurate_at.is_(None), Message.direction == "in")
        .order_by(Message.created_at.desc())  # ix_messages_accurate_pending, backwards
        .limit(limit)
        .with_for_update(skip_locked=True, of=Message)
    ).all()


def reclassify_batch(
    session: Session,
    setup: ReclassifySetup,
    *,
    weights: Mapping[str, float],
    routing: RoutingSetup | None = None,
) -> ReclassifyReport:
    """One batch, in the caller's transaction (commit it to release the claimed rows)."""
    report = ReclassifyReport()
    rows = claim(session, setup.batch)
    if not rows:
        return report
    now = utcnow()
    todo = [
        r for r in rows if not setup.only_unsure or _unsure(r.category_scores, setup.confidence)
    ]
    scores = setup.classifier.classify([r.text or "" for r in todo]) if todo else []
    values: dict[int, dict[str, Any]] = {r.id: {"id": r.id, "accurate_at": now} for r in rows}
    cases: set[int] = set()
    for r, s in zip(todo, scores, strict=True):
        values[r.id].update(
            category=s.category,
            category_scores={k: round(v, 4) for k, v in s.category_scores.items()},
            sentiment=s.sentiment,
        )
        if (s.category, s.sentiment) != (r.category, r.sentiment):
            report.changed.append(r.id)
            if r.case_id is not None:
                cases.add(r.case_id)
    session.execute(update(Message), list(values.values()))
    report.read, report.classified = len(rows), len(todo)
    if cases:
        _rescore_cases(session, sorted(cases), report, weights=weights, routing=routing)
    return report


def _case_state(session: Session, ids: Sequence[int]) -> dict[int, tuple[str | None, int]]:
    return {
        r.id: (r.category, r.priority)
        for r in session.execute(
            select(Case.id, Case.category, Case.priority).where(Case.id.in_(ids))
        )
    }


def _rescore_cases(
    session: Session,
    ids: list[int],
    report: ReclassifyReport,
    *,
    weights: Mapping[str, float],
    routing: RoutingSetup | None,
) -> None:
    before = _case_state(session, ids)
    recategorised = score_cases(session, ids, weights=weights)
    if routing is not None and recategorised:
        reroute(session, recategorised, routing, weights=weights)
    after = _case_state(session, ids)
    for case_id in ids:
        (old_cat, old_p), (new_cat, new_p) = before[case_id], after[case_id]
        if old_cat != new_cat:
            report.recategorised[case_id] = (old_cat, new_cat)
            session.add(
                CaseEvent(
                    case_id=case_id,
                    kind=EVENT,
                    old=old_cat,
                    new=new_cat,
                    actor_id=None,
                    data={"tier": ACCURATE, "priority": [old_p, new_p]},
                )
            )
        if old_cat != new_cat or old_p != new_p:
            report.updated_cases.append(case_id)
    session.flush()
    announce_cases(session, report.updated_cases, CaseUpdated)
