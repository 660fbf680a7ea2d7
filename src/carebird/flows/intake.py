"""Intake: one batch through the pipeline — store (ingest), understand, thread and score
(cases), index for search and announce to open inboxes — with its cursor, atomically.

Every entry point — the poller, the importer, the simulator, the sender recording its own
posts, the benchmark, the tests — calls these functions with an `Intake` built once from the
settings, so the guarantee "stored once, cursor saved with what it covers" and the side effects
(search index, live events) hold everywhere, with the desk's configured classifier and weights.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import multiprocessing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from carebird.cases.incident_watch import detect_incidents
from carebird.cases.priority import weights_for
from carebird.cases.routing import RoutingSetup, reroute, route
from carebird.cases.scoring import score_batch
from carebird.cases.search import add_message_terms, index_cases
from carebird.cases.threading import thread_messages
from carebird.config import Settings
from carebird.db.database import Database
from carebird.flows.announce import case_payloads
from carebird.ingest.base import Connector, FetchResult, InboundItem
from carebird.ingest.store import Prepared, load_cursor, prepare_items, save_cursor, store_items
from carebird.insights.wait_store import current_wait
from carebird.live.events import CaseNew, MessageNew, publish
from carebird.reply.acknowledging import AckSetup, acknowledge_new_cases
from carebird.understand.classifier import load_classifier
from carebird.understand.service import Understander

log = logging.getLogger(__name__)
B = TypeVar("B")  # a batch, as the caller holds it


@dataclass(frozen=True, slots=True)
class Intake:
    """How this desk takes messages in: its classifier, priority weights and reopen window.

    Built once per process from the settings (`Intake.from_settings`) and passed down to every
    entry point, so none of them falls back on a default of its own."""

    understander: Understander
    reopen_window: timedelta
    weights: Mapping[str, float]
    routing: RoutingSetup = field(default_factory=RoutingSetup)
    # Automatic acknowledgements of new cases (per account, off unless enabled); None: never.
    acknowledge: AckSetup | None = None
    incidents: bool = True  # detect bursts (carebird.cases.incident_watch)

    @classmethod
    def from_settings(cls, settings: Settings) -> Intake:
        classifier = load_classifier(settings.classifier, model_path=settings.model_path)
        return cls(
            understander=Understander(classifier),
            reopen_window=timedelta(days=settings.reopen_window_days),
            weights=weights_for(settings.priority_weights),
            routing=RoutingSetup.from_config(settings.routing, settings.teams),
            acknowledge=dataclasses.replace(
                AckSetup.from_settings(settings), current_wait=current_wait
            ),
        )


@dataclass(frozen=True, slots=True)
class CursorUpdate:
    """A source's cursor to save with the batch it covers."""

    source: str
    cursor: str | None


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


def prepare_batch(items: Sequence[InboundItem], *, intake: Intake) -> Prepared:
    """The database-free part of `process_batch` (normalise, understand): run it ahead, on
    another thread, while the previous batch is written (see `prepared_ahead`)."""
    return prepare_items(items, annotate=intake.understander.columns)


def process_batch(
    session: Session,
    items: Sequence[InboundItem],
    *,
    intake: Intake,
    cursor: CursorUpdate | None = None,
    prepared: Prepared | None = None,
) -> BatchReport:
    """Store, understand, thread and score `items` in the caller's transaction (+ cursor),
    then index them for search and announce them to open inboxes. `prepared`: the result of
    `prepare_batch(items)` when it was computed ahead."""
    stored = store_items(session, items, annotate=intake.understander.columns, prepared=prepared)
    threaded = thread_messages(session, stored.new, reopen_window=intake.reopen_window)
    recategorised = score_batch(
        session, stored.new, threaded, stored.refreshed_cases, weights=intake.weights
    )
    route(session, threaded.new_cases, intake.routing, weights=intake.weights)
    reroute(
        session, recategorised - set(threaded.new_cases), intake.routing, weights=intake.weights
    )
    if intake.acknowledge is not None:  # through the outbox, in this transaction
        acknowledge_new_cases(session, threaded.new_cases, intake.acknowledge)
    if intake.incidents:  # bursts of one cause: their cases grouped into one incident
        detect_incidents(session, [m.id for m in stored.new if m.direction == "in"])
    if cursor is not None:
        save_cursor(session, cursor.source, cursor.cursor)
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


def after_batch(session: Session, report: BatchReport) -> None:
    """Everything the desk does once a batch is threaded: search index, then live events
    (case.new for opened cases, message.new for the others touched)."""
    new = set(report.new_cases)
    index_cases(session, new)  # a new case: its customer, language and first words
    # A case written to again: only the batch's new messages add words.
    add_message_terms(session, report.message_ids, report.touched_cases - new)
    payloads = case_payloads(session, new | set(report.touched_cases))
    publish(
        session,
        *(
            (CaseNew if case_id in new else MessageNew)(payload)
            for case_id, payload in sorted(payloads.items())
        ),
    )


