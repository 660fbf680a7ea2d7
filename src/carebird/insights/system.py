"""The desk's operations at a glance: who runs the background work, how each stream polls, what
it costs this month, and what the outbox holds (above all the replies a person must look at).

One read function, `system_report`, feeds the System page, `GET /api/system` and `/metrics`;
everything is read from the database at the time of asking (no counters kept anywhere else).
A runner is "alive" while it beats (within `STALE_AFTER`), "stale" when its beats stopped
without it saying goodbye (killed, frozen, its machine gone), "stopped" when it shut down.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebird.ingest.health import assess
from carebird.ingest.models import ApiUsage, NetworkAccount, SourceHealth
from carebird.ingest.usage import month_of
from carebird.live.runners import STALE_AFTER, WorkerBeat
from carebird.reply.models import OutboxItem

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "unsure", "cancelled")
NEEDS_A_PERSON = ("failed", "unsure")  # the sender gave up or cannot tell: an admin decides
WORKERS_SHOWN = 50  # the most recently beating runners (every restart adds a row)
PROBLEMS_SHOWN = 200  # failed and unsure replies listed, oldest first (all are counted)


def _seconds(now: datetime, at: datetime | None) -> float | None:
    return None if at is None else max(0.0, (now - at).total_seconds())


@dataclass(frozen=True)
class WorkerStatus:
    name: str
    kind: str  # embedded | worker
    host: str
    pid: int
    state: str  # alive | stale | stopped
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    seconds_since_beat: float
    info: dict[str, Any]

    @property
    def alive(self) -> bool:
        return self.state == "alive"


def worker_state(beat: WorkerBeat, now: datetime) -> str:
    if beat.stopped_at is not None:
        return "stopped"
    return "alive" if now - beat.heartbeat_at <= STALE_AFTER else "stale"


@dataclass(frozen=True)
class StreamStatus:
    source: str
    network: str
    status: str  # ok | warning | alarm | paused (ingest.health)
    problems: list[str]
    account_id: int | None
    account_handle: str | None
    last_poll_at: datetime | None  # the last attempt, successful or not
    seconds_since_poll: float | None
    last_success_at: datetime | None
    lag_seconds: float | None  # since the last successful poll
    consecutive_errors: int
    last_error: str | None
    rate_limit_remaining: int | None  # the tightest window's remaining calls
    paused_until: datetime | None
    items_total: int
    cost_this_month: float | None  # the stream's account's spending (shared by its streams)
    monthly_cap: float | None


@dataclass(frozen=True)
class AccountCost:
    account_id: int
    network: str
    handle: str
    month: str
    cost: float
    monthly_cap: float | None


@dataclass(frozen=True)
class StuckReply:
    id: int
    case_id: int
    status: str  # failed | unsure
    network: str
    private: bool
    attempts: int
    last_error: str | None
    created_at: datetime
    age_seconds: float
    follows_id: int | None  # a later part of a thread


@dataclass(frozen=True)
class OutboxStatus:
    counts: dict[str, int]  # every status, zeros included
    oldest_pending_at: datetime | None
    oldest_pending_age_seconds: float | None
    needs_a_person: list[StuckReply] = field(default_factory=list)


@dataclass(frozen=True)
class SystemReport:
    at: datetime
    month: str
    workers: list[WorkerStatus]
    workers_alive: dict[str, int]  # per kind
    streams: list[StreamStatus]
    accounts: list[AccountCost]
    outbox: OutboxStatus

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for worker, beat in zip(data["workers"], self.workers, strict=True):
            worker["alive"] = beat.alive
        return data


def workers(session: Session, now: datetime) -> tuple[list[WorkerStatus], dict[str, int]]:
    """The most recently beating runners, and how many of each kind are alive."""
    rows = session.scalars(
        select(WorkerBeat)
        .order_by(WorkerBeat.heartbeat_at.desc(), WorkerBeat.id.desc())
        .limit(WORKERS_SHOWN)
    ).all()
    shown = [
        WorkerStatus(
            name=b.name,
            kind=b.kind,
            host=b.host,
            pid=b.pid,
            state=worker_state(b, now),
            started_at=b.started_at,
            heartbeat_at=b.heartbeat_at,
            stopped_at=b.stopped_at,
            seconds_since_beat=_seconds(now, b.heartbeat_at) or 0.0,
            info=dict(b.info or {}),
        )
        for b in rows
    ]
    alive = {"embedded": 0, "worker": 0}
    counted = session.execute(
        select(WorkerBeat.kind, func.count())
        .where(WorkerBeat.stopped_at.is_(None), WorkerBeat.heartbeat_at >= now - STALE_AFTER)
        .group_by(WorkerBeat.kind)
    ).all()
    for kind, n in counted:
        alive[kind] = int(n)
    return shown, alive


def account_costs(session: Session, month: str) -> list[AccountCost]:
    spent: dict[int, float] = {
        account_id: float(total or 0.0)
        for account_id, total in session.execute(
            select(ApiUsage.account_id, func.sum(ApiUsage.cost))
            .where(ApiUsage.month == month)
            .group_by(ApiUsage.account_id)
        ).all()
    }
    accounts = session.scalars(select(NetworkAccount).order_by(NetworkAccount.id)).all()
    return [
        AccountCost(
            account_id=a.id,
            network=a.network,
            handle=a.handle,
            month=month,
            cost=round(spent.get(a.id, 0.0), 4),
            monthly_cap=a.monthly_cap,
        )
        for a in accounts
    ]


def streams(session: Session, now: datetime, costs: list[AccountCost]) -> list[StreamStatus]:
    by_account = {c.account_id: c for c in costs}
    out = []
    for row in session.scalars(select(SourceHealth).order_by(SourceHealth.source)):
        health = assess(row, now)  # the same judgement as /api/sources/health
        cost = by_account.get(row.account_id) if row.account_id is not None else None
        out.append(
            StreamStatus(
                source=health.source,
                network=health.network,
                status=health.status,
                problems=health.problems,
                account_id=row.account_id,
                account_handle=cost.handle if cost else None,
                last_poll_at=row.last_attempt_at,
                seconds_since_poll=_seconds(now, row.last_attempt_at),
                last_success_at=health.last_success_at,
                lag_seconds=health.lag_seconds,
                consecutive_errors=health.consecutive_errors,
                last_error=health.last_error,
                rate_limit_remaining=health.rate_limit_remaining,
                paused_until=health.paused_until,
                items_total=health.items_total,
                cost_this_month=cost.cost if cost else None,
                monthly_cap=cost.monthly_cap if cost else None,
            )
        )
    return out


def outbox(session: Session, now: datetime) -> OutboxStatus:
    counts = dict.fromkeys(OUTBOX_STATUSES, 0)
    for status, n in session.execute(
        select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
    ).all():
        counts[status] = int(n)
    oldest = session.scalar(
        select(func.min(OutboxItem.created_at)).where(OutboxItem.status == "pending")
    )
    rows = session.scalars(
        select(OutboxItem)
        .where(OutboxItem.status.in_(NEEDS_A_PERSON))
        .order_by(OutboxItem.created_at, OutboxItem.id)
        .limit(PROBLEMS_SHOWN)
    ).all()
    stuck = [
        StuckReply(
            id=r.id,
            case_id=r.case_id,
            status=r.status,
            network=r.network,
            private=r.private,
            attempts=r.attempts,
            last_error=r.last_error,
            created_at=r.created_at,
            age_seconds=_seconds(now, r.created_at) or 0.0,
            follows_id=r.follows_id,
        )
        for r in rows
    ]
    return OutboxStatus(
        counts=counts,
        oldest_pending_at=oldest,
        oldest_pending_age_seconds=_seconds(now, oldest),
        needs_a_person=stuck,
    )


def system_report(session: Session, *, now: datetime) -> SystemReport:
    """Runners, streams, this month's API spending and the outbox, as of `now` (aware UTC)."""
    month = month_of(now)
    shown, alive = workers(session, now)
    costs = account_costs(session, month)
    return SystemReport(
        at=now,
        month=month,
        workers=shown,
        workers_alive=alive,
        streams=streams(session, now, costs),
        accounts=costs,
        outbox=outbox(session, now),
    )
