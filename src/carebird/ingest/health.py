"""Per-source health: last success, lag, errors, rate-limit headroom, and a silence alarm.

A source that usually speaks (a support handle's mentions) and goes quiet for many times its
usual gap is more likely broken (revoked token, changed API) than calm: the desk says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.ingest.calls import RateLimit
from carebird.ingest.models import SourceHealth

SILENCE_FACTOR = 8.0  # quiet for this many usual gaps…
SILENCE_FLOOR = timedelta(minutes=30)  # …and at least this long
GAP_SMOOTHING = 0.2  # weight of the newest gap in the moving average
ERRORS_ALARM = 3  # consecutive failed polls


def _row(session: Session, source: str, network: str, account_id: int | None) -> SourceHealth:
    row = session.get(SourceHealth, source)
    if row is None:
        row = SourceHealth(
            source=source,
            network=network,
            account_id=account_id,
            consecutive_errors=0,
            items_total=0,
            polls_total=0,
            rate_limits={},
        )
        session.add(row)
    return row


def record_success(
    session: Session,
    *,
    source: str,
    network: str,
    account_id: int | None,
    now: datetime,
    items: int,
    newest_item_at: datetime | None,
    limits: Mapping[str, RateLimit] | None = None,
) -> None:
    row = _row(session, source, network, account_id)
    row.last_attempt_at = row.last_success_at = now
    row.polls_total = (row.polls_total or 0) + 1
    row.consecutive_errors = 0
    row.paused_until, row.paused_reason = None, None
    if items:
        row.items_total = (row.items_total or 0) + items
        if newest_item_at is not None:
            previous = row.last_item_at
            if previous is not None and newest_item_at > previous:
                gap = (newest_item_at - previous).total_seconds() / items
                mean = row.mean_gap_seconds
                row.mean_gap_seconds = (
                    gap if mean is None else (1 - GAP_SMOOTHING) * mean + GAP_SMOOTHING * gap
                )
            if previous is None or newest_item_at > previous:
                row.last_item_at = newest_item_at
    if limits:
        row.rate_limits = {**(row.rate_limits or {}), **{k: asdict(v) for k, v in limits.items()}}


def record_failure(
    session: Session,
    *,
    source: str,
    network: str,
    account_id: int | None,
    now: datetime,
    error: str,
    paused_until: datetime | None = None,
    paused_reason: str | None = None,
) -> None:
    row = _row(session, source, network, account_id)
    row.last_attempt_at = row.last_error_at = now
    row.last_error = error[:2000]
    row.consecutive_errors = (row.consecutive_errors or 0) + 1
    row.paused_until, row.paused_reason = paused_until, paused_reason


@dataclass(frozen=True)
class HealthReport:
    source: str
    network: str
    status: str  # ok | warning | alarm | paused
    problems: list[str]
    last_success_at: datetime | None
    lag_seconds: float | None
    items_total: int
    consecutive_errors: int
    last_error: str | None
    rate_limit_remaining: int | None
    paused_until: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def assess(row: SourceHealth, now: datetime) -> HealthReport:
    problems: list[str] = []
    status = "ok"
    lag = (now - row.last_success_at).total_seconds() if row.last_success_at else None
    if row.paused_until and row.paused_until > now:
        status = "paused"
        problems.append(row.paused_reason or "paused")
    if row.consecutive_errors >= ERRORS_ALARM:
        status = "alarm"
        problems.append(f"{row.consecutive_errors} failed polls in a row")
    elif row.consecutive_errors and status != "paused":
        status = "warning" if status == "ok" else status
        problems.append("last poll failed")
    if row.mean_gap_seconds and row.last_item_at:
        quiet = now - row.last_item_at
        if quiet > max(SILENCE_FLOOR, timedelta(seconds=SILENCE_FACTOR * row.mean_gap_seconds)):
            status = "alarm"
            problems.append(f"silent for {int(quiet.total_seconds() // 60)} min")
    remaining = [
        w["remaining"] for w in (row.rate_limits or {}).values() if w.get("remaining") is not None
    ]
    return HealthReport(
        source=row.source,
        network=row.network,
        status=status,
        problems=problems,
        last_success_at=row.last_success_at,
        lag_seconds=lag,
        items_total=row.items_total or 0,
        consecutive_errors=row.consecutive_errors or 0,
        last_error=row.last_error,
        rate_limit_remaining=min(remaining) if remaining else None,
        paused_until=row.paused_until,
    )


def health_report(session: Session, now: datetime) -> list[HealthReport]:
    rows = session.scalars(select(SourceHealth).order_by(SourceHealth.source))
    return [assess(r, now) for r in rows]
