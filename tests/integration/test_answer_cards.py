"""An answer card goes out as an image attached to the reply (X), through the API and the
outbox, to the local X peer; networks that cannot attach images refuse it at once."""

from __future__ import annotations

from datetime import timedelta

from carebird.config import Settings
from carebird.db.database import Database
from carebird.flows.intake import poll_once
from carebird.flows.replies import send_pending
from carebird.ingest.models import NetworkAccount
from carebird.web.app import create_app
from tests.factories import (
    TestClient,
    agent_with_token,
    bearer,
    case_of,
    customer,
    ingest,
    intake_for,
    item,
)
from tests.support.x_harness import XHarness

WINDOW = timedelta(days=7)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_a_card_is_attached_to_an_x_reply(db: Database, settings: Settings) -> None:
    with XHarness() as peer:
        with db.session() as s, s.begin():
            s.add(
                NetworkAccount(
                    network="x", handle=peer.brand.handle, external_id=peer.brand.external_id
                )
            )
        (mention,) = peer.post_mentions(1, text="how do I reset my box?")
        for connector in peer.inbound_connectors():
            poll_once(db, connector, intake=intake_for())
        case_id = case_of(db, mention)
        _, token = agent_with_token(db, "agent")
        with TestClient(create_app(settings, db=db)) as client:
            r = client.post(
                f"/api/cases/{case_id}/replies",
                json={
                    "text": "Here are the steps, in the image",
                    "card_title": "Reset your box",
                    "card_text": "1. Unplug the box\n2. Wait 30 s\n3. Call 3900 if it fails",
                },
                headers=bearer(token),
            )
            assert r.status_code == 202, r.text
        sent = send_pending(db, {f"x:{peer.brand.handle}": peer.sender()}, intake=intake_for())
        assert sent == 1
        (reply,) = [p for p in peer.peer.state.posts.values() if p.media_ids]
        assert ("replied_to", mention) in reply.refs and "image" in reply.text
        image = peer.peer.state.media[reply.media_ids[0]]
        assert image.startswith(PNG_MAGIC) and len(image) > 5_000


def test_a_network_without_images_refuses_a_card(db: Database, settings: Settings) -> None:
    first = item(customer(1), "help", network="sim")
    ingest(db, [first])
    _, token = agent_with_token(db, "agent")
    with TestClient(create_app(settings, db=db)) as client:
        r = client.post(
            f"/api/cases/{case_of(db, first.external_id)}/replies",
            json={"text": "See the image", "card_text": "steps"},
            headers=bearer(token),
        )
    assert r.status_code == 422 and "answer card" in r.text
