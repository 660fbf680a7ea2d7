"""The cost meter: counts per account and month, prices, the warning and the cap."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from carebird.db.database import Database
from carebird.errors import BudgetExhausted
from carebird.ingest.accounts import add_account
from carebird.ingest.usage import DbMeter, prices_for, usage_report

KEY = "test-secret-" + "k" * 20


@pytest.fixture
def account_id(db: Database) -> int:
    with db.session() as s, s.begin():
        return add_account(
            s, secret_key=KEY, network="x", handle="b", credentials={"bearer_token": "t"}
        ).id


def test_prices_default_and_override() -> None:
    assert prices_for("x")["reply_url"] == pytest.approx(0.2)
    assert prices_for("x", {"x": {"post_read": 0.004}})["post_read"] == pytest.approx(0.004)
    assert prices_for("mastodon") == {}


def test_counts_cost_and_cap(
    db: Database, account_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    now = [datetime(2026, 11, 30, 23, 0, tzinfo=UTC)]
    meter = DbMeter(
        db, account_id=account_id, prices=prices_for("x"), cap=1.0, clock=lambda: now[0]
    )
    meter.allow("post_read", 100)
    meter.record("post_read", 100)  # $0.50
    meter.record("reply", 10)  # $0.15
    with caplog.at_level(logging.WARNING):
        meter.record("post_read", 30)  # $0.15 → $0.80: the warning
    assert "monthly API cap" in caplog.text
    with db.session() as s:
        report = usage_report(s, account_id, "2026-11")
    assert report["calls"] == 3
    assert report["ops"]["post_read"] == {"calls": 2, "units": 130, "cost": 0.65}
    assert report["cost"] == pytest.approx(0.8)
    with pytest.raises(BudgetExhausted, match="cap"):
        meter.allow("post_read", 41)  # $0.205 more would pass $1.00
    meter.allow("post_read", 40)
    # A fresh meter (a restart) reads the month's spending back from the database.
    again = DbMeter(
        db, account_id=account_id, prices=prices_for("x"), cap=1.0, clock=lambda: now[0]
    )
    again.allow("reply_url")  # $0.80 + $0.20 reaches the cap exactly: allowed
    with pytest.raises(BudgetExhausted):
        again.allow("reply_url", 2)
    now[0] = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)  # a new month starts from zero
    again.allow("reply_url", 2)
    assert again.spent() == 0.0
