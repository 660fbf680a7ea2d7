"""The desk's background tasks as plain functions, called by both runners.

A `Desk` is what one process holds to do background work: the settings, the database, the
classifier, and live connectors for the stored accounts (rebuilt when an account is added,
changed or disconnected). Each task function does one pass and returns; the runners decide
when to call it (`jobs/schedule.py`) and make sure that, across processes, a stream is polled
by one of them at a time and each periodic pass runs once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from carebird.cases.calendars import Calendar, Calendars
from carebird.cases.hours import PollingPlan
from carebird.cases.scoring import rescore_active
from carebird.cases.sla import SlaSetup
from carebird.cases.sla_watch import due_cases
from carebird.config import Settings
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.flows import deadlines
from carebird.flows.announce import announce_rescored
from carebird.flows.intake import Intake
from carebird.flows.presence import expire_presence as expire_presence_marks
from carebird.flows.reclassify import ReclassifySetup, reclassify_batch
from carebird.flows.replies import send_pending
from carebird.ingest.base import CanReconcile, Connector
from carebird.ingest.models import NetworkAccount
from carebird.ingest.sources import Source, account_connectors
from carebird.insights.wait_store import refresh_waits as refresh_wait_rows
from carebird.jobs.polling import PollOutcome, poll_source, reconcile_source
from carebird.jobs.schedule import ACCOUNTS_REFRESH_SECONDS, SEND_BATCH
from carebird.live.events import purge_events as purge_live_events
from carebird.live.runners import WorkerBeat
from carebird.mail import Mailer
from carebird.reply.sending import due_count

log = logging.getLogger(__name__)


def polling_plan(settings: Settings) -> PollingPlan:
    """The desk's plan: its opening hours, time zone and holidays (an account may differ:
    `Desk.plan_for`)."""
    return PollingPlan(
        open_seconds=settings.poll_open_seconds,
        closed_seconds=settings.poll_closed_seconds,
        hours=Calendar.parse(settings.opening_hours, settings.timezone, settings.holidays),
    )


class Desk:
    """One process's means of doing background work (thread-safe account refresh)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        kind: str = "embedded",
        extra_senders: Mapping[str, Connector] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.kind = kind
        self.name = f"{socket.gethostname()}:{os.getpid()}:{kind}"
        self.plan = polling_plan(settings)
        self.extra_senders = dict(extra_senders or {})
        self._intake: Intake | None = None
        self._reclassify: ReclassifySetup | bool | None = False  # False: not built yet
        self._sla: SlaSetup | None = None
        self._sources: dict[str, Source] = {}
        self._senders: dict[str, Connector] = {}
        self._signature: str | None = None
        self._calendars: Calendars | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    @property
    def sla(self) -> SlaSetup:
        """The desk's SLA policies (checked when first used)."""
        if self._sla is None:
            self._sla = SlaSetup.from_settings(self.settings)
        return self._sla

    @property
    def intake(self) -> Intake:
        """The desk's intake (classifier, weights, reopen window), built once, on first use."""
        if self._intake is None:
            self._intake = Intake.from_settings(self.settings)
        return self._intake

    @property
    def reclassify(self) -> ReclassifySetup | None:
        """The accurate tier's background pass (None: off), built on first use."""
        if self._reclassify is False:
            with self._lock:
                if self._reclassify is False:
                    self._reclassify = ReclassifySetup.from_settings(self.settings)
        return self._reclassify if isinstance(self._reclassify, ReclassifySetup) else None

    # -- accounts -----------------------------------------------------------------------------

    def refresh_accounts(self, *, force: bool = False) -> None:
        """Rebuild the connectors when the stored accounts changed (checked at most every
        ACCOUNTS_REFRESH_SECONDS): a new account starts being polled without a restart."""
        with self._lock:
            if not force and time.monotonic() - self._checked < ACCOUNTS_REFRESH_SECONDS:
                return
            self._checked = time.monotonic()
            signature = self._accounts_signature()
            if signature == self._signature:
                return
            built = account_connectors(self.db, self.settings)
            with self.db.session() as session:
                self._calendars = Calendars.load(session, self.sla.calendar)
            self._sources = {s.connector.source: s for s in built.sources}
            self._senders = built.senders
            self._signature = signature
            log.info("%s: %d streams", self.name, len(self._sources))

    def _accounts_signature(self) -> str:
        with self.db.session() as session:
            rows = session.execute(
                select(
                    NetworkAccount.id,
                    NetworkAccount.credentials,
                    NetworkAccount.options,
                    NetworkAccount.monthly_cap,
                )
                .where(NetworkAccount.active.is_(True), NetworkAccount.credentials.is_not(None))
                .order_by(NetworkAccount.id)
            ).all()
        return hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()

    def sources(self) -> dict[str, Source]:
        self.refresh_accounts()
        return dict(self._sources)

    def plan_for(self, account_id: int | None) -> PollingPlan:
        """The polling plan of one account's streams: its own calendar, else the desk's."""
        if self._calendars is None:
            return self.plan
        return dataclasses.replace(self.plan, hours=self._calendars.of(account_id))

    def senders(self) -> dict[str, Connector]:
        self.refresh_accounts()
        return {**self.extra_senders, **self._senders}


# -- the tasks --------------------------------------------------------------------------------


