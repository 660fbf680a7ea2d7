"""The embedded runner: the desk's background work as asyncio tasks inside `carebird serve`.

It runs the task functions of `carebird.jobs.tasks` on the schedules of `carebird.jobs.schedule`
(polling, reconciliation, the outbox, re-scoring, presence expiry, housekeeping), whether or
not the simulation is on. Blocking database and connector calls run in threads so the web
server stays responsive. One embedded runner per database: a lock (`jobs/lock.py`) refuses a
second one, so two `serve` on one SQLite file cannot both send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from carebird.config import Settings
from carebird.db.database import Database
from carebird.flows.intake import Intake, poll_once
from carebird.ingest.base import Connector, HasOwnAccounts
from carebird.ingest.models import NetworkAccount
from carebird.jobs.lock import RunnerBusy, runner_lock
from carebird.jobs.schedule import ACCOUNTS_REFRESH_SECONDS, HEARTBEAT_SECONDS, SCHEDULES
from carebird.jobs.tasks import (
    Desk,
    beat,
    expire_presence,
    poll_stream,
    purge_events,
    reclassify,
    reconcile,
    refresh_waits,
    rescore,
    send_outbox,
    watch_deadlines,
)
from carebird.plugins import connector_class

log = logging.getLogger(__name__)


def simulated_network(settings: Settings) -> Connector:
    """The demo's simulated network, live from a little before now so traffic shows at once."""
    cls = connector_class("sim")
    start = datetime.now(UTC) - timedelta(hours=2)
    return cls(  # type: ignore[no-any-return]
        seed=settings.sim_seed,
        start=start,
        speed=settings.sim_speed,
        rate_per_hour=settings.sim_rate_per_hour,
    )


def register_accounts(db: Database, connector: Connector) -> None:
    """Make the connector's own handles desk accounts, so their posts are recognised as ours."""
    if not isinstance(connector, HasOwnAccounts):
        return
    with db.session() as session, session.begin():
        known = {
            a.handle.lower()
            for a in session.scalars(
                select(NetworkAccount).where(NetworkAccount.network == connector.network)
            )
        }
        for handle, role in connector.accounts():
            if handle.lower() in known:
                continue
            author = connector.brand_author(handle)
            session.add(
                NetworkAccount(
                    network=connector.network,
                    handle=handle,
                    external_id=author.external_id,
                    display_name=author.display_name,
                    role=role,
                )
            )


async def poll_forever(
    db: Database,
    connector: Connector,
    *,
    settings: Settings,
    stop: asyncio.Event,
    intake: Intake,
) -> None:
    while not stop.is_set():
        more = False
        try:
            report, more = await asyncio.to_thread(
                poll_once,
                db,
                connector,
                intake=intake,
                limit=settings.ingest_batch_size,
            )
            if report.stored:
                log.info(
                    "%s: %d stored, %d new cases",
                    connector.source,
                    report.stored,
                    len(report.new_cases),
                )
        except Exception:  # keep polling: a failed batch is re-fetched from the saved cursor
            log.exception("polling %s failed", connector.source)
        if not more:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.poll_interval_seconds)


async def every(
    name: str,
    seconds: float,
    work: Callable[[], object],
    *,
    stop: asyncio.Event,
    first_wait: float = 0.0,
) -> None:
    """Call `work` (in a thread) every `seconds` until `stop`; a failure is logged, not fatal."""
    wait = first_wait
    while not stop.is_set():
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            if stop.is_set():
                return
        try:
            await asyncio.to_thread(work)
        except Exception:
            log.exception("%s failed", name)
        wait = seconds


async def poll_stream_forever(desk: Desk, key: str, *, stop: asyncio.Event) -> None:
    """Poll one stream at the pace each poll asks for; its account's removal ends the loop."""
    failures = 0
    while not stop.is_set():
        outcome = await asyncio.to_thread(poll_stream, desk, key, failures)
        if outcome is None:
            return
        failures = failures + 1 if outcome.error else 0
        if outcome.wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), outcome.wait)


async def supervise_streams(desk: Desk, *, stop: asyncio.Event) -> None:
    """Keep one polling loop per stream of the stored accounts, added as accounts appear."""
    loops: dict[str, asyncio.Task[None]] = {}
    try:
        while not stop.is_set():
            try:
                keys = list((await asyncio.to_thread(desk.sources)).keys())
            except Exception:
                log.exception("reading the accounts failed")
                keys = list(loops)
            for key in keys:
                if key not in loops or loops[key].done():
                    loops[key] = asyncio.create_task(poll_stream_forever(desk, key, stop=stop))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), ACCOUNTS_REFRESH_SECONDS)
    finally:
        await asyncio.gather(*loops.values(), return_exceptions=True)


