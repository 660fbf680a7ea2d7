"""`carebird worker`: the desk's background work under procrastinate, on PostgreSQL.

Several workers (and `carebird serve` processes, which run one in-process) share the work
through procrastinate's job table:
- each stream is a chain of `poll_stream` jobs with a `lock` and a `queueing_lock` named after
  the stream: never two passes on one stream at once, at most one waiting; each pass defers
  the next after the wait the poll asked for; `ensure_polling` restarts a broken chain;
- every schedule of `jobs/schedule.py` is a periodic job, deferred once per period for the
  whole cluster (procrastinate records each period's defer under a unique key);
- a worker killed with `kill -9` stops beating: `retry_stalled` closes its jobs after
  STALLED_AFTER seconds (the schedules defer the work again), and its outbox rows' leases
  expire (`reply/sending.py`), so another worker takes them over, asking the network first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Status
from procrastinate.schema import SchemaManager
from procrastinate.types import TimeDeltaParams
from sqlalchemy import text
from sqlalchemy.engine import make_url

from carebird.config import Settings
from carebird.db.database import Database
from carebird.ingest.base import Connector
from carebird.jobs import tasks
from carebird.jobs.schedule import HEARTBEAT_SECONDS, SCHEDULES, SEND_BATCH, SEND_SLOTS, cron_for

log = logging.getLogger(__name__)
STALLED_AFTER = 30.0  # seconds without a worker heartbeat before its jobs are retried
SCHEMA_LOCK = 0x63627363  # advisory lock serialising schema creation between processes


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as psycopg's conninfo (no driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_schema(db: Database) -> None:
    """Create procrastinate's tables once (two workers starting together wait for each other)."""
    with db.engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
            sql = SchemaManager.get_schema()
            conn.exec_driver_sql(sql.replace("%", "%%"))


