"""Sending to the local peer: threads, facets, at most once, private stays private."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from carebird.errors import InvalidInput
from carebird.ingest.base import OutboundReply
from carebird.ingest.bluesky.records import tid_for_key
from carebird.ingest.calls import CountingMeter
from tests.support.bluesky_harness import BRAND, BlueskyHarness

CREATE = "com.atproto.repo.createRecord"
SEND = "chat.bsky.convo.sendMessage"


@pytest.fixture
def h() -> Iterator[BlueskyHarness]:
    with BlueskyHarness() as harness:
        yield harness
        assert harness.peer.violations == []


def reply(text: str, key: str, **extra: object) -> OutboundReply:
    return OutboundReply("bluesky", text, BRAND, key, **extra)  # type: ignore[arg-type]


def test_reply_deep_in_a_thread_points_at_root_and_parent(h: BlueskyHarness) -> None:
    state = h.peer.state
    root = h.post(h.customer(1), f"@{BRAND} colis perdu")
    ours = h.post_as_brand("Quel numéro ?", in_reply_to=root)
    parent = h.post(h.customer(1), "Le 1234", reply_to=ours)
    meter = CountingMeter()
    sent = h.sender(meter).send(reply("Merci, il arrive demain.", "r-1", in_reply_to_id=parent))
    [landed] = h.replies_to(parent)
    assert landed["id"] == sent.external_id and landed["author"] == BRAND
    assert landed["root"] == root  # the thread's root, not the parent
    assert landed["root_cid"] == state.posts[root].cid
    assert landed["parent_cid"] == state.posts[parent].cid
    assert sent.raw["root"] == root and sent.external_id.endswith("/" + tid_for_key("r-1"))
    assert meter.units["reply"] == 1
    # and the first answer to a top-level post uses that post as both
    first = h.sender().send(reply("Bonjour !", "r-2", in_reply_to_id=root))
    record = state.posts[first.external_id].record["reply"]
    assert record["root"]["uri"] == record["parent"]["uri"] == root


def test_mentions_and_links_get_facets(h: BlueskyHarness) -> None:
    post = h.post(h.customer(2), f"@{BRAND} aide")
    text = "🙏 @customer2.bsky.social suivez https://ligne-azur.example/suivi 📦"
    meter = CountingMeter()
    sent = h.sender(meter).send(reply(text, "r-f", in_reply_to_id=post))
    record = h.peer.state.posts[sent.external_id].record
    data = text.encode()
    spans = {
        f["features"][0]["$type"]: data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode()
        for f in record["facets"]
    }
    assert spans == {
        "app.bsky.richtext.facet#mention": "@customer2.bsky.social",
        "app.bsky.richtext.facet#link": "https://ligne-azur.example/suivi",
    }
    assert record["facets"][0]["features"][0]["did"] == h.customer_id(2)
    assert meter.units["reply_url"] == 1 and meter.units["reply"] == 0


def test_same_idempotency_key_never_posts_twice(h: BlueskyHarness) -> None:
    post = h.post(h.customer(3), f"@{BRAND} ?")
    r = reply("Nous vérifions.", "once", in_reply_to_id=post)
    sender = h.sender()
    assert sender.find_sent(r) is None
    # the PDS writes the record, then the answer is lost: the retry must not post again
    h.peer.fail_next(500, 1, after_commit=True, only=CREATE)
    first = sender.send(r)
    again = h.sender().send(r)  # a retry from another process after a crash
    assert first.external_id == again.external_id
    assert [x["text"] for x in h.replies_to(post)] == ["Nous vérifions."]
    found = sender.find_sent(r)
    assert found is not None and found.external_id == first.external_id
    assert h.peer.calls.count(CREATE) == 3  # tried three times, created once


def test_private_reply_stays_private_and_is_sent_once(h: BlueskyHarness) -> None:
    h.send_private("Bonjour, mon numéro client est 998877", customer=4)
    r = reply(
        "Merci, votre dossier est ouvert.", "dm-1", private=True, recipient_id=h.customer_id(4)
    )
    sender = h.sender(meter := CountingMeter())
    assert sender.find_sent(r) is None
    h.peer.fail_next(503, 1, after_commit=True, only=SEND)  # delivered, then a 503
    sent = sender.send(r)
    messages = h.private_messages(customer=4)
    assert [m["text"] for m in messages] == [
        "Bonjour, mon numéro client est 998877",
        "Merci, votre dossier est ouvert.",
    ]
    assert messages[1]["id"] == sent.external_id and messages[1]["author"] == BRAND
    assert "Merci, votre dossier est ouvert." not in h.public_texts()
    assert all("998877" not in t for t in h.public_texts())
    assert h.peer.calls.count(SEND) == 1  # the retry found the message instead of resending
    assert meter.units["dm_send"] == 1
    found = sender.find_sent(r)
    assert found is not None and found.external_id == sent.external_id


def test_private_answer_to_a_public_post_goes_to_its_author(h: BlueskyHarness) -> None:
    post = h.post(h.customer(5), f"@{BRAND} je vous écris en privé ?")
    sent = h.sender().send(reply("Écrivez-nous ici.", "dm-2", private=True, in_reply_to_id=post))
    assert [m["id"] for m in h.private_messages(customer=5)] == [sent.external_id]
    assert h.replies_to(post) == []


def test_length_rules(h: BlueskyHarness) -> None:
    post = h.post(h.customer(6), f"@{BRAND} ?")
    sender = h.sender()
    with pytest.raises(InvalidInput):
        sender.send(reply("é" * 301, "long", in_reply_to_id=post))
    with pytest.raises(InvalidInput):  # 300 graphemes but 7,500 bytes
        sender.send(reply("👨‍👩‍👧‍👦" * 300, "bytes", in_reply_to_id=post))
    text = "e\u0301" * 299 + "👨‍👩‍👧‍👦"  # 300 graphemes, 601 code points
    sent = sender.send(reply(text, "exact", in_reply_to_id=post))
    assert h.peer.state.posts[sent.external_id].record["text"] == text
