"""Every Mastodon stream through the desk's pipeline into the store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from carebird.db.database import Database
from carebird.flows.intake import drain
from carebird.ingest.models import Message
from tests.factories import intake_for
from tests.support.mastodon_harness import MastodonHarness

WINDOW = timedelta(days=7)


def test_all_streams_stored_once_with_our_answer_recognised(db: Database) -> None:
    with MastodonHarness() as peer:
        ids = peer.post_mentions(130, customers=10)
        dm = peer.send_private("mon dossier est AB123", customer=3)
        answer = peer.post_as_brand("On s'en occupe.", in_reply_to=ids[0])
        named = peer.customer_posts("Ligne Azur, encore un retard", customer=11)
        for connector in peer.inbound_connectors():
            drain(db, connector, intake=intake_for(), limit=50)
        for connector in peer.inbound_connectors():  # a second poll finds nothing new
            again = drain(db, connector, intake=intake_for(), limit=50)
            assert (again.fetched, again.stored) == (0, 0), connector.source
    with db.session() as s:
        stored = {m.external_id: m for m in s.scalars(select(Message))}
    assert set(stored) == {*ids, dm, answer, named}
    assert stored[answer].direction == "out"
    assert stored[answer].case_id == stored[ids[0]].case_id is not None
    assert stored[dm].is_private and stored[dm].kind == "direct"
    assert stored[dm].conversation_id == f"dm:{peer.customer_id(3)}"
    assert stored[named].kind == "keyword"
    assert not any(m.is_private for k, m in stored.items() if k != dm)