def build_app(desk: tasks.Desk, *, stopping: threading.Event) -> procrastinate.App:
    """A procrastinate app whose tasks run this process's `Desk`."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=libpq_url(desk.db.url), min_size=1, max_size=4
        )
    )
    defer_poll = _add_polling(app, desk, stopping)
    dispatch_outbox = _add_outbox(app, desk, stopping)

    async def ensure_polling(timestamp: int) -> None:
        for source in await asyncio.to_thread(lambda: list(desk.sources())):
            await defer_poll(source, 0)

    def sync(fn: Any) -> Any:
        async def run(timestamp: int) -> None:
            await asyncio.to_thread(fn, desk)

        return run

    periodic_work: Mapping[str, Any] = {
        "send_outbox": dispatch_outbox,
        "ensure_polling": ensure_polling,
        "reconcile": sync(tasks.reconcile),
        "rescore": sync(tasks.rescore),
        "reclassify": sync(tasks.reclassify),
        "expire_presence": sync(tasks.expire_presence),
        "watch_deadlines": sync(tasks.watch_deadlines),
        "purge_events": sync(tasks.purge_events),
        "refresh_waits": sync(tasks.refresh_waits),
    }
    for sched in SCHEDULES:
        fn = periodic_work[sched.task]
        task = app.task(name=f"every_{sched.task}", queueing_lock=f"every:{sched.task}")(fn)
        app.periodic(cron=cron_for(sched.seconds(desk.settings)), periodic_id=sched.task)(task)
    _add_stalled_retry(app)
    app.carebird_defer_poll = defer_poll  # type: ignore[attr-defined]
    return app


def _add_polling(
    app: procrastinate.App, desk: tasks.Desk, stopping: threading.Event
) -> Callable[..., Awaitable[bool]]:
    """The `poll_stream` task: one pass on a stream, which defers the stream's next pass.
    Returns the function deferring a pass (False: one is already waiting)."""

    @app.task(name="poll_stream", pass_context=False)
    async def poll_stream(source: str, failures: int = 0) -> None:
        outcome = await asyncio.to_thread(tasks.poll_stream, desk, source, failures)
        if outcome is None or stopping.is_set():
            return  # the stream is gone; or stopping: `ensure_polling` picks it up again
        failures = failures + 1 if outcome.error else 0
        await _defer_poll(source, failures, after=outcome.wait)

    async def _defer_poll(source: str, failures: int, *, after: float = 0.0) -> bool:
        # Whole milliseconds: procrastinate's TimeDeltaParams declares int values.
        delay: TimeDeltaParams | None = {"milliseconds": math.ceil(after * 1000)}
        deferrer = poll_stream.configure(
            lock=f"poll:{source}",
            queueing_lock=f"poll:{source}",
            schedule_in=delay if after > 0 else None,
        )
        try:
            await deferrer.defer_async(source=source, failures=failures)
        except AlreadyEnqueued:
            return False  # its next pass is already waiting
        return True

    return _defer_poll


def _add_outbox(
    app: procrastinate.App, desk: tasks.Desk, stopping: threading.Event
) -> Callable[[int], Awaitable[None]]:
    """The `send_outbox` task; returns the periodic work deferring as many as are due."""

    @app.task(name="send_outbox", pass_context=False)
    async def send_outbox(slot: int = 0) -> int:
        return await asyncio.to_thread(
            tasks.send_outbox, desk, should_stop=stopping.is_set, limit=SEND_BATCH
        )

    async def dispatch_outbox(timestamp: int) -> None:
        due = await asyncio.to_thread(tasks.outbox_due, desk)
        # Rows are claimed one by one, so senders run in parallel; an idle desk defers none.
        for slot in range(min(SEND_SLOTS, math.ceil(due / SEND_BATCH))):
            with contextlib.suppress(AlreadyEnqueued):
                await send_outbox.configure(queueing_lock=f"send:{slot}").defer_async(slot=slot)

    return dispatch_outbox


def _add_stalled_retry(app: procrastinate.App) -> None:
    """The periodic task closing the jobs of dead workers."""

    @app.periodic(cron=cron_for(STALLED_AFTER / 2), periodic_id="retry_stalled")
    @app.task(name="retry_stalled", queueing_lock="retry_stalled")
    async def retry_stalled(timestamp: int) -> None:
        """Close the jobs of workers that stopped beating (killed): their stream's lock is
        released and the schedules defer the work again (`ensure_polling` restarts the poll
        chain, the outbox re-claims rows whose lease ran out). Retrying them instead would
        clash with the queueing lock of the job already deferred in their place."""
        manager = app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER):
            log.warning("job %s (%s) was running on a dead worker: closed", job.id, job.task_name)
            assert job.id is not None
            await manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=True)


async def run_worker(
    settings: Settings,
    db: Database,
    *,
    kind: str = "worker",
    extra_senders: Mapping[str, Connector] | None = None,
    concurrency: int = 4,
    stop: asyncio.Event | None = None,
) -> None:
    """Run one worker until `stop` is set (or SIGTERM/SIGINT when `stop` is None).

    On a stop the running jobs finish (a reply being sent is sent and recorded) and no new one
    starts; the outbox passes stop between two sends.
    """
    await asyncio.to_thread(ensure_schema, db)
    desk = tasks.Desk(settings, db, kind=kind, extra_senders=extra_senders)
    await asyncio.to_thread(desk.refresh_accounts, force=True)
    await asyncio.to_thread(lambda: desk.intake)  # load the model before taking jobs
    stopping = threading.Event()
    app = build_app(desk, stopping=stopping)
    beats = asyncio.Event()

    async def heartbeat() -> None:
        while not beats.is_set():
            try:
                await asyncio.to_thread(tasks.beat, desk)
            except Exception:
                log.exception("heartbeat failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(beats.wait(), HEARTBEAT_SECONDS)

    async with app.open_async():
        beating = asyncio.create_task(heartbeat())
        for source in desk.sources():
            await app.carebird_defer_poll(source, 0)  # type: ignore[attr-defined]
        worker = asyncio.create_task(
            app.run_worker_async(
                name=desk.name,
                concurrency=concurrency,
                install_signal_handlers=stop is None,
                delete_jobs="successful",
                update_heartbeat_interval=min(10.0, STALLED_AFTER / 3),
                stalled_worker_timeout=STALLED_AFTER,
                fetch_job_polling_interval=1.0,
            )
        )
        try:
            if stop is None:
                await worker
            else:
                waiting = asyncio.create_task(stop.wait())
                await asyncio.wait({worker, waiting}, return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
                if not worker.done():
                    stopping.set()
                    worker.cancel()  # procrastinate stops taking jobs, lets running ones end
                    with contextlib.suppress(asyncio.CancelledError):
                        await worker
        finally:
            stopping.set()
            beats.set()
            await asyncio.gather(beating, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(tasks.beat, desk, stopping=True)
