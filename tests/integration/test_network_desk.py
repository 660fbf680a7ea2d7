"""The desk itself polling a stored X account (credentials sealed in the database) against the
local X peer: messages arrive, every billable call is counted, health is kept, and the monthly
cap stops polling cleanly."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy import func, select

from carebird.config import Settings
from carebird.db.database import Database
from carebird.ingest.accounts import add_account
from carebird.ingest.health import health_report
from carebird.ingest.models import Message
from carebird.ingest.usage import month_of, usage_report
from carebird.jobs.runner import background
from tests.support.x_harness import XHarness


def _store_account(db: Database, settings: Settings, peer: XHarness, cap: float | None) -> int:
    with db.session() as s, s.begin():
        return add_account(
            s,
            secret_key=settings.secret_key,
            network="x",
            handle=peer.brand.handle,
            credentials=dict(peer.brand.credentials),
            options=dict(peer.brand.options),
            monthly_cap=cap,
            external_id=peer.brand.external_id,
        ).id


def _count(db: Database) -> int:
    with db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Message).where(Message.network == "x")) or 0
        )


def _run_desk(db: Database, settings: Settings, until: int, seconds: float = 30.0) -> None:
    fast = settings.model_copy(
        update={"opening_hours": "24/7", "poll_open_seconds": 0.2, "poll_closed_seconds": 0.2}
    )

    async def run() -> None:
        async with background(fast, db):
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and _count(db) < until:
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # let every stream finish a poll

    asyncio.run(run())


def test_the_desk_polls_a_stored_account_and_counts_its_cost(
    db: Database, settings: Settings
) -> None:
    with XHarness() as peer:
        posted = peer.post_mentions(150, customers=15)
        account_id = _store_account(db, settings, peer, cap=None)
        _run_desk(db, settings, until=150)
        assert _count(db) == 150
        with db.session() as s:
            usage = usage_report(s, account_id, month_of(datetime.now(UTC)))
            health = {h.source: h for h in health_report(s, datetime.now(UTC))}
            ids = set(s.scalars(select(Message.external_id)).all())
        assert set(posted) <= ids
        assert usage["ops"]["post_read"]["units"] >= 150
        assert usage["cost"] >= 150 * 0.005
        assert "x:LigneAzur_SAV:mentions" in health
        assert health["x:LigneAzur_SAV:mentions"].items_total >= 150


def test_the_monthly_cap_stops_polling_cleanly(db: Database, settings: Settings) -> None:
    with XHarness() as peer:
        peer.post_mentions(300, customers=30)
        account_id = _store_account(db, settings, peer, cap=0.25)  # 50 post reads
        _run_desk(db, settings, until=300, seconds=4.0)
        stored = _count(db)
        with db.session() as s:
            usage = usage_report(s, account_id, month_of(datetime.now(UTC)))
            reports = health_report(s, datetime.now(UTC))
        assert 0 < stored < 300
        assert usage["cost"] <= 0.25 + 1e-9
        assert any("monthly API cap reached" in r.problems for r in reports)


def test_the_desk_learns_a_mastodon_servers_length_limit(db: Database, settings: Settings) -> None:
    from carebird.ingest.accounts import get_account
    from carebird.ingest.sources import account_connectors
    from tests.support.mastodon_harness import MastodonHarness

    with MastodonHarness() as peer:
        with db.session() as s, s.begin():
            account_id = add_account(
                s,
                secret_key=settings.secret_key,
                network="mastodon",
                handle=peer.brand.handle,
                credentials=dict(peer.brand.credentials),
                options=dict(peer.brand.options),
                external_id=peer.brand.external_id,
            ).id
        found = account_connectors(db, settings)
        assert [s.connector.network for s in found.sources] and found.senders
        with db.session() as s:
            assert get_account(s, account_id).options["instance_char_limit"] == 500