@contextlib.asynccontextmanager
async def background(settings: Settings, db: Database) -> AsyncIterator[Desk | None]:
    """Run the desk's background work for the lifetime of the block.

    Yields the runner's `Desk`, or None when another process holds the database's runner
    lock (then this process serves the web only and says so).
    """
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(runner_lock(db))
        except RunnerBusy as exc:
            log.warning("%s", exc)
            sys.stderr.write(f"carebird: {exc}\n")
            sys.stderr.flush()
            yield None
            return
        async with _running(settings, db) as desk:
            yield desk


@contextlib.asynccontextmanager
async def _running(settings: Settings, db: Database) -> AsyncIterator[Desk]:
    extra: dict[str, Connector] = {}
    if settings.simulate:
        sim = simulated_network(settings)
        await asyncio.to_thread(register_accounts, db, sim)
        extra[sim.network] = sim
    desk = Desk(settings, db, kind="embedded", extra_senders=extra)
    await asyncio.to_thread(desk.refresh_accounts, force=True)
    intake = await asyncio.to_thread(lambda: desk.intake)
    stop = asyncio.Event()
    stopping = threading.Event()  # read by the outbox between two sends
    tasks = [
        asyncio.create_task(poll_forever(db, c, settings=settings, stop=stop, intake=intake))
        for c in extra.values()
    ]
    tasks.append(asyncio.create_task(supervise_streams(desk, stop=stop)))
    work: dict[str, Callable[[], object]] = {
        "send_outbox": lambda: send_outbox(desk, should_stop=stopping.is_set, limit=10_000),
        "reconcile": lambda: reconcile(desk),
        "rescore": lambda: rescore(desk),
        "reclassify": lambda: reclassify(desk),
        "expire_presence": lambda: expire_presence(desk),
        "watch_deadlines": lambda: watch_deadlines(desk),
        "purge_events": lambda: purge_events(desk),
        "refresh_waits": lambda: refresh_waits(desk),
    }
    for sched in SCHEDULES:
        if sched.task not in work:
            continue  # polling is supervised above
        seconds = sched.seconds(settings)
        first = seconds if sched.task in ("reconcile", "rescore") else 0.0
        tasks.append(
            asyncio.create_task(
                every(sched.task, seconds, work[sched.task], stop=stop, first_wait=first)
            )
        )
    tasks.append(
        asyncio.create_task(every("heartbeat", HEARTBEAT_SECONDS, lambda: beat(desk), stop=stop))
    )
    try:
        yield desk
    finally:
        stop.set()
        stopping.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(beat, desk, stopping=True)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the background worker stopped", exc_info=task.exception())
        sys.stderr.write(f"carebird: the background worker stopped: {task.exception()!r}\n")


@contextlib.asynccontextmanager
async def serve_background(settings: Settings, db: Database) -> AsyncIterator[None]:
    """The background work `carebird serve` runs beside the web.

    On SQLite: the embedded runner (one per database file, by lock). On PostgreSQL: a
    procrastinate worker in-process, so any number of `serve` and `carebird worker` processes
    share the work without doing any of it twice. The simulation, when on, lives in this
    process (its network is in memory): it is polled here and its replies are sent from here.
    """
    if db.dialect != "postgresql":
        async with background(settings, db):
            yield
        return
    from carebird.jobs.worker import run_worker

    extra: dict[str, Connector] = {}
    stop = asyncio.Event()
    side: list[asyncio.Task[None]] = []
    if settings.simulate:
        sim = simulated_network(settings)
        await asyncio.to_thread(register_accounts, db, sim)
        extra[sim.network] = sim
        intake = await asyncio.to_thread(Intake.from_settings, settings)
        side.append(
            asyncio.create_task(poll_forever(db, sim, settings=settings, stop=stop, intake=intake))
        )
    worker = asyncio.create_task(
        run_worker(settings, db, kind="embedded", extra_senders=extra, stop=stop)
    )
    worker.add_done_callback(_log_failure)
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(worker, *side, return_exceptions=True)


@contextlib.contextmanager
def background_thread(settings: Settings, db: Database) -> Iterator[None]:
    """`serve_background` on a thread and event loop of its own for the block: `carebird serve
    --workers N` runs it in its supervising process, so the web processes' requests never
    share an interpreter (and its lock) with the periodic passes."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop: asyncio.Event | None = None
    failed: list[BaseException] = []

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with serve_background(settings, db):
            started.set()
            await stop.wait()

    def run() -> None:
        try:
            loop.run_until_complete(main())
        except Exception as exc:
            failed.append(exc)
            log.exception("the background work stopped")
            sys.stderr.write(f"carebird: the background work stopped: {exc!r}\n")
        finally:
            started.set()
            loop.close()

    thread = threading.Thread(target=run, name="carebird-background", daemon=True)
    thread.start()
    started.wait()
    if failed:  # it could not start: the desk does not either (as with one process)
        thread.join(timeout=60)
        raise failed[0]
    try:
        yield
    finally:
        if stop is not None and thread.is_alive():
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=60)
