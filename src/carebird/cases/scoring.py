"""Scoring cases: category (unless an agent set it) and priority, from the signals kept on them.

The score itself is `carebird.cases.priority.score`; what it needs of a case's latest messages
is kept on the case (carebird.cases.signals). Two paths write it:

- `score_batch` (the intake): merges a batch's new messages into their cases' signals and
  scores them from the case rows, without reading a message;
- `score_cases` (everything else that changes a case's messages or their categories: merge,
  split, the accurate tier, refreshed metrics): rebuilds the signals from the messages.

`rescore_stored` and `rescore_active` score from the kept signals (a boost, an agent's
category, time passing); a case without them is rebuilt from its messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from carebird.cases.models import Case
from carebird.cases.priority import DEFAULT_WEIGHTS, CaseSignals, score
from carebird.cases.signals import RECENT, entry, merge, summarize
from carebird.cases.states import ACTIVE
from carebird.cases.threading import ThreadResult
from carebird.db.base import utcnow
from carebird.db.session import take_sqlite_write_lock
from carebird.ingest.models import Author, Message
from carebird.ingest.store import StoredMessage, chunks

Weights = Mapping[str, float]


_CASE = (
    Case.id,
    Case.status,
    Case.category,
    Case.category_source,
    Case.priority_boost,
    Author.followers,
    Author.verified,
)
_KEPT = (
    Case.inbound_count,
    Case.inbound_category,
    Case.inbound_sentiment,
    Case.inbound_cues,
    Case.inbound_interactions,
    Case.inbound_interactions_at_arrival,
    Case.waiting_since,
)


def score_batch(
    session: Session,
    stored: Sequence[StoredMessage],
    threaded: ThreadResult,
    refreshed_cases: Iterable[int] = (),
    *,
    now: datetime | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
) -> set[int]:
    """Score the cases an intake batch touched: its new messages merged into their cases'
    kept signals, no message read; the cases whose messages' metrics were refreshed (and any
    case without kept signals) rebuilt from their messages. The cases whose category changed."""
    now = now or utcnow()
    rebuild = set(refreshed_cases)
    fresh = set(threaded.new_cases)  # opened by this batch: all their messages are in it
    added: dict[int, list[list[Any]]] = {}
    for m in stored:
        case_id = threaded.case_of.get(m.id)
        if case_id is not None and case_id not in rebuild:
            added.setdefault(case_id, []).append(entry(m))
    rebuild |= threaded.touched - set(added)  # a message the batch did not say: rebuilt
    updates: list[dict[str, Any]] = []
    recategorised: set[int] = set()
    for part in chunks(sorted(added)):
        stmt = (
            select(*_CASE, Case.recent_messages)
            .join(Author, Author.id == Case.customer_id)
            .where(Case.id.in_(part))
            # Merged into what this transaction reads. NO KEY UPDATE: the batch's messages
            # already hold KEY SHARE on their cases (foreign key), which FOR UPDATE would wait
            # on: two intakes writing to one case would deadlock.
            .with_for_update(of=Case, key_share=True)
            .order_by(Case.id)
        )
        for case in session.execute(stmt):
            if case.recent_messages is None and case.id not in fresh:
                rebuild.add(case.id)  # signals never kept: from its messages
                continue
            kept = summarize(merge(case.recent_messages, added[case.id]))
            _score_into(case, kept, now, weights, updates, recategorised)
    _write(session, updates)
    return recategorised | score_cases(session, rebuild, now=now, weights=weights)


def score_cases(
    session: Session,
    case_ids: Iterable[int],
    *,
    now: datetime | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
) -> set[int]:
    """Rebuild the signals of the given cases from their latest messages and score them; the
    cases whose category changed (the routing rules look at them again)."""
    now = now or utcnow()
    updates: list[dict[str, Any]] = []
    recategorised: set[int] = set()
    for part in chunks(sorted(set(case_ids))):
        # The case rows locked (in id order) before their messages are read: an intake adding a
        # message to one of them meanwhile waits, instead of being overwritten by this rebuild.
        cases = session.execute(
            select(*_CASE)
            .join(Author, Author.id == Case.customer_id)
            .where(Case.id.in_(part))
            .order_by(Case.id)
            .with_for_update(of=Case, key_share=True)
        ).all()
        windows = recent_windows(session, part)
        for case in cases:
            kept = summarize(windows.get(case.id, []))
            _score_into(case, kept, now, weights, updates, recategorised)
    _write(session, updates)
    return recategorised


def recent_windows(session: Session, case_ids: Sequence[int]) -> dict[int, list[list[Any]]]:
    """The entries of the latest RECENT messages of each case, oldest first (one query).

    Any `session`-like object with `execute` will do: the migration that backfilled the
    signals passes its connection."""
    recent = (
        select(
            Message.id,
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
        .where(Message.case_id.in_(case_ids))
        .subquery()
    )
    windows: dict[int, list[list[Any]]] = {}
    for m in session.execute(
        select(recent)
        .where(recent.c.rank <= RECENT)
        .order_by(recent.c.case_id, recent.c.created_at.asc(), recent.c.rank.desc())
    ):
        windows.setdefault(m.case_id, []).append(entry(m))
    return windows


def rescore_stored(
    session: Session,
    case_ids: Iterable[int],
    *,
    now: datetime | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
) -> set[int]:
    """Score the given cases from their kept signals (their messages did not change: a boost,
    an agent's category, time passing); the cases whose category changed."""
    now = now or utcnow()
    updates: list[dict[str, Any]] = []
    recategorised: set[int] = set()
    rebuild: list[int] = []
    take_sqlite_write_lock(session)  # nothing lands between the read and the write
    for part in chunks(sorted(set(case_ids))):
        stmt = (
            select(*_CASE, *_KEPT, Case.recent_messages.is_not(None).label("kept"))
            .join(Author, Author.id == Case.customer_id)
            .where(Case.id.in_(part))
            .order_by(Case.id)  # PostgreSQL: FOR NO KEY UPDATE, rows locked in id order
            .with_for_update(of=Case, key_share=True)
        )
        for case in session.execute(stmt):
            if not case.kept:
                rebuild.append(case.id)
                continue
            kept = {c.key: getattr(case, c.key) for c in _KEPT}
            _score_into(case, kept, now, weights, updates, recategorised, write_kept=False)
    _write(session, updates)
    return recategorised | score_cases(session, rebuild, now=now, weights=weights)


def rescore_active(
    session: Session,
    *,
    now: datetime | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
    batch: int = 2000,
    commit_each: bool = False,
) -> int:
    """Re-score every active case from its kept signals: waiting time keeps raising what
    nobody answered. With `commit_each`, each `batch` of cases is its own transaction: the
    intake then waits for one batch's row locks (SQLite: the write lock), never the pass's."""
    now = now or utcnow()  # one instant for the whole pass
    ids = session.scalars(select(Case.id).where(Case.status.in_([str(s) for s in ACTIVE]))).all()
    done = 0
    for part in chunks(list(ids), batch):
        rescore_stored(session, part, now=now, weights=weights)
        done += len(part)
        if commit_each:
            session.commit()
    return done


def signals_of(case: Any, kept: Mapping[str, Any], now: datetime) -> CaseSignals:
    """The priority's inputs: the case row (status, category, boost, customer) and its kept
    signals (carebird.cases.signals.summarize)."""
    if case.category_source == "agent" and case.category:
        category = case.category
    else:
        category = kept["inbound_category"] or case.category
    since = kept["waiting_since"]
    waiting = 0.0
    if since is not None and case.status in ACTIVE:
        waiting = max(0.0, (now - since).total_seconds())
    return CaseSignals(
        category=category,
        sentiment=kept["inbound_sentiment"],
        cues=frozenset(kept["inbound_cues"] or ()),
        followers=case.followers or 0,
        verified=bool(case.verified),
        interactions=kept["inbound_interactions"],
        interactions_at_arrival=kept["inbound_interactions_at_arrival"],
        waiting_seconds=waiting,
        inbound_count=kept["inbound_count"],
        boost=case.priority_boost or 0.0,
    )


def _score_into(
    case: Any,
    kept: dict[str, Any],
    now: datetime,
    weights: Weights,
    updates: list[dict[str, Any]],
    recategorised: set[int],
    *,
    write_kept: bool = True,
) -> None:
    signals = signals_of(case, kept, now)
    p = score(signals, weights)
    if signals.category != case.category:
        recategorised.add(case.id)
    row = {
        "id": case.id,
        "category": signals.category,
        "priority": p.score,
        "priority_reasons": p.reasons,
    }
    updates.append({**row, **kept} if write_kept else row)


def _write(session: Session, updates: list[dict[str, Any]]) -> None:
    """One executemany per shape of row, keyed by primary key."""
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in updates:
        by_shape.setdefault(tuple(row), []).append(row)
    for rows in by_shape.values():
        session.execute(update(Case), rows)
