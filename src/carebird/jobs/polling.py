"""One poll of one network source, and when to poll it next.

Wraps `pipeline.poll_once` with what a real network needs: the source's health written with
each outcome, a pause of this source alone on a rate limit (its backlog is drained after the
reset, never skipped), a clean stop at the monthly cost cap until the month turns or the cap is
raised, backoff after failures, and an interval that follows the desk's opening hours.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypedDict

from carebird.cases.hours import PollingPlan
from carebird.db.database import Database
from carebird.errors import BudgetExhausted, CarebirdError, RateLimited
from carebird.flows.intake import BatchReport, Intake, poll_once, process_batch
from carebird.ingest.base import CanReconcile, Connector
from carebird.ingest.calls import RateLimit
from carebird.ingest.health import record_failure, record_success

log = logging.getLogger(__name__)
CAP_RECHECK = timedelta(hours=1)  # a raised cap is noticed within this delay
MAX_ERROR_WAIT = 600.0


class _Where(TypedDict):
    """Which source a health row is about (the keyword arguments of `record_*`)."""

    source: str
    network: str
    account_id: int | None


@dataclass(frozen=True)
class PollOutcome:
    report: BatchReport | None
    wait: float  # seconds until this source should be polled again
    error: str | None = None


def poll_source(
    db: Database,
    connector: Connector,
    *,
    account_id: int | None,
    intake: Intake,
    plan: PollingPlan,
    limit: int = 500,
    limits: Callable[[], Mapping[str, RateLimit]] = dict,
    failures: int = 0,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> PollOutcome:
    """Poll once; record the source's health; say how long to wait before the next poll."""
    where: _Where = {
        "source": connector.source,
        "network": connector.network,
        "account_id": account_id,
    }
    try:
        report, more = poll_once(db, connector, intake=intake, limit=limit)
    except RateLimited as exc:
        until = now() + timedelta(seconds=exc.retry_after)
        _failed(db, where, now(), f"rate limited: {exc}", until, "rate limited")
        return PollOutcome(None, max(exc.retry_after, 1.0), str(exc))
    except BudgetExhausted as exc:
        at = now()
        until = min(_next_month(at), at + CAP_RECHECK)
        _failed(db, where, at, str(exc), _next_month(at), "monthly API cap reached")
        log.warning(
            "%s: %s; polling stops until the cap is raised or the month turns", where["source"], exc
        )
        return PollOutcome(None, (until - at).total_seconds(), str(exc))
    except CarebirdError as exc:
        wait = min(MAX_ERROR_WAIT, plan.open_seconds * 2 ** min(failures, 6))
        _failed(db, where, now(), f"{type(exc).__name__}: {exc}", None, None)
        log.warning("%s: %s (next try in %.0fs)", where["source"], exc, wait)
        return PollOutcome(None, wait, str(exc))
    with db.session() as session, session.begin():
        record_success(
            session,
            **where,
            now=now(),
            items=report.fetched,
            newest_item_at=report.newest_at,
            limits=limits(),
        )
    return PollOutcome(report, 0.0 if more else plan.interval(now()))


def reconcile_source(
    db: Database,
    connector: Connector,
    *,
    since: datetime,
    until: datetime,
    intake: Intake,
) -> BatchReport:
    """Gap reconciliation: search the window again and store what the timeline missed.

    Only connectors that `CanReconcile` take part; the store drops every message already
    held, so what remains is exactly what the timeline lost.
    """
    if not isinstance(connector, CanReconcile):
        return BatchReport()
    items = connector.reconcile(since, until)
    with db.session() as session, session.begin():
        report = process_batch(session, items, intake=intake)
    if report.stored:
        log.warning("%s: reconciliation found %d missed messages", connector.source, report.stored)
    return report


def _failed(
    db: Database,
    where: _Where,
    at: datetime,
    error: str,
    paused_until: datetime | None,
    reason: str | None,
) -> None:
    with db.session() as session, session.begin():
        record_failure(
            session,
            **where,
            now=at,
            error=error,
            paused_until=paused_until,
            paused_reason=reason,
        )


def _next_month(at: datetime) -> datetime:
    first = at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)
