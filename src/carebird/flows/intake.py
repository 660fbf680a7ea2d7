"""One batch through the pipeline: store (ingest) → thread (cases), with its cursor, atomically.

Every entry point — the poller, the importer, the benchmark, the tests — calls these functions,
so the guarantee "stored once, cursor saved with what it covers" holds everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.cases.threading import thread_messages
from carebird.db.database import Database
from carebird.ingest.base import Connector, InboundItem
from carebird.ingest.store import load_cursor, save_cursor, store_items
from carebird.live.events import after_batch
from carebird.understand.service import Understander, default_understander, score_cases

log = logging.getLogger(__name__)
_UNSET = object()


@dataclass(slots=True)
class BatchReport:
    stored: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    new_cases: list[int] = field(default_factory=list)
    touched_cases: set[int] = field(default_factory=set)
    fetched: int = 0  # items the connector returned (stored + duplicates + rejected)
    newest_at: datetime | None = None  # creation time of the newest item fetched
    message_ids: list[int] = field(default_factory=list)  # the messages this batch stored

    def add(self, other: BatchReport) -> None:
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)
        self.new_cases.extend(other.new_cases)
        self.touched_cases |= other.touched_cases
        self.fetched += other.fetched
        self.message_ids.extend(other.message_ids)
        if other.newest_at and (self.newest_at is None or other.newest_at > self.newest_at):
            self.newest_at = other.newest_at


def process_batch(
    session: Session,
    items: Sequence[InboundItem],
    *,
    reopen_window: timedelta,
    source: str | None = None,
    cursor: str | object | None = _UNSET,
    understander: Understander | None = None,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> BatchReport:
    """Store, understand, thread and score `items` in the caller's transaction (+ cursor)."""
    understander = understander or default_understander()
    stored = store_items(session, items, annotate=understander.columns)
    threaded = thread_messages(session, stored.new, reopen_window=reopen_window)
    score_cases(session, threaded.touched | stored.refreshed_cases, weights=weights)
    if source is not None and cursor is not _UNSET:
        save_cursor(session, source, cursor)  # type: ignore[arg-type]
    report = BatchReport(
        fetched=len(items),
        newest_at=max((i.created_at for i in items if i.created_at.tzinfo), default=None),
        stored=len(stored.new),
        message_ids=[m.id for m in stored.new],
        duplicates=stored.duplicates,
        rejected=stored.rejected,
        new_cases=threaded.new_cases,
        touched_cases=threaded.touched,
    )
    # Search index and live events last: on PostgreSQL publishing holds a lock to commit.
    after_batch(session, report)
    return report


def poll_once(
    db: Database,
    connector: Connector,
    *,
    reopen_window: timedelta,
    limit: int = 500,
    understander: Understander | None = None,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> tuple[BatchReport, bool]:
    """Fetch one batch after the saved cursor and commit it with its new cursor.

    Returns the report and whether the connector has more ready. A crash anywhere before the
    commit leaves the old cursor, so the same items are fetched again and deduplicated.
    """
    with db.session() as session, session.begin():
        cursor = load_cursor(session, connector.source)
    fetched = connector.fetch(cursor, limit=limit)
    with db.session() as session, session.begin():
        report = process_batch(
            session,
            fetched.items,
            reopen_window=reopen_window,
            source=connector.source,
            cursor=fetched.cursor,
            understander=understander,
            weights=weights,
        )
    if report.rejected:
        for ext, why in report.rejected:
            log.warning("%s: rejected %s: %s", connector.source, ext, why)
    return report, fetched.more


def drain(
    db: Database, connector: Connector, *, reopen_window: timedelta, limit: int = 500
) -> BatchReport:
    """Poll until the connector has nothing more ready."""
    total = BatchReport()
    while True:
        report, more = poll_once(db, connector, reopen_window=reopen_window, limit=limit)
        total.add(report)
        if not more:
            return total