def poll_once(
    db: Database,
    connector: Connector,
    *,
    intake: Intake,
    limit: int = 500,
) -> tuple[BatchReport, bool]:
    """Fetch one batch after the saved cursor and commit it with its new cursor.

    Returns the report and whether the connector has more ready. A crash anywhere before the
    commit leaves the old cursor, so the same items are fetched again and deduplicated.
    """
    with db.session() as session, session.begin():
        cursor = load_cursor(session, connector.source)
    fetched = connector.fetch(cursor, limit=limit)
    return _commit_page(db, connector, fetched, intake=intake), fetched.more


def _commit_page(
    db: Database,
    connector: Connector,
    fetched: FetchResult,
    *,
    intake: Intake,
    prepared: Prepared | None = None,
) -> BatchReport:
    """One fetched page through the pipeline, committed with the cursor it reached."""
    with db.session() as session, session.begin():
        report = process_batch(
            session,
            fetched.items,
            intake=intake,
            cursor=CursorUpdate(connector.source, fetched.cursor),
            prepared=prepared,
        )
    for ext, why in report.rejected:
        log.warning("%s: rejected %s: %s", connector.source, ext, why)
    return report


def drain(db: Database, connector: Connector, *, intake: Intake, limit: int = 500) -> BatchReport:
    """Poll until the connector has nothing more ready: each batch is committed with its
    cursor as by `poll_once`; the next one is fetched (and, as `PREPARE_DEFAULT` says,
    prepared) before it."""
    total = BatchReport()
    with db.session() as session, session.begin():
        start = load_cursor(session, connector.source)

    def pages() -> Iterator[FetchResult]:
        cursor = start
        while True:
            fetched = connector.fetch(cursor, limit=limit)
            yield fetched
            if not fetched.more:
                return
            cursor = fetched.cursor

    for fetched, prepared in prepared_ahead(pages(), _items_of, intake=intake):
        report = _commit_page(db, connector, fetched, intake=intake, prepared=prepared)
        total.add(report)
    return total


def _items_of(fetched: FetchResult) -> Sequence[InboundItem]:
    return fetched.items


PREPARE_MODES = ("thread", "process", "inline")
# Measured on the 2-core development machine (shared, loaded by other work): "inline" beat
# "thread" (the prepare thread holds the GIL while the writer waits to get it back after each
# database call) and "process" (pickling, and no idle core to run on). On a host with an idle
# core, try `carebird bench ingest --prepare process` and change this if it wins there.
PREPARE_DEFAULT = "inline"
_worker_intake: Intake | None = None  # in a worker process of the "process" mode


def prepared_ahead(
    batches: Iterable[B],
    items_of: Callable[[B], Sequence[InboundItem]],
    *,
    intake: Intake,
    mode: str = PREPARE_DEFAULT,
) -> Iterator[tuple[B, Prepared]]:
    """Each batch with `prepare_batch(items_of(batch))`, the next batch's preparation running
    while the caller writes the current one: on a thread of its own ("thread"), in a forked
    worker process ("process": no GIL shared, but items and results are pickled), or not
    ahead at all ("inline").

    The result is what preparing each batch in turn gives; an exception while preparing is
    raised here, when its batch is reached, after the batches before it were yielded."""
    with _executor(intake, mode) as (pool, prepare):
        ahead: tuple[B, Future[Prepared]] | None = None
        for batch in batches:
            submitted = (batch, pool.submit(prepare, items_of(batch)))
            if ahead is not None:
                yield ahead[0], ahead[1].result()
            ahead = submitted
        if ahead is not None:
            yield ahead[0], ahead[1].result()


Prepare = Callable[[Sequence[InboundItem]], Prepared]


@contextmanager
def _executor(intake: Intake, mode: str) -> Iterator[tuple[Executor, Prepare]]:
    if mode not in PREPARE_MODES:
        raise ValueError(f"unknown prepare mode {mode!r} (one of {', '.join(PREPARE_MODES)})")
    pool: Executor
    if mode == "process":
        # Forked, the worker inherits the loaded models (nothing to pickle but the batches).
        fork = multiprocessing.get_context("fork")
        pool = ProcessPoolExecutor(1, mp_context=fork, initializer=_adopt, initargs=(intake,))
        prepare: Prepare = _prepare_in_worker
    else:
        pool = ThreadPoolExecutor(1, "carebird-prepare") if mode == "thread" else _Inline()
        prepare = functools.partial(_prepare_with, intake)
    try:
        yield pool, prepare
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _prepare_with(intake: Intake, items: Sequence[InboundItem]) -> Prepared:
    return prepare_batch(items, intake=intake)


def _adopt(intake: Intake) -> None:
    global _worker_intake
    _worker_intake = intake


def _prepare_in_worker(items: Sequence[InboundItem]) -> Prepared:
    assert _worker_intake is not None, "not in a prepare worker"
    return prepare_batch(items, intake=_worker_intake)


class _Inline(Executor):
    """Runs each task when it is submitted (the "inline" mode: no overlap)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        done: Future[Any] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller by .result(), as a pool would
            done.set_exception(exc)
        return done
