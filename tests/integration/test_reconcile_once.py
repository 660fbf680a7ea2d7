"""Gap reconciliation runs once per account, not once per stream: every stream of an X account
would run the same `@handle` search (billed per post found), and `carebird bench cost` counts one
search per account and window (`insights/apicost.py`: max(1, ceil(n / page)) calls)."""

from __future__ import annotations

import math

from carebird.config import Settings
from carebird.db.database import Database
from carebird.ingest.accounts import add_account
from carebird.ingest.x.connector import XConnector
from carebird.jobs.tasks import Desk, reconcile
from tests.support.x_harness import XHarness

SEARCH = "GET /2/tweets/search/recent"


def test_one_reconciliation_search_per_account_and_window(db: Database, settings: Settings) -> None:
    with XHarness() as peer:
        with db.session() as s, s.begin():
            add_account(
                s,
                secret_key=settings.secret_key,
                network="x",
                handle=peer.brand.handle,
                credentials=dict(peer.brand.credentials),
                options=dict(peer.brand.options),
                external_id=peer.brand.external_id,
            )
        streams = XConnector.streams(peer.brand)
        assert len(streams) >= 3  # mentions, a listening search, private messages, own posts
        desk = Desk(settings, db)
        before = [r for r in peer.peer.web.requests if r[0] == SEARCH]
        reconcile(desk)
        searches = [r for r in peer.peer.web.requests if r[0] == SEARCH][len(before) :]
        mentions_in_window = 0  # nothing older than 30 s on this fresh peer
        estimate = max(1, math.ceil(mentions_in_window / 100))
        assert len(searches) == estimate == 1
        assert all(f"@{peer.brand.handle}" in r[2].get("query", "") for r in searches)
