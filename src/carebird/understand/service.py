"""The understand stage: annotate inbound messages, then score the cases they touch."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import starmap
from typing import Any, TypeGuard

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from carebird.cases.models import Case
from carebird.cases.priority import DEFAULT_WEIGHTS, CaseSignals, score
from carebird.cases.states import ACTIVE
from carebird.db.base import utcnow
from carebird.ingest.base import Direction, InboundItem
from carebird.ingest.models import Author, Message
from carebird.ingest.store import chunks
from carebird.understand.classifier import (
    BuiltinClassifier,
    Classifier,
    load_classifier,
    score_columns,
    scores_from,
)
from carebird.understand.cues import MAX_CUE_CHARS, find_cues, find_cues_lowered
from carebird.understand.labels import TRIAGE_RANK
from carebird.understand.language import detect
from carebird.understand.pii import find_personal_data
from carebird.understand.text import MAX_MODEL_CHARS, for_model, for_model_lowered


@dataclass(frozen=True, slots=True)
class Understanding:
    language: str
    category: str
    category_scores: dict[str, float]
    sentiment: str
    sentiment_scores: dict[str, float]
    complaint: float
    cues: list[str]
    personal_data: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "category": self.category,
            "category_scores": {k: round(v, 4) for k, v in self.category_scores.items()},
            "sentiment": self.sentiment,
            "sentiment_scores": {k: round(v, 4) for k, v in self.sentiment_scores.items()},
            "complaint": round(self.complaint, 4),
            "cues": self.cues,
            "personal_data": self.personal_data,
        }


class Understander:
    """Everything the desk knows how to read in a text, for a batch of texts at once."""

    def __init__(self, classifier: Classifier | None = None) -> None:
        self.classifier = classifier or load_classifier("builtin")
        if _is_builtin(self.classifier):
            _warm_up(self.classifier)

    def analyse(self, texts: Sequence[str]) -> list[Understanding]:
        if _is_builtin(self.classifier):
            return _analyse_builtin(self.classifier, texts)
        scores = self.classifier.classify(texts)
        return [
            _understanding(
                text,
                None,
                s.category,
                s.category_scores,
                s.sentiment,
                s.sentiment_scores,
                s.complaint,
            )
            for text, s in zip(texts, scores, strict=True)
        ]

    def columns(self, items: Sequence[InboundItem]) -> list[dict[str, Any]]:
        """Message columns for a batch (the store's `annotate` hook); ours are left alone."""
        inbound = [i for i, it in enumerate(items) if it.direction is Direction.IN]
        found = self.analyse([items[i].text for i in inbound])
        cols: list[dict[str, Any]] = [{} for _ in items]
        for i, u in zip(inbound, found, strict=True):
            cols[i] = {
                "language": items[i].language or u.language,  # the network's own tag wins
                "category": u.category,
                "category_scores": {k: round(v, 4) for k, v in u.category_scores.items()},
                "sentiment": u.sentiment,
                "cues": u.cues,
                "personal_data": u.personal_data,
            }
        return cols


def _is_builtin(classifier: Classifier) -> TypeGuard[BuiltinClassifier]:
    """The built-in classifier, or a subclass that classifies the same way."""
    if not isinstance(classifier, BuiltinClassifier):
        return False
    cls = type(classifier)
    return (
        cls.classify is BuiltinClassifier.classify
        and cls.probabilities is BuiltinClassifier.probabilities
    )


def _warm_up(classifier: BuiltinClassifier) -> None:
    """Vectorise one text with each feature extractor, so that its lookup tables (built once
    per process, tens of milliseconds) are built while loading rather than in the first batch."""
    seen: set[int] = set()
    for head in classifier.model().heads.values():
        if id(head.features) not in seen:
            seen.add(id(head.features))
            head.features.transform([for_model("warm-up")])


# Texts this short are lower-cased once, for the model's normalisation and for the cues.
_SHARED_LOWER = min(MAX_MODEL_CHARS, MAX_CUE_CHARS)


def _analyse_builtin(classifier: BuiltinClassifier, texts: Sequence[str]) -> list[Understanding]:
    """`analyse` with the built-in classifier: the same result, with less work per text."""
    if not texts:
        return []
    lowered = [t.lower() if len(t) <= _SHARED_LOWER else None for t in texts]
    norm = [
        for_model(t) if low is None else for_model_lowered(low)
        for t, low in zip(texts, lowered, strict=True)
    ]
    probabilities = classifier.probabilities(norm)
    columns = score_columns(*probabilities)
    if columns is None:
        scores = scores_from(*probabilities)
        columns = (
            [s.category for s in scores],
            [s.category_scores for s in scores],
            [s.sentiment for s in scores],
            [s.sentiment_scores for s in scores],
            [s.complaint for s in scores],
        )
    return list(starmap(_understanding, zip(texts, lowered, *columns, strict=True)))


def _understanding(
    text: str,
    lowered: str | None,
    category: str,
    category_scores: dict[str, float],
    sentiment: str,
    sentiment_scores: dict[str, float],
    complaint: float,
) -> Understanding:
    """A text's Understanding from its scores and the rules; `lowered` is the text
    lower-cased if it is no longer than _SHARED_LOWER, else None (or None if not at hand)."""
    found = find_personal_data(text)
    return Understanding(  # positional (the fields in order): cheaper for a frozen dataclass
        detect(text),
        category,
        category_scores,
        sentiment,
        sentiment_scores,
        complaint,
        find_cues(text) if lowered is None else find_cues_lowered(lowered),
        [{"kind": f.kind, "start": f.start, "end": f.end} for f in found] if found else [],
    )


RECENT = 12  # messages per case read when scoring it (repeat contacts count up to 4)


@functools.cache
def default_understander() -> Understander:
    return Understander()


def score_cases(
    session: Session,
    case_ids: Iterable[int],
    *,
    now: datetime | None = None,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> int:
    """Recompute category (unless an agent set it) and priority of the given cases."""
    now = now or utcnow()
    ids = sorted(set(case_ids))
    updates: list[dict[str, Any]] = []
    for part in chunks(ids):
        cases = {
            r.id: r
            for r in session.execute(
                select(
                    Case.id,
                    Case.status,
                    Case.category,
                    Case.category_source,
                    Author.followers,
                    Author.verified,
                )
                .join(Author, Author.id == Case.customer_id)
                .where(Case.id.in_(part))
            )
        }
        # The latest RECENT messages of each case are enough to score it (repeat contacts are
        # capped well below that) and keep the cost flat however long a thread grows.
        recent = (
            select(
                Message.case_id,
                Message.direction,
                Message.created_at,
                Message.category,
                Message.sentiment,
                Message.cues,
                Message.interactions,
                Message.interactions_at_arrival,
                func.row_number()
                .over(
                    partition_by=Message.case_id,
                    order_by=(Message.created_at.desc(), Message.id.desc()),
                )
                .label("rank"),
            )
            .where(Message.case_id.in_(part))
            .subquery()
        )
        msgs: dict[int, list[Any]] = {}
        for m in session.execute(
            select(recent)
            .where(recent.c.rank <= RECENT)
            .order_by(recent.c.case_id, recent.c.created_at.asc(), recent.c.rank.desc())
        ):
            msgs.setdefault(m.case_id, []).append(m)
        for case_id, case in cases.items():
            signals, category = _signals(case, msgs.get(case_id, []), now)
            p = score(signals, weights)
            updates.append(
                {
                    "id": case_id,
                    "category": category,
                    "priority": p.score,
                    "priority_reasons": p.reasons,
                }
            )
    if updates:
        session.execute(update(Case), updates)
    return len(updates)


def _signals(case: Any, messages: list[Any], now: datetime) -> tuple[CaseSignals, str | None]:
    inbound = [m for m in messages if m.direction == "in"]
    categories = [m.category for m in inbound if m.category in TRIAGE_RANK]
    if case.category_source == "agent" and case.category:
        category = case.category
    elif categories:
        category = min(categories, key=TRIAGE_RANK.__getitem__)
    else:
        category = case.category
    waiting = 0.0
    if case.status in ACTIVE and messages and messages[-1].direction == "in":
        last_out = max((m.created_at for m in messages if m.direction == "out"), default=None)
        pending = [m.created_at for m in inbound if last_out is None or m.created_at > last_out]
        if pending:
            waiting = max(0.0, (now - min(pending)).total_seconds())
    cues: set[str] = set()
    for m in inbound:
        cues.update(m.cues or [])
    return (
        CaseSignals(
            category=category,
            sentiment=inbound[-1].sentiment if inbound else None,
            cues=frozenset(cues),
            followers=case.followers or 0,
            verified=bool(case.verified),
            interactions=sum(m.interactions for m in inbound),
            interactions_at_arrival=sum(m.interactions_at_arrival for m in inbound),
            waiting_seconds=waiting,
            inbound_count=len(inbound),
        ),
        category,
    )


def rescore_active(
    session: Session,
    *,
    now: datetime | None = None,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    batch: int = 2000,
) -> int:
    """Re-score every active case: waiting time keeps raising what nobody answered."""
    ids = session.scalars(select(Case.id).where(Case.status.in_([str(s) for s in ACTIVE]))).all()
    done = 0
    for part in chunks(list(ids), batch):
        done += score_cases(session, part, now=now, weights=weights)
    return done
