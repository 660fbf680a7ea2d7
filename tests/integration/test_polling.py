"""Polling a network source: rate limits pause it alone and lose nothing, the monthly cap stops
it cleanly, failures back off, the interval follows opening hours, reconciliation fills gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from carebird.cases.hours import BusinessHours, PollingPlan
from carebird.config import Settings
from carebird.db.database import Database
from carebird.errors import BudgetExhausted, RateLimited, TransientNetworkError
from carebird.flows.intake import process_batch
from carebird.ingest.health import health_report
from carebird.ingest.models import Message
from carebird.ingest.store import load_cursor
from carebird.jobs.polling import poll_source, reconcile_source
from tests.factories import intake_for
from tests.support.scripted import T0, ScriptedNetwork

WINDOW = timedelta(days=7)
PLAN = PollingPlan(open_seconds=30, closed_seconds=300)


def _count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Message)) or 0


def test_rate_limit_pauses_then_the_backlog_drains(db: Database) -> None:
    net = ScriptedNetwork()
    for i in range(25):
        net.mention(i)
    net.fetch_errors.append(RateLimited("429 Too Many Requests", retry_after=900))
    now = lambda: T0  # noqa: E731
    paused = poll_source(db, net, account_id=None, intake=intake_for(), plan=PLAN, now=now)
    assert paused.report is None and paused.wait == 900
    assert _count(db) == 0
    with db.session() as s:
        assert load_cursor(s, net.source) is None  # nothing skipped
        (health,) = health_report(s, T0 + timedelta(seconds=10))
    assert health.status == "paused" and health.problems == ["rate limited"]
    waits = []
    while True:  # after the reset: the backlog, batch after batch without waiting
        out = poll_source(db, net, account_id=None, intake=intake_for(), plan=PLAN, limit=10)
        waits.append(out.wait)
        if out.wait:
            break
    assert waits == [0.0, 0.0, 30.0] and _count(db) == 25


def test_cap_stops_polling_cleanly(db: Database) -> None:
    net = ScriptedNetwork()
    net.mention(1)
    net.fetch_errors.append(BudgetExhausted("monthly API cap reached"))
    at = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    out = poll_source(db, net, account_id=None, intake=intake_for(), plan=PLAN, now=lambda: at)
    assert out.report is None and out.wait == 1800  # until the month turns (or within an hour)
    with db.session() as s:
        (health,) = health_report(s, at)
    assert health.status == "paused" and "monthly API cap reached" in health.problems
    assert health.paused_until == datetime(2026, 12, 1, tzinfo=UTC)


def test_failures_back_off_and_recover(db: Database) -> None:
    net = ScriptedNetwork()
    net.mention(1)
    net.fetch_errors.extend([TransientNetworkError("503"), TransientNetworkError("503")])
    first = poll_source(db, net, account_id=None, intake=intake_for(), plan=PLAN, failures=0)
    second = poll_source(db, net, account_id=None, intake=intake_for(), plan=PLAN, failures=1)
    assert (first.wait, second.wait) == (30, 60)
    ok = poll_source(db, net, account_id=None, intake=intake_for(), plan=PLAN, failures=2)
    assert ok.error is None and _count(db) == 1


def test_interval_follows_opening_hours() -> None:
    plan = PollingPlan(30, 300, BusinessHours.parse("Mon-Sat 08:00-22:00", "Europe/Paris"))
    assert plan.interval(datetime(2026, 11, 26, 10, 0, tzinfo=UTC)) == 30  # Thu 11:00
    assert plan.interval(datetime(2026, 11, 26, 23, 0, tzinfo=UTC)) == 300  # Fri 00:00, closed
    # A few minutes before opening, the next poll comes at the opening, not 5 min later.
    assert plan.interval(datetime(2026, 11, 27, 6, 58, tzinfo=UTC)) == 120


def test_reconciliation_stores_only_what_the_timeline_missed(db: Database) -> None:
    net = ScriptedNetwork()
    items = [net.mention(i) for i in range(6)]
    with db.session() as s, s.begin():
        process_batch(s, items[::2], intake=intake_for())  # the timeline lost every other one
    report = reconcile_source(
        db,
        net,
        since=T0 - timedelta(minutes=1),
        until=T0 + timedelta(hours=1),
        intake=intake_for(),
    )
    assert report.stored == 3 and report.duplicates == 3 and _count(db) == 6


def test_an_account_s_streams_poll_by_its_own_calendar(db: Database, settings: Settings) -> None:
    from carebird.ingest.models import NetworkAccount
    from carebird.jobs.tasks import Desk

    with db.session() as s, s.begin():
        tokyo = NetworkAccount(
            network="x", handle="Brand_JP", external_id="jp",
            options={"timezone": "Asia/Tokyo", "holidays": ["2026-05-04"]},
        )  # fmt: skip
        s.add(tokyo)
        s.flush()
        tokyo_id = tokyo.id
    desk = Desk(settings.model_copy(update={"opening_hours": "Mon-Fri 09:00-18:00",
                                            "timezone": "Europe/Paris"}), db)  # fmt: skip
    desk.refresh_accounts(force=True)
    monday_noon_paris = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)  # 19:00 in Tokyo, a holiday
    assert desk.plan_for(None).interval(monday_noon_paris) == desk.plan.open_seconds
    assert desk.plan_for(tokyo_id).interval(monday_noon_paris) == desk.plan.closed_seconds
    holiday_morning_tokyo = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)  # 11:00 in Tokyo, closed
    assert desk.plan_for(tokyo_id).interval(holiday_morning_tokyo) == desk.plan.closed_seconds
    tuesday_morning_tokyo = datetime(2026, 5, 5, 0, 30, tzinfo=UTC)  # 09:30 in Tokyo
    assert desk.plan_for(tokyo_id).interval(tuesday_morning_tokyo) == desk.plan.open_seconds