def poll_stream(desk: Desk, source_key: str, failures: int = 0) -> PollOutcome | None:
    """One poll of one stream; None when the stream no longer exists (account removed)."""
    source = desk.sources().get(source_key)
    if source is None:
        return None
    try:
        return poll_source(
            desk.db,
            source.connector,
            account_id=source.account_id,
            intake=desk.intake,
            plan=desk.plan_for(source.account_id),
            limit=desk.settings.ingest_batch_size,
            # A copy made in one step: the sender's thread records limits on the same meter.
            limits=lambda: dict(source.meter.limits),
            failures=failures,
        )
    except Exception:  # a bug or an unwrapped SDK error: keep the desk up, retry later
        log.exception("polling %s failed", source_key)
        wait = min(600.0, desk.plan.open_seconds * 2 ** min(failures + 1, 6))
        return PollOutcome(None, wait, "unexpected error")


def reconcile(desk: Desk, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> int:
    """Search each account's recent window again for what its timelines lost.

    Once per account, not per stream: every stream of an account would run the same search
    (and on X each post found is billed again), so one stream per account asks.
    """
    at = now()
    found = 0
    by_account: dict[int, Source] = {}
    for source in desk.sources().values():
        if isinstance(source.connector, CanReconcile):
            by_account.setdefault(source.account_id, source)
    for source in by_account.values():
        try:
            report = reconcile_source(
                desk.db,
                source.connector,
                since=at - timedelta(minutes=desk.settings.reconcile_window_minutes),
                until=at - timedelta(seconds=30),  # let the network index the newest
                intake=desk.intake,
            )
            found += report.stored
        except Exception:
            log.exception("reconciling %s failed", source.connector.source)
    return found


def send_outbox(
    desk: Desk, *, should_stop: Callable[[], bool] = lambda: False, limit: int = SEND_BATCH
) -> int:
    """Send up to `limit` due replies (each claimed atomically: several runners may share)."""
    return send_pending(
        desk.db,
        desk.senders(),
        intake=desk.intake,
        should_stop=should_stop,
        limit=limit,
        lease=timedelta(seconds=desk.settings.send_lease_seconds),
    )


def outbox_due(desk: Desk) -> int:
    """Replies due now that this process's connectors could send."""
    networks = sorted({key.split(":", 1)[0] for key in desk.senders()})
    return due_count(desk.db, networks, at=utcnow()) if networks else 0


RESCORE_BATCH = 500  # cases per transaction of the periodic re-scoring


def rescore(desk: Desk) -> int:
    """Waiting cases rise: re-score the active ones; one event makes open inboxes re-fetch."""
    with desk.db.session() as session:
        count = rescore_active(
            session, weights=desk.intake.weights, batch=RESCORE_BATCH, commit_each=True
        )
        announce_rescored(session, count)
        session.commit()
        return count


def reclassify(desk: Desk, *, budget: float | None = None) -> int:
    """The accurate tier re-reads inbound messages it has not read, newest first, a batch per
    transaction, for up to `budget` seconds (the schedule's interval); messages read."""
    setup = desk.reclassify
    if setup is None:
        return 0
    budget = desk.settings.accurate_tier_interval_seconds if budget is None else budget
    deadline, done = time.monotonic() + budget, 0
    while True:
        with desk.db.session() as session, session.begin():
            report = reclassify_batch(
                session, setup, weights=desk.intake.weights, routing=desk.intake.routing
            )
        done += report.read
        if report.read < setup.batch or time.monotonic() >= deadline:
            return done


def watch_deadlines(desk: Desk) -> int:
    """Deadlines: warnings at 80 %, breaches at 100 %, written once per clock; the teams'
    leads are told live and e-mailed once the marks are committed."""
    now = utcnow()
    with desk.db.session() as session:  # the long read, outside the write transaction
        due = due_cases(session, desk.sla, now=now)
    if not due:
        return 0
    with desk.db.session() as session, session.begin():
        marks = deadlines.watch_deadlines(
            session, desk.sla, now=now, weights=desk.intake.weights, case_ids=due
        )
        notices = deadlines.lead_notices(
            session, marks, public_url=desk.settings.public_url, tz=desk.sla.calendar.tz
        )
    deadlines.send_notices(Mailer.from_settings(desk.settings), notices)
    return len(marks)


def expire_presence(desk: Desk) -> None:
    with desk.db.session() as session, session.begin():
        expire_presence_marks(session)


def purge_events(desk: Desk) -> None:
    with desk.db.session() as session, session.begin():
        purge_live_events(session)


def refresh_waits(desk: Desk, *, now: Callable[[], datetime] = utcnow) -> int:
    """Estimate and store each active account's expected wait (accounts refreshed)."""
    with desk.db.session() as session, session.begin():
        return len(
            refresh_wait_rows(
                session,
                desk=desk.sla.calendar,
                now=now(),
                default_seconds=desk.settings.sla_first_response_minutes * 60.0,
            )
        )


def beat(desk: Desk, *, stopping: bool = False, info: dict[str, Any] | None = None) -> None:
    """Record this runner's heartbeat (the System page and `carebird doctor` read it)."""
    host, pid, _ = desk.name.split(":", 2)
    now = utcnow()
    with desk.db.session() as session, session.begin():
        row = session.scalar(select(WorkerBeat).where(WorkerBeat.name == desk.name))
        if row is None:
            row = WorkerBeat(name=desk.name, kind=desk.kind, host=host, pid=int(pid), info={})
            session.add(row)
        row.heartbeat_at = now
        row.stopped_at = now if stopping else None
        row.info = {
            **(row.info or {}),
            **(info or {}),
            "streams": sorted(desk._sources),
        }
