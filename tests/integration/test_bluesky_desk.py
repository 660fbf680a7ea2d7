"""Bluesky into the desk's store (SQLite and PostgreSQL): exactly once through crashes, our own
replies recognised, private messages kept private."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from carebird.db.database import Database
from carebird.flows.intake import drain as drain_into
from carebird.ingest.models import Message
from tests.factories import intake_for
from tests.support.bluesky_harness import BlueskyHarness

WINDOW = timedelta(days=7)


@pytest.fixture
def h() -> Iterator[BlueskyHarness]:
    with BlueskyHarness() as harness:
        yield harness
        assert harness.peer.violations == []


def test_desk_stores_bluesky_exactly_once(db: Database, h: BlueskyHarness) -> None:
    mentions = h.post_mentions(320, customers=40)
    ours = h.post_as_brand("Nous regardons cela.", in_reply_to=mentions[0])
    dm = h.send_private("Mon numéro client est 55 44 33", customer=3)
    h.fail_next(503, 2)
    connectors = h.inbound_connectors()
    notifications = connectors[0]
    notifications.fetch(None, limit=200)  # fetched, then the process dies before committing
    for connector in connectors:
        drain_into(db, connector, intake=intake_for(), limit=200)
    with db.session() as s:
        rows = s.execute(select(Message.external_id, Message.direction, Message.is_private)).all()
    ids = [r.external_id for r in rows]
    assert len(ids) == len(set(ids)) == 322
    assert set(mentions) | {ours, dm} == set(ids)
    by_id = {r.external_id: r for r in rows}
    assert by_id[ours].direction == "out"  # the brand's own post, recognised by its author
    assert by_id[dm].is_private and not by_id[mentions[0]].is_private
    # polling again finds nothing new; a new mention is stored once
    new = h.post_mentions(1)
    for connector in h.inbound_connectors():
        drain_into(db, connector, intake=intake_for())
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 323
        assert s.scalar(select(Message.kind).where(Message.external_id == new[0])) == "mention"
    assert not any("55 44 33" in text for text in h.public_texts())
