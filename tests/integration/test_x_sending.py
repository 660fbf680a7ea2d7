"""The X connector sending through the local peer: threads, private messages, images, and at
most once without an idempotency key (find_sent)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from carebird.errors import AuthError, InvalidInput, TransientNetworkError
from carebird.ingest.base import OutboundReply
from carebird.ingest.calls import Backoff, CountingMeter
from carebird.ingest.x.connector import XConnector
from tests.support.x_harness import BRAND, XHarness

# A 1×1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture(params=["tweet", "post"])
def harness(request: pytest.FixtureRequest) -> Iterator[XHarness]:
    with XHarness(spelling=request.param) as h:
        yield h


def _public(text: str, to: str, key: str = "k1") -> OutboundReply:
    return OutboundReply(
        network="x", text=text, account_handle=BRAND, idempotency_key=key, in_reply_to_id=to
    )


def _private(text: str, to: str, key: str = "k2") -> OutboundReply:
    return OutboundReply(
        network="x",
        text=text,
        account_handle=BRAND,
        idempotency_key=key,
        recipient_id=to,
        private=True,
    )


def test_a_reply_lands_in_its_thread_and_costs_a_reply(harness: XHarness) -> None:
    h = harness
    root = h.post_mentions(1)[0]
    follow_up = h.peer.state.add_post(
        h.customer_id(0), "@LigneAzur_SAV toujours rien", in_reply_to=root
    ).id
    meter = CountingMeter()
    sender = h.sender(meter)
    receipt = sender.send(_public("Nous regardons votre dossier.", follow_up))
    (reply,) = h.replies_to(follow_up)
    assert reply == {
        "id": receipt.external_id,
        "text": "Nous regardons votre dossier.",
        "author": BRAND,
        "root": root,
    }
    with_link = sender.send(_public("Le détail : https://ligneazur.fr/aide", root, "k3"))
    assert [r["id"] for r in h.replies_to(root) if r["author"] == BRAND] == [with_link.external_id]
    assert h.replies_to(root)[-1]["text"] == "Le détail : https://ligneazur.fr/aide"
    assert meter.units["reply"] == 1 and meter.units["reply_url"] == 1


def test_a_private_message_stays_private(harness: XHarness) -> None:
    h = harness
    h.send_private("Bonjour, j'ai été débité deux fois", customer=4)
    meter = CountingMeter()
    receipt = h.sender(meter).send(_private("Pouvez-vous nous donner la date ?", h.customer_id(4)))
    conversation = h.private_messages(customer=4)
    assert [m["author"] for m in conversation] == ["client004", BRAND]
    assert conversation[-1] == {
        "id": receipt.external_id,
        "text": "Pouvez-vous nous donner la date ?",
        "author": BRAND,
    }
    assert receipt.raw["dm_conversation_id"] == f"{h.brand_user.id}-{h.customer_id(4)}"
    assert "Pouvez-vous nous donner la date ?" not in h.public_texts()
    assert meter.units["dm_send"] == 1


def test_a_lost_answer_is_not_posted_twice(harness: XHarness) -> None:
    """X did the work but the answer was lost: the retry finds the post instead of reposting."""
    h = harness
    root = h.post_mentions(1)[0]
    meter = CountingMeter()
    sender = h.sender(meter)
    sender.resolve_account()
    h.peer.lose_next(503)
    receipt = sender.send(_public("Un agent vous répond sous peu.", root))
    replies = h.replies_to(root)
    assert len(replies) == 1 and replies[0]["id"] == receipt.external_id
    assert receipt.raw["found"] is True
    assert meter.units["reply"] == 1 and meter.units["owned_read"] >= 1


def test_a_failure_before_the_work_is_simply_retried(harness: XHarness) -> None:
    h = harness
    root = h.post_mentions(1)[0]
    sender = h.sender()
    sender.resolve_account()
    h.fail_next(500, 1)
    h.fail_next(429, 1)
    sender.send(_public("Nous transmettons au service client.", root))
    assert len(h.replies_to(root)) == 1


def test_find_sent_lets_the_outbox_avoid_a_double_post(harness: XHarness) -> None:
    h = harness
    root, other = h.post_mentions(2)
    reply = _public("Merci, c'est noté.", root)
    impatient = XConnector(h.brand, "mentions", backoff=Backoff(attempts=1))
    assert impatient.find_sent(reply) is None
    h.peer.lose_next(503)
    with pytest.raises(TransientNetworkError):
        impatient.send(reply)  # the outcome is unknown to the desk…
    found = impatient.find_sent(reply)  # …which asks before sending again
    assert found is not None and len(h.replies_to(root)) == 1
    assert found.external_id == h.replies_to(root)[0]["id"]
    assert impatient.find_sent(_public("Merci, c'est noté.", other)) is None  # other thread

    message = _private("Votre dossier est le 4411.", h.customer_id(2))
    assert impatient.find_sent(message) is None
    h.peer.lose_next(503)
    with pytest.raises(TransientNetworkError):
        impatient.send(message)
    found_dm = impatient.find_sent(message)
    assert found_dm is not None
    assert [m["id"] for m in h.private_messages(customer=2)] == [found_dm.external_id]


def test_images_are_uploaded_and_attached(harness: XHarness) -> None:
    h = harness
    root = h.post_mentions(1)[0]
    meter = CountingMeter()
    sender = h.sender(meter)
    assert sender.estimate_cost_ops(_public("Voici le plan", root), images=2) == [
        ("reply", 1),
        ("media_upload", 2),
    ]
    receipt = sender.send_with_media(_public("Voici le plan", root), [PNG, PNG])
    post = h.peer.state.posts[receipt.external_id]
    assert len(post.media_ids) == 2
    assert all(h.peer.state.media[m] == PNG for m in post.media_ids)
    dm = sender.send_with_media(_private("Le justificatif", h.customer_id(1)), [PNG])
    assert h.peer.state.dms[dm.external_id].media_ids
    assert meter.units["media_upload"] == 3
    with pytest.raises(InvalidInput):
        sender.send_with_media(_public("Trop d'images", root), [PNG] * 5)
    with pytest.raises(InvalidInput):
        sender.upload_media(b"not an image")


def test_an_app_only_token_cannot_send() -> None:
    with XHarness(credentials="bearer") as h:
        root = h.post_mentions(1)[0]
        with pytest.raises(AuthError, match="user context"):
            h.sender().send(_public("Bonjour", root))
        assert h.replies_to(root) == []
