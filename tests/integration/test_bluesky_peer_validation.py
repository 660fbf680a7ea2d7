"""The local Bluesky peer under strict lexicon validation: every method it serves, exercised
through the atproto SDK and the connector, with no request or answer outside the lexicons."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import httpx
import pytest
from atproto_client import Client

from carebird.ingest.base import OutboundReply
from tests.support.bluesky_harness import BRAND, BRAND_PASSWORD, BlueskyHarness, drain
from tests.support.bsky_peer import handlers


@pytest.fixture
def h() -> Iterator[BlueskyHarness]:
    with BlueskyHarness(strict=True) as harness:
        yield harness


def test_every_method_validates(h: BlueskyHarness) -> None:
    root = h.post(h.customer(1), f"@{BRAND} bonjour", langs=["fr"])
    h.post(h.customer(2), "ligne azur en panne ?")
    h.send_private("allô ?", customer=1)
    readers = {s: h.connector(s) for s in ("notifications", "own", "chat", "search:0")}
    for reader in readers.values():
        drain(reader)
    sender = h.sender()
    public = OutboundReply(
        "bluesky", "Bonjour @customer1.bsky.social", BRAND, "a", in_reply_to_id=root
    )
    sender.send(public)
    assert sender.find_sent(public) is not None  # getRecord
    sender.send(
        OutboundReply(
            "bluesky", "En privé", BRAND, "b", private=True, recipient_id=h.customer_id(1)
        )
    )
    h.peer.state.expire_access_tokens()
    drain(readers["notifications"])  # 400 ExpiredToken, then refreshSession

    client = Client(h.peer.url)  # what the connector does not call, through the SDK too
    client.login(BRAND, BRAND_PASSWORD)  # createSession + getProfile
    did = h.brand_account.did
    assert client.com.atproto.server.get_session().did == did
    assert client.app.bsky.actor.get_profile({"actor": BRAND}).followers_count == 48_200
    with warnings.catch_warnings():  # the SDK posts bytes with httpx's deprecated `data=`
        warnings.simplefilter("ignore", DeprecationWarning)
        blob = client.com.atproto.repo.upload_blob(b"\x89PNG fake image")
    assert blob.blob.size == 15
    made = client.send_post("post jetable")
    listed = client.com.atproto.repo.list_records({"repo": did, "collection": "app.bsky.feed.post"})
    assert made.uri in [r.uri for r in listed.records]
    client.delete_post(made.uri)  # deleteRecord
    assert made.uri not in h.peer.state.posts
    chat = client.with_bsky_chat_proxy()
    convos = chat.chat.bsky.convo.list_convos()
    assert len(convos.convos) == 1
    client.request.close()
    chat.request.close()

    assert set(handlers.METHODS) <= set(h.peer.calls)
    assert h.peer.violations == []


def test_a_bad_answer_is_caught(h: BlueskyHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = handlers.Method(lambda *a: {"did": "not a did"})
    monkeypatch.setitem(handlers.METHODS, "com.atproto.identity.resolveHandle", broken)
    reply = httpx.get(
        f"{h.peer.url}/xrpc/com.atproto.identity.resolveHandle", params={"handle": BRAND}
    )
    assert reply.status_code == 500
    assert h.peer.violations and "output.did" in h.peer.violations[0]


def test_a_bad_request_is_refused(h: BlueskyHarness) -> None:
    login = httpx.post(
        f"{h.peer.url}/xrpc/com.atproto.server.createSession",
        json={"identifier": BRAND, "password": BRAND_PASSWORD},
    ).json()
    record = {"$type": "app.bsky.feed.post", "text": "x" * 301, "createdAt": "2026-01-05T08:00:00Z"}
    answer = httpx.post(
        f"{h.peer.url}/xrpc/com.atproto.repo.createRecord",
        json={"repo": login["did"], "collection": "app.bsky.feed.post", "record": record},
        headers={"Authorization": f"Bearer {login['accessJwt']}"},
    )
    assert answer.status_code == 400 and "maxGraphemes" in answer.json()["message"]
    missing = httpx.get(f"{h.peer.url}/xrpc/app.bsky.feed.getPostThread")
    assert missing.status_code == 400 and "uri: required" in missing.json()["message"]
    assert any("getPostThread request" in v for v in h.peer.violations)


def test_chat_needs_the_proxy_header(h: BlueskyHarness) -> None:
    client = Client(h.peer.url)
    client.login(BRAND, BRAND_PASSWORD, fetch_bsky_profile=False)
    with pytest.raises(Exception, match="bsky_chat"):
        client.chat.bsky.convo.list_convos()
    client.request.close()
