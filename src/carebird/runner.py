"""Background work inside `carebird serve`: poll connectors, send the outbox (asyncio tasks).

Blocking database and connector calls run in worker threads so the web server stays responsive.
Every schedule of the embedded desk is declared here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from carebird.cases.hours import BusinessHours
from carebird.cases.presence import expire_presence
from carebird.config import Settings
from carebird.db.database import Database
from carebird.events import publish_rescored, purge_events
from carebird.ingest.base import Connector
from carebird.ingest.models import NetworkAccount
from carebird.ingest.sources import Source, account_connectors
from carebird.pipeline import poll_once
from carebird.plugins import connector_class
from carebird.polling import PollingPlan, poll_source, reconcile_source
from carebird.reply.sending import send_pending
from carebird.understand.classifier import load_classifier
from carebird.understand.priority import weights_for
from carebird.understand.service import Understander, rescore_active

log = logging.getLogger(__name__)
OUTBOX_INTERVAL = 1.0  # seconds between outbox passes


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
    accounts = getattr(connector, "accounts", None)
    if accounts is None:
        return
    with db.session() as session, session.begin():
        known = {
            a.handle.lower()
            for a in session.scalars(
                select(NetworkAccount).where(NetworkAccount.network == connector.network)
            )
        }
        for handle, role in accounts():
            if handle.lower() in known:
                continue
            author = connector.brand_author(handle)  # type: ignore[attr-defined]
            session.add(
                NetworkAccount(
                    network=connector.network,
                    handle=handle,
                    external_id=author.external_id,
                    display_name=author.display_name,
                    role=role,
                )
            )


def understander_for(settings: Settings) -> Understander:
    """The desk's classifier (a plugin by name), using its trained model file if one is set."""
    return Understander(load_classifier(settings.classifier, model_path=settings.model_path))


async def poll_forever(
    db: Database,
    connector: Connector,
    *,
    settings: Settings,
    stop: asyncio.Event,
    understander: Understander,
) -> None:
    window = timedelta(days=settings.reopen_window_days)
    weights = weights_for(settings.priority_weights)
    while not stop.is_set():
        more = False
        try:
            report, more = await asyncio.to_thread(
                poll_once,
                db,
                connector,
                reopen_window=window,
                limit=settings.ingest_batch_size,
                understander=understander,
                weights=weights,
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


async def poll_source_forever(
    db: Database,
    source: Source,
    *,
    settings: Settings,
    plan: PollingPlan,
    stop: asyncio.Event,
    understander: Understander,
) -> None:
    """Poll one network stream at the plan's pace; rate limits and the cap pause it alone."""
    window = timedelta(days=settings.reopen_window_days)
    weights = weights_for(settings.priority_weights)
    failures = 0
    last_reconcile = datetime.now(UTC)
    while not stop.is_set():
        try:
            outcome = await asyncio.to_thread(
                poll_source,
                db,
                source.connector,
                account_id=source.account_id,
                reopen_window=window,
                plan=plan,
                limit=settings.ingest_batch_size,
                understander=understander,
                weights=weights,
                limits=lambda: source.meter.limits,
                failures=failures,
            )
            failures = failures + 1 if outcome.error else 0
            wait = outcome.wait
        except Exception:  # a bug or an unwrapped SDK error: keep the desk up, retry later
            log.exception("polling %s failed", source.connector.source)
            failures += 1
            wait = min(600.0, plan.open_seconds * 2 ** min(failures, 6))
        now = datetime.now(UTC)
        if now - last_reconcile >= timedelta(seconds=settings.reconcile_interval_seconds):
            last_reconcile = now
            try:
                await asyncio.to_thread(
                    reconcile_source,
                    db,
                    source.connector,
                    since=now - timedelta(minutes=settings.reconcile_window_minutes),
                    until=now - timedelta(seconds=30),  # let the network index the newest
                    reopen_window=window,
                    understander=understander,
                    weights=weights,
                )
            except Exception:
                log.exception("reconciling %s failed", source.connector.source)
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)


def polling_plan(settings: Settings) -> PollingPlan:
    return PollingPlan(
        open_seconds=settings.poll_open_seconds,
        closed_seconds=settings.poll_closed_seconds,
        hours=BusinessHours.parse(settings.opening_hours, settings.timezone),
    )


async def send_forever(
    db: Database,
    connectors: Mapping[str, Connector],
    *,
    settings: Settings,
    stop: asyncio.Event,
) -> None:
    window = timedelta(days=settings.reopen_window_days)
    while not stop.is_set():
        try:
            await asyncio.to_thread(send_pending, db, connectors, reopen_window=window)
        except Exception:
            log.exception("sending the outbox failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), OUTBOX_INTERVAL)


async def rescore_forever(db: Database, *, settings: Settings, stop: asyncio.Event) -> None:
    """Waiting cases rise: re-score the active ones on a fixed interval."""
    weights = weights_for(settings.priority_weights)

    def once() -> int:
        with db.session() as session, session.begin():
            count = rescore_active(session, weights=weights)
            publish_rescored(session, count)  # one event: open inboxes re-fetch their page
            return count

    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.rescore_interval_seconds)
        if stop.is_set():
            return
        try:
            await asyncio.to_thread(once)
        except Exception:
            log.exception("re-scoring cases failed")


PRESENCE_INTERVAL = 10.0  # seconds between sweeps of expired "viewing/typing" marks
PURGE_INTERVAL = 3600.0  # seconds between purges of old live events


async def housekeeping_forever(db: Database, *, stop: asyncio.Event) -> None:
    """Expire stale presence marks (published, so avatars vanish) and purge old live events."""

    def expire() -> None:
        with db.session() as session, session.begin():
            expire_presence(session)

    def purge() -> None:
        with db.session() as session, session.begin():
            purge_events(session)

    last_purge = 0.0
    while not stop.is_set():
        try:
            await asyncio.to_thread(expire)
            now = asyncio.get_running_loop().time()
            if now - last_purge >= PURGE_INTERVAL:
                last_purge = now
                await asyncio.to_thread(purge)
        except Exception:
            log.exception("housekeeping failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PRESENCE_INTERVAL)


@contextlib.asynccontextmanager
async def background(settings: Settings, db: Database) -> AsyncIterator[None]:
    """Run the desk's background tasks for the lifetime of the block."""
    connectors: dict[str, Connector] = {}
    if settings.simulate:
        sim = simulated_network(settings)
        await asyncio.to_thread(register_accounts, db, sim)
        connectors[sim.network] = sim
    networks = await asyncio.to_thread(account_connectors, db, settings)
    connectors.update(networks.senders)
    stop = asyncio.Event()
    understander = await asyncio.to_thread(understander_for, settings)
    tasks = [
        asyncio.create_task(
            poll_forever(db, c, settings=settings, stop=stop, understander=understander)
        )
        for c in list(connectors.values())
        if c not in networks.senders.values()
    ]
    plan = polling_plan(settings)
    tasks += [
        asyncio.create_task(
            poll_source_forever(
                db, s, settings=settings, plan=plan, stop=stop, understander=understander
            )
        )
        for s in networks.sources
    ]
    tasks.append(asyncio.create_task(rescore_forever(db, settings=settings, stop=stop)))
    tasks.append(asyncio.create_task(housekeeping_forever(db, stop=stop)))
    tasks.append(asyncio.create_task(send_forever(db, connectors, settings=settings, stop=stop)))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
