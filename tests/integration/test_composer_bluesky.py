"""End to end on the Bluesky peer (which checks every record against the official lexicons):
a long answer composed for a Bluesky case is accepted post by post, as a thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from carebird.config import Settings
from carebird.db.database import Database
from carebird.flows.intake import drain as drain_into
from carebird.ingest.base import OutboundReply
from carebird.ingest.models import Message, NetworkAccount
from carebird.web.app import create_app
from tests.factories import TestClient, agent_with_token, bearer, intake_for
from tests.support.bluesky_harness import BRAND, BlueskyHarness

ANSWER = (
    "Bonjour ! Nous sommes vraiment désolés 🙏🏽 Votre remboursement a été validé hier ; il "
    "apparaîtra sur votre compte sous 3 à 5 jours ouvrés. Le détail est ici : "
    "https://aide.ligne-azur.example/remboursements/delais-et-suivi?ref=bsky . "
) * 3


@pytest.fixture
def h() -> Iterator[BlueskyHarness]:
    with BlueskyHarness() as harness:
        yield harness
        assert harness.peer.violations == []


def test_a_composed_thread_is_accepted_by_bluesky(
    db: Database, settings: Settings, h: BlueskyHarness
) -> None:
    with db.session() as s, s.begin():
        s.add(NetworkAccount(network="bluesky", handle=BRAND, external_id=h.brand_account.did))
    [uri] = h.post_mentions(1, customers=1, text="toujours pas remboursé, c'est inadmissible")
    drain_into(db, h.connector("notifications"), intake=intake_for())
    with db.session() as s:
        case_id = s.scalar(select(Message.case_id).where(Message.external_id == uri))
    assert case_id is not None
    app: FastAPI = create_app(settings, db=db)
    _, token = agent_with_token(db, "agent", name="Léa Martin")
    with TestClient(app) as client:
        response = client.post(
            f"/api/cases/{case_id}/compose", json={"text": ANSWER}, headers=bearer(token)
        )
    assert response.status_code == 200, response.text
    got = response.json()
    assert got["split"] and got["destination"]["in_reply_to_id"] == uri
    parts = [p["text"] for p in got["parts"]]
    assert len(parts) >= 3 and parts[-1].endswith(f" ^LM {len(parts)}/{len(parts)}")
    sender = h.sender()
    parent, chain = uri, [uri]
    for k, text in enumerate(parts):
        reply = OutboundReply(
            network="bluesky",
            text=text,
            account_handle=BRAND,
            idempotency_key=f"compose-{k}",
            in_reply_to_id=parent,
        )
        parent = sender.send(reply).external_id
        chain.append(parent)
    # the first part answers the customer, each next one the part before
    for k, text in enumerate(parts):
        assert [r["text"] for r in h.replies_to(chain[k])] == [text]
    assert h.peer.violations == []
