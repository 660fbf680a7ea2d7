"""Scoring cases: category (unless an agent set it) and priority, from their latest messages.

The score itself is `carebird.cases.priority.score`; this module reads what it needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from carebird.cases.models import Case
from carebird.cases.priority import DEFAULT_WEIGHTS, CaseSignals, score
from carebird.cases.states import ACTIVE
from carebird.db.base import utcnow
from carebird.ingest.models import Author, Message
from carebird.ingest.store import chunks
from carebird.understand.labels import TRIAGE_RANK

RECENT = 12  # messages per case read when scoring it (repeat contacts count up to 4)


def score_cases(
    session: Session,
    case_ids: Iterable[int],
    *,
    now: datetime | None = None,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> set[int]:
    """Recompute category (unless an agent set it) and priority of the given cases; the
    cases whose category changed (the routing rules look at them again)."""
    now = now or utcnow()
    ids = sorted(set(case_ids))
    updates: list[dict[str, Any]] = []
    recategorised: set[int] = set()
    for part in chunks(ids):
        cases = {
            r.id: r
            for r in session.execute(
                select(
                    Case.id,
                    Case.status,
                    Case.category,
                    Case.category_source,
                    Case.priority_boost,
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
                Message.kind,
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
            if category != case.category:
                recategorised.add(case_id)
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
    return recategorised


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
    # The desk's automatic acknowledgement answers nothing: the customer still waits.
    said = [m for m in messages if m.kind != "acknowledgement"]
    if case.status in ACTIVE and said and said[-1].direction == "in":
        last_out = max((m.created_at for m in said if m.direction == "out"), default=None)
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
            boost=case.priority_boost or 0.0,
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
        score_cases(session, part, now=now, weights=weights)
        done += len(part)
    return done
