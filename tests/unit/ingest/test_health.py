"""Source health: lag, errors and the alarm when a usually busy source falls silent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carebird.db.database import Database
from carebird.ingest.calls import RateLimit
from carebird.ingest.health import health_report, record_failure, record_success

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SRC = {"source": "x:b:mentions", "network": "x", "account_id": None}


def test_busy_source_then_silence_raises_an_alarm(db: Database) -> None:
    with db.session() as s, s.begin():
        for i in range(20):  # one mention a minute for 20 minutes
            at = T0 + timedelta(minutes=i)
            record_success(s, **SRC, now=at, items=1, newest_item_at=at)
        record_success(
            s,
            **SRC,
            now=T0 + timedelta(minutes=20),
            items=0,
            newest_item_at=None,
            limits={"mentions": RateLimit(450, 12, 0.0)},
        )
    with db.session() as s:
        (ok,) = health_report(s, T0 + timedelta(minutes=21))
        (silent,) = health_report(s, T0 + timedelta(hours=2))
    assert ok.status == "ok" and ok.items_total == 20 and ok.rate_limit_remaining == 12
    assert silent.status == "alarm" and any("silent" in p for p in silent.problems)
    assert silent.lag_seconds is not None and silent.lag_seconds > 3000


def test_failures_and_pauses(db: Database) -> None:
    with db.session() as s, s.begin():
        record_failure(
            s,
            **SRC,
            now=T0,
            error="429",
            paused_until=T0 + timedelta(minutes=15),
            paused_reason="rate limited",
        )
    with db.session() as s:
        (paused,) = health_report(s, T0 + timedelta(minutes=1))
    assert paused.status == "paused" and "rate limited" in paused.problems
    with db.session() as s, s.begin():
        for i in range(3):
            record_failure(s, **SRC, now=T0 + timedelta(minutes=20 + i), error="boom 503")
    with db.session() as s:
        (broken,) = health_report(s, T0 + timedelta(minutes=30))
    assert broken.status == "alarm" and broken.consecutive_errors == 4
    assert broken.last_error == "boom 503"
    with db.session() as s, s.begin():
        record_success(s, **SRC, now=T0 + timedelta(minutes=31), items=0, newest_item_at=None)
    with db.session() as s:
        (fine,) = health_report(s, T0 + timedelta(minutes=32))
    assert fine.status == "ok" and fine.consecutive_errors == 0
