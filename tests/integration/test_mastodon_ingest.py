"""The Mastodon connector reading from mastodon-mock over HTTP: streams, cursors, faults."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from carebird.errors import BudgetExhausted, RateLimited
from carebird.ingest.base import Direction, InboundItem, MessageKind
from carebird.ingest.calls import CountingMeter, RateLimit
from carebird.ingest.mastodon.connector import MastodonConnector
from tests.support.mastodon_harness import BRAND, MastodonHarness


@pytest.fixture(scope="module")
def peer() -> Iterator[MastodonHarness]:
    with MastodonHarness() as harness:
        yield harness


@pytest.fixture
def fresh() -> Iterator[MastodonHarness]:
    with MastodonHarness() as harness:
        yield harness


def drain(connector: MastodonConnector, cursor: str | None = None, *, limit: int = 500):
    items: list[InboundItem] = []
    while True:
        result = connector.fetch(cursor, limit=limit)
        items.extend(result.items)
        cursor = result.cursor
        if not result.more:
            return items, cursor


def test_streams_of_an_account(peer: MastodonHarness) -> None:
    assert MastodonConnector.streams(peer.brand) == ["mentions", "direct", "own", "search:0"]
    sources = [c.source for c in peer.inbound_connectors()]
    assert sources[0] == f"mastodon:{BRAND}:mentions"
    assert len(set(sources)) == 4


def test_mentions_normalised_and_exactly_once_across_polls(fresh: MastodonHarness) -> None:
    ids = fresh.post_mentions(95, customers=7)
    mentions = fresh.connector("mentions")
    items, cursor = drain(mentions, limit=30)  # 4 fetches, 3 pages of 40 at most each
    assert [i.external_id for i in items] == ids  # oldest first, none twice, none missed
    first = items[0]
    assert first.kind is MessageKind.MENTION and first.direction is Direction.IN
    assert first.text == f"@{BRAND} message 0: my train from Lyon is late again"
    assert first.author.handle == "client0" and first.author.display_name == "Client 0"
    assert first.author.external_id == fresh.customer_id(0)
    assert first.created_at.utcoffset() is not None and first.created_at.utcoffset().seconds == 0
    assert first.conversation_id == first.external_id  # a thread's first post is its root
    assert first.account_handle == BRAND
    assert set(first.metrics) == {"likes", "reposts", "quotes", "replies"}
    more = fresh.post_mentions(3)
    again, _ = drain(mentions, cursor)
    assert [i.external_id for i in again] == more


def test_replies_get_their_thread_root(fresh: MastodonHarness) -> None:
    root = fresh.customer_posts("Mon train est supprimé", customer=1)  # no mention: not fetched
    second = fresh.customer_posts(f"@{BRAND} vous pouvez aider ?", customer=1, in_reply_to_id=root)
    third = fresh.customer_posts(f"@{BRAND} toujours rien", customer=1, in_reply_to_id=second)
    items, _ = drain(fresh.connector("mentions"))
    assert [(i.external_id, i.kind, i.in_reply_to_id) for i in items] == [
        (second, MessageKind.REPLY, root),
        (third, MessageKind.REPLY, second),
    ]
    assert {i.conversation_id for i in items} == {root}


def test_long_and_formatted_text_arrive_whole(fresh: MastodonHarness) -> None:
    long_text = f"@{BRAND} " + " ".join(f"mot{i}" for i in range(1500))  # > 500 characters
    [long_id] = fresh.post_mentions(1, text=long_text)
    fresh.post_mentions(1, text=f"@{BRAND} ligne 1\nligne 2\n\nvoir https://example.com/a?b=1&c=2")
    items, _ = drain(fresh.connector("mentions"))
    assert items[0].external_id == long_id and items[0].text == long_text
    assert items[1].text == f"@{BRAND} ligne 1\nligne 2\n\nvoir https://example.com/a?b=1&c=2"


def test_private_messages_only_in_the_direct_stream(fresh: MastodonHarness) -> None:
    public = fresh.post_mentions(2, customers=1)
    first = fresh.send_private("mon numéro de dossier est AB123", customer=3)
    second = fresh.send_private("vous avez reçu ?", customer=3)
    other = fresh.send_private("bonjour", customer=4)
    mentions, _ = drain(fresh.connector("mentions"))
    direct, _ = drain(fresh.connector("direct"))
    assert [i.external_id for i in mentions] == public
    assert [i.external_id for i in direct] == [first, second, other]
    assert all(i.kind is MessageKind.DIRECT and i.is_private for i in direct)
    assert direct[0].text == f"@{BRAND} mon numéro de dossier est AB123"
    cust3, cust4 = fresh.customer_id(3), fresh.customer_id(4)
    assert [i.conversation_id for i in direct] == [f"dm:{cust3}", f"dm:{cust3}", f"dm:{cust4}"]


def test_own_stream_sees_the_brand_answering_from_its_phone(fresh: MastodonHarness) -> None:
    [asked] = fresh.post_mentions(1, customers=1)
    answer = fresh.post_as_brand("Nous regardons, désolés du retard", in_reply_to=asked)
    own, _ = drain(fresh.connector("own"))
    assert [(i.external_id, i.kind, i.direction) for i in own] == [
        (answer, MessageKind.REPLY, Direction.OUT)
    ]
    assert own[0].author.handle == BRAND and own[0].in_reply_to_id == asked
    assert own[0].conversation_id == asked
    assert own[0].text.startswith("@client0 Nous regardons")


def test_listening_search_finds_the_brand_named_without_mention(fresh: MastodonHarness) -> None:
    named = fresh.customer_posts("Ligne Azur a encore perdu ma valise", customer=5)
    fresh.customer_posts("Ligne Azur en privé", customer=5, visibility="direct")
    fresh.post_mentions(1, text=f"@{BRAND} Ligne Azur avec mention")  # the mentions stream's
    search = fresh.connector("search:0")
    items, cursor = drain(search)
    assert [(i.external_id, i.kind) for i in items] == [(named, MessageKind.KEYWORD)]
    assert items[0].raw["query"] == "Ligne Azur"
    later = fresh.customer_posts("vive Ligne Azur", customer=6)
    again, _ = drain(search, cursor)
    assert [i.external_id for i in again] == [later]


def test_an_interrupted_pass_resumes_without_skip_or_repeat(fresh: MastodonHarness) -> None:
    ids = fresh.post_mentions(200)
    capped = CountingMeter({"post_read": 1.0}, cap=100.0)  # the budget stops page 3
    partial = fresh.connector("mentions", capped).fetch(None, limit=500)
    assert [i.external_id for i in partial.items] == ids[:80] and partial.more
    with pytest.raises(BudgetExhausted):  # nothing held: the cap is raised
        fresh.connector("mentions", capped).fetch(partial.cursor)
    # A new process (after a crash, say) resumes from the saved cursor.
    rest, _ = drain(fresh.connector("mentions"), partial.cursor)
    assert [i.external_id for i in rest] == ids[80:]


class StormAfter(CountingMeter):
    """A meter that makes the peer answer 429 for 10 minutes after `pages` reads."""

    def __init__(self, peer: MastodonHarness, pages: int) -> None:
        super().__init__()
        self.peer, self.pages = peer, pages

    def record(self, op: str, units: int = 1) -> None:
        super().record(op, units)
        if op == "post_read":
            self.pages -= 1
            if self.pages == 0:
                self.peer.fail_next(429, 1, retry_after=600)


def test_a_long_429_mid_pass_returns_the_pages_held(fresh: MastodonHarness) -> None:
    ids = fresh.post_mentions(150)
    meter = StormAfter(fresh, pages=2)
    held = fresh.connector("mentions", meter).fetch(None, limit=500)
    assert [i.external_id for i in held.items] == ids[:80] and held.more
    assert json.loads(held.cursor or "") == {"after": held.items[-1].raw["notification_id"]}
    fresh.fail_next(429, 1, retry_after=600)
    with pytest.raises(RateLimited) as info:  # nothing held now: the wait goes to the loop
        fresh.connector("mentions").fetch(held.cursor)
    # The reset is read against the response's Date header (clock skew), which is in whole
    # seconds and which uvicorn refreshes once a second: up to 2 s more, never less.
    assert 590 < info.value.retry_after <= 603
    rest, _ = drain(fresh.connector("mentions"), held.cursor)
    assert [i.external_id for i in held.items + rest] == ids


def test_short_429s_and_5xx_are_retried_in_place(fresh: MastodonHarness) -> None:
    ids = fresh.post_mentions(60)
    fresh.sleeps.clear()
    fresh.fail_next(503, 2)
    fresh.fail_next(429, 2, retry_after=3)
    meter = CountingMeter()
    items, _ = drain(fresh.connector("mentions", meter))
    assert [i.external_id for i in items] == ids
    assert len(fresh.sleeps) == 4
    assert all(1.5 < s <= 5 for s in fresh.sleeps[2:])  # the 429s' 3 s (+ the Date's 2 s)
    window = meter.limits["GET /api/v1/notifications"]
    assert isinstance(window, RateLimit) and window.limit == 1_000_000
    assert window.remaining is not None and window.remaining < 1_000_000


def test_the_servers_own_limiter() -> None:
    with MastodonHarness(rate_limit=(3, 300)) as small:
        small.post_mentions(200)
        mentions = small.connector("mentions")
        held = mentions.fetch(None, limit=500)  # the 3rd page says "0 left": stop there
        assert len(held.items) == 120 and held.more
        with pytest.raises(RateLimited) as info:
            mentions.fetch(held.cursor)
        assert 290 < info.value.retry_after <= 303


def test_resolve_account_fills_the_id_from_the_token(peer: MastodonHarness) -> None:
    from dataclasses import replace

    anonymous = replace(peer.brand, external_id=None)
    resolved = MastodonConnector(anonymous, "mentions").resolve_account()
    assert resolved.external_id == str(peer.brand_account_id)
    assert resolved.handle == BRAND
