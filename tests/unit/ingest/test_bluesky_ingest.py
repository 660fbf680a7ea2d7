"""Reading Bluesky from the local peer: normalisation, exactly-once passes, 429 and 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

import pytest

from carebird.errors import RateLimited, TransientNetworkError
from carebird.ingest.base import Direction, MessageKind
from carebird.ingest.calls import CountingMeter
from tests.support.bluesky_harness import BRAND, BlueskyHarness, drain

NOTIFS = "app.bsky.notification.listNotifications"


@pytest.fixture
def h() -> Iterator[BlueskyHarness]:
    with BlueskyHarness() as harness:
        yield harness
        assert harness.peer.violations == []  # every request and answer matched the lexicons


def test_mention_is_normalised(h: BlueskyHarness) -> None:
    customer = h.customer(7)
    text = "@" + BRAND + " ma carte 💳 est bloquée depuis hier, " + "vraiment " * 25 + "👨‍👩‍👧"
    uri = h.post(customer, text, langs=["fr"])
    h.peer.state.posts[uri].likes, h.peer.state.posts[uri].reposts = 4, 2
    meter = CountingMeter()
    items, _ = drain(h.connector("notifications", meter))
    assert len(items) == 1
    item = items[0]
    assert item.network == "bluesky" and item.external_id == uri
    assert item.kind is MessageKind.MENTION and item.direction is Direction.IN
    assert item.text == text  # in full
    assert item.author.external_id == customer.did
    assert (item.author.handle, item.author.display_name) == ("customer7.bsky.social", "Client 7")
    assert item.author.followers == 70 and item.author.verified is False
    assert item.metrics == {"likes": 4, "reposts": 2, "quotes": 0, "replies": 0}
    assert item.conversation_id == uri and item.in_reply_to_id is None
    assert item.account_handle == BRAND and item.language == "fr"
    assert item.created_at.tzinfo is UTC
    assert item.raw["cid"] == h.peer.state.posts[uri].cid and item.raw["reason"] == "mention"
    assert meter.units["post_read"] == 2 and meter.units["user_read"] == 1
    assert meter.limits[NOTIFS].limit == 3000  # ratelimit-* headers were observed
    assert meter.limits[NOTIFS].remaining is not None and meter.limits[NOTIFS].remaining < 3000


def test_reply_and_quote_kinds_and_thread_ids(h: BlueskyHarness) -> None:
    root = h.post(h.customer(1), f"@{BRAND} mon colis ?")
    ours = h.post_as_brand("Nous regardons, pouvez-vous nous donner le numéro ?", in_reply_to=root)
    answer = h.post(h.customer(1), "C'est le 1234", reply_to=ours)
    quote = h.post(
        h.customer(2),
        "Même souci ici",
        embed={
            "$type": "app.bsky.embed.record",
            "record": {"uri": ours, "cid": h.peer.state.posts[ours].cid},
        },
    )
    items, _ = drain(h.connector("notifications"))
    by_id = {i.external_id: i for i in items}
    assert set(by_id) == {root, answer, quote}  # no notification for our own post
    assert by_id[answer].kind is MessageKind.REPLY
    assert by_id[answer].in_reply_to_id == ours and by_id[answer].conversation_id == root
    assert by_id[quote].kind is MessageKind.QUOTE and by_id[quote].conversation_id == quote
    own, _ = drain(h.connector("own"))
    assert [(i.external_id, i.kind, i.direction) for i in own] == [
        (ours, MessageKind.REPLY, Direction.OUT)
    ]
    assert own[0].author.verified is True and own[0].author.followers == 48_200
    assert own[0].metrics["replies"] == 1 and own[0].metrics["quotes"] == 1


def test_pass_resumes_after_a_crash_and_then_reads_only_new(h: BlueskyHarness) -> None:
    uris = h.post_mentions(450, customers=30)  # same milliseconds: ties at every page edge
    first = h.connector("notifications").fetch(None, limit=150)
    assert len(first.items) == 200 and first.more  # pages of 100, taken whole
    assert first.cursor is not None and len(first.cursor) < 500  # the desk's cursor column
    # the process dies before committing `second`: resume from `first.cursor` in a new one
    h.connector("notifications").fetch(first.cursor, limit=150)
    rest, cursor = drain(h.connector("notifications"), first.cursor, limit=150)
    ids = [i.external_id for i in first.items] + [i.external_id for i in rest]
    assert sorted(ids) == sorted(uris) and len(ids) == len(set(ids))
    new = h.post_mentions(3)
    again, cursor = drain(h.connector("notifications"), cursor)
    assert sorted(i.external_id for i in again) == sorted(new)
    assert drain(h.connector("notifications"), cursor)[0] == []


def test_short_429s_and_5xx_are_retried_in_place(h: BlueskyHarness) -> None:
    uris = h.post_mentions(30)
    h.peer.fail_next(429, 2, retry_after=1)
    h.peer.fail_next(503, 1)
    h.peer.fail_next(500, 1)
    items, _ = drain(h.connector("notifications"))
    assert sorted(i.external_id for i in items) == sorted(uris)
    assert len(h.sleeps) == 4 and max(h.sleeps[:2]) <= 3


def test_long_429_returns_pages_held_with_a_resume_cursor(h: BlueskyHarness) -> None:
    uris = h.post_mentions(250)
    h.peer.fail_next(429, 1, retry_after=600, only=NOTIFS, skip=1)
    connector = h.connector("notifications")
    partial = connector.fetch(None, limit=1000)
    assert len(partial.items) == 100 and partial.more
    rest, _ = drain(connector, partial.cursor)
    ids = [i.external_id for i in partial.items + rest]
    assert sorted(ids) == sorted(uris) and len(ids) == len(set(ids))
    assert h.sleeps == []  # a 10-minute wait is the poll loop's business, not slept here


def test_long_429_with_nothing_held_raises(h: BlueskyHarness) -> None:
    h.post_mentions(5)
    h.peer.fail_next(429, 1, retry_after=600, only=NOTIFS)
    with pytest.raises(RateLimited) as caught:
        h.connector("notifications").fetch(None)
    assert 500 < caught.value.retry_after <= 601


def test_5xx_storm_gives_up_as_transient(h: BlueskyHarness) -> None:
    h.post_mentions(5)
    h.peer.fail_next(500, 50, only=NOTIFS)
    with pytest.raises(TransientNetworkError):
        h.connector("notifications").fetch(None)
    h.peer.clear_faults()
    assert len(drain(h.connector("notifications"))[0]) == 5


def test_listening_search_is_keyword(h: BlueskyHarness) -> None:
    hit = h.post(h.customer(3), "Encore une panne chez Ligne Azur ce matin")
    h.post(h.customer(3), "rien à voir")
    h.post_mentions(2)  # "@ligneazur-sav" is no match for the words "ligne azur"
    items, cursor = drain(h.connector("search:0"))
    assert [(i.external_id, i.kind) for i in items] == [(hit, MessageKind.KEYWORD)]
    later = h.post(h.customer(4), "ligne azur, toujours rien")
    assert [i.external_id for i in drain(h.connector("search:0"), cursor)[0]] == [later]


def test_streams_and_sources(h: BlueskyHarness) -> None:
    sources = {c.source for c in h.inbound_connectors()}
    assert sources == {
        f"bluesky:{BRAND}:notifications",
        f"bluesky:{BRAND}:own",
        f"bluesky:{BRAND}:chat",
        f"bluesky:{BRAND}:search:0",
    }
