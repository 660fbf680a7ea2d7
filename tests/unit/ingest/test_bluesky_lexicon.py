"""The peer's lexicon validator refuses what the official lexicons refuse."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.bsky_peer.lexicon import HERE, Lexicons
from tests.support.shared import shared_data


@pytest.fixture(scope="module")
def lex() -> Lexicons:
    return Lexicons([shared_data("bluesky-lexicons"), HERE / "lexicons"])


def post(**extra: Any) -> dict[str, Any]:
    return {
        "$type": "app.bsky.feed.post",
        "text": "bonjour",
        "createdAt": "2026-01-05T08:00:00.000Z",
        **extra,
    }


REF = {
    "uri": "at://did:plc:abc/app.bsky.feed.post/3k2la",
    "cid": "bafyreihltcnuuyqp2jm24aqydpnlj7b6w3ogwrplomrjtg5rifv44mmjey",
}


def test_valid_post_with_reply_and_facets(lex: Lexicons) -> None:
    facet = {
        "index": {"byteStart": 0, "byteEnd": 4},
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:abc"}],
    }
    assert lex.check_record(post(reply={"root": REF, "parent": REF}, facets=[facet])) == []


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"$type": "app.bsky.feed.post", "text": "x"}, "createdAt: required"),
        (post(text="é" * 301), "graphemes > maxGraphemes 300"),
        (post(text="\U0001f468\u200d\U0001f469\u200d\U0001f467" * 200), "bytes > maxLength 3000"),
        (post(createdAt="yesterday"), "not a valid datetime"),
        (post(reply={"root": REF}), "parent: required"),
        (post(reply={"root": REF, "parent": {**REF, "uri": "https://x"}}), "not a valid at-uri"),
        (post(reply={"root": REF, "parent": {**REF, "cid": "nope"}}), "not a valid cid"),
        (post(langs=["fr", "en", "de", "it"]), "items > maxLength 3"),
        (post(facets=[{"index": {"byteStart": -1, "byteEnd": 2}, "features": []}]), "< minimum 0"),
        (
            post(facets=[{"index": {"byteStart": 0, "byteEnd": 2}, "features": [{"did": "x"}]}]),
            "needs a $type",
        ),
        (post(text=5), "expected a string"),
    ],
)
def test_invalid_posts(lex: Lexicons, record: dict[str, Any], expected: str) -> None:
    errors = lex.check_record(record)
    assert any(expected in e for e in errors), errors


def test_output_and_params(lex: Lexicons) -> None:
    method = lex.method("app.bsky.notification.listNotifications")
    assert method is not None
    params, errors = lex.parse_params(
        method["parameters"], {"limit": ["500"], "reasons": ["mention", "reply"]}
    )
    assert params["reasons"] == ["mention", "reply"]
    assert any("> maximum 100" in e for e in errors)
    output = method["output"]["schema"]
    note = {
        **REF,
        "author": {"did": "did:plc:abc", "handle": "a.bsky.social"},
        "reason": "mention",
        "record": post(),
        "isRead": False,
        "indexedAt": "2026-01-05T08:00:00.000Z",
    }
    assert (
        lex.check(output, {"notifications": [note]}, "app.bsky.notification.listNotifications")
        == []
    )
    bad = {**note, "author": {"did": "not-a-did", "handle": "a.bsky.social"}}
    assert lex.check(output, {"notifications": [bad]}, "app.bsky.notification.listNotifications")


def test_unions_need_a_known_member_when_closed(lex: Lexicons) -> None:
    closed = {"type": "union", "refs": ["app.bsky.richtext.facet#mention"], "closed": True}
    assert lex.check(closed, {"$type": "app.bsky.richtext.facet#link", "uri": "https://x"}, "")
    assert (
        lex.check(closed, {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:a"}, "")
        == []
    )
    opened = {**closed, "closed": False}
    assert lex.check(opened, {"$type": "com.example.other"}, "") == []
