"""Private messages: chat backfill then log, exactly once, resumable; sessions and tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from carebird.ingest.base import Direction, MessageKind, OutboundReply
from tests.support.bluesky_harness import BRAND, BRAND_PASSWORD, BlueskyHarness, drain

LOG = "chat.bsky.convo.getLog"


@pytest.fixture
def h() -> Iterator[BlueskyHarness]:
    with BlueskyHarness() as harness:
        yield harness
        assert harness.peer.violations == []


def test_chat_history_then_new_messages_exactly_once(h: BlueskyHarness) -> None:
    sent = [h.send_private(f"message {i}", customer=i % 4) for i in range(260)]
    chat = h.connector("chat")
    first = chat.fetch(None, limit=120)
    assert first.more and len(first.items) >= 100
    rest, cursor = drain(h.connector("chat"), first.cursor, limit=120)  # a new process resumes
    got = [i.external_id for i in first.items + rest]
    assert sorted(got) == sorted(sent) and len(got) == len(set(got))
    item = first.items[0]
    assert item.kind is MessageKind.DIRECT and item.is_private
    assert item.conversation_id == item.raw["convo_id"]
    assert item.author.handle.startswith("customer") and item.account_handle == BRAND
    later = h.send_private("encore moi", customer=9)
    ours = h.sender().send(
        OutboundReply(
            "bluesky", "On s'en occupe", BRAND, "k", private=True, recipient_id=h.customer_id(9)
        )
    )
    new, cursor = drain(h.connector("chat"), cursor)
    assert [(i.external_id, i.direction) for i in new] == [
        (later, Direction.IN),
        (ours.external_id, Direction.OUT),
    ]
    assert new[0].conversation_id == new[1].conversation_id
    assert drain(h.connector("chat"), cursor)[0] == []


def test_message_arriving_during_backfill_is_read_once(h: BlueskyHarness) -> None:
    before = h.send_private("avant", customer=1)
    chat = h.connector("chat")
    partial = chat.fetch(None, limit=1)  # snapshot taken, backfill done for the only convo
    during = h.send_private("pendant", customer=1)  # newer than the snapshot: the log's
    rest, _ = drain(chat, partial.cursor)
    ids = [i.external_id for i in partial.items + rest]
    assert sorted(ids) == sorted([before, during])


def test_chat_429_keeps_what_was_read(h: BlueskyHarness) -> None:
    h.send_private("un", customer=1)
    chat = h.connector("chat")
    _, cursor = drain(chat)
    sent = [h.send_private(f"m{i}", customer=2) for i in range(150)]
    h.peer.fail_next(429, 1, retry_after=900, only=LOG, skip=1)
    partial = chat.fetch(cursor, limit=1000)
    assert len(partial.items) == 100 and partial.more
    rest, _ = drain(chat, partial.cursor)
    assert [i.external_id for i in partial.items + rest] == sent


def test_expired_access_token_is_refreshed_and_saved(h: BlueskyHarness) -> None:
    h.post_mentions(3)
    connector = h.connector("notifications")
    _, cursor = drain(connector)
    assert len(h.saved) == 1  # the login's tokens were handed to the desk
    h.peer.state.expire_access_tokens()
    new = h.post_mentions(2)
    items, _ = drain(connector, cursor)
    assert sorted(i.external_id for i in items) == sorted(new)
    assert h.peer.calls.count("com.atproto.server.refreshSession") == 1
    assert len(h.saved) == 2 and h.saved[1]["access_jwt"] != h.saved[0]["access_jwt"]
    assert h.saved[1]["app_password"] == BRAND_PASSWORD


def test_saved_session_is_reused_and_a_dead_one_replaced(h: BlueskyHarness) -> None:
    h.post_mentions(1)
    drain(h.connector("notifications"))
    logins = h.peer.calls.count("com.atproto.server.createSession")
    h.brand = h._spec(h.saved[-1])  # the desk restarts with the stored tokens
    drain(h.connector("own"))
    assert h.peer.calls.count("com.atproto.server.createSession") == logins
    # both tokens dead (peer restarted, say): refresh is refused, the app password logs in
    h.peer.state.access.clear()
    h.peer.state.refresh.clear()
    assert len(drain(h.connector("notifications"))[0]) == 1
    assert h.peer.calls.count("com.atproto.server.createSession") == logins + 1


def test_many_conversations_backfill_in_short_cursors(h: BlueskyHarness) -> None:
    sent = [h.send_private(f"bonjour {i}", customer=i) for i in range(130)]  # two listConvos pages
    sent += [h.send_private("et encore", customer=i) for i in range(0, 130, 13)]
    cursor, got = None, []
    while True:
        result = h.connector("chat").fetch(cursor, limit=7)  # a fresh process every time
        got += [i.external_id for i in result.items]
        cursor = result.cursor
        assert cursor is not None and len(cursor) < 500  # the desk's cursor column
        if not result.more:
            break
    assert sorted(got) == sorted(sent) and len(got) == len(set(got))
