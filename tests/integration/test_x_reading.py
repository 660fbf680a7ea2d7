"""The X connector reading from the local X API v2 peer over HTTP, in both API spellings."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from carebird.errors import AuthError, RateLimited, TransientNetworkError
from carebird.ingest.base import MessageKind
from carebird.ingest.calls import AccountSpec, Backoff, CountingMeter
from carebird.ingest.x.connector import XConnector
from carebird.ingest.x.paging import PassCursor
from tests.support.x_harness import BRAND, XHarness

MENTIONS = "GET /2/users/{id}/mentions"


@pytest.fixture(params=["tweet", "post"])
def harness(request: pytest.FixtureRequest) -> Iterator[XHarness]:
    with XHarness(spelling=request.param) as h:
        yield h


def _drain(
    connector: XConnector, cursor: str | None = None, limit: int = 500
) -> tuple[list[str], str | None]:
    ids: list[str] = []
    while True:
        result = connector.fetch(cursor, limit=limit)
        ids += [i.external_id for i in result.items]
        cursor = result.cursor
        if not result.more:
            return ids, cursor


def _mention_queries(h: XHarness) -> list[dict[str, str]]:
    return [q for key, _, q in h.peer.web.requests if key == MENTIONS]


def test_every_stream_normalised(harness: XHarness) -> None:
    h, state = harness, harness.peer.state
    first = h.post_mentions(1, text="Bonjour, mon train de 8h12 est supprimé ?")[0]
    brand_reply = h.post_as_brand("@client000 Nous regardons, désolés.", in_reply_to=first)
    answer = state.add_post(
        h.customer_id(0), "@LigneAzur_SAV merci, j'attends", in_reply_to=brand_reply
    ).id
    long_text = "@LigneAzur_SAV " + "toujours pas de remboursement après trois semaines " * 8
    long_post = state.add_post(h.customer_id(1), long_text).id
    quote = state.add_post(h.customer_id(2), "Ligne Azur fait encore mieux", quote_of=first).id
    state.add_post(h.brand_user.id, "Ligne Azur : trafic normal ce matin")  # -from: excludes
    dm = h.send_private("Voici mon numéro de dossier : 4411", customer=3)

    meter = CountingMeter()
    got = {c.source: c.fetch(None).items for c in h.inbound_connectors(meter)}
    assert set(got) == {f"x:{BRAND}:{s}" for s in ("mentions", "search:0", "dm", "own")}
    mentions = {i.external_id: i for i in got[f"x:{BRAND}:mentions"]}
    assert set(mentions) == {first, answer, long_post}
    assert mentions[first].kind is MessageKind.MENTION
    assert mentions[answer].kind is MessageKind.REPLY
    assert mentions[answer].in_reply_to_id == brand_reply
    assert mentions[answer].conversation_id == first  # the thread's root
    assert mentions[long_post].text == long_text  # the note's full text
    assert mentions[first].author.handle == "client000"

    search = got[f"x:{BRAND}:search:0"]
    assert [(i.external_id, i.kind) for i in search] == [(quote, MessageKind.QUOTE)]
    assert search[0].raw["quoted"]["id"] == first  # from includes.tweets or includes.posts

    (private,) = got[f"x:{BRAND}:dm"]
    assert private.external_id == dm and private.kind is MessageKind.DIRECT
    assert private.conversation_id == f"{h.brand_user.id}-{h.customer_id(3)}"
    assert private.author.external_id == h.customer_id(3)

    own = {i.external_id: i for i in got[f"x:{BRAND}:own"]}
    assert own[brand_reply].kind is MessageKind.REPLY
    assert own[brand_reply].author.handle == BRAND  # the store marks it ours by author
    assert meter.units["post_read"] == 4 and meter.units["owned_read"] == 3


def test_polling_rules_on_the_wire(harness: XHarness) -> None:
    h = harness
    ids = h.post_mentions(250)
    connector = h.connector()
    seen, cursor = _drain(connector, limit=1000)
    assert sorted(seen) == sorted(ids) and len(seen) == 250
    queries = _mention_queries(h)
    assert len(queries) == 3 and all("since_id" not in q for q in queries)
    assert [("pagination_token" in q) for q in queries] == [False, True, True]
    assert PassCursor.loads(cursor).since == ids[-1]  # the first page's newest_id

    newer = h.post_mentions(130)
    h.peer.web.requests.clear()
    seen, cursor = _drain(connector, cursor, limit=1000)
    assert sorted(seen) == sorted(newer)
    assert [q["since_id"] for q in _mention_queries(h)] == [ids[-1], ids[-1]]
    assert PassCursor.loads(cursor).since == newer[-1]
    assert connector.fetch(cursor).items == []


def test_peer_refuses_a_since_id_moved_mid_pass(harness: XHarness) -> None:
    h = harness
    h.post_mentions(150)
    connector = h.connector()
    first = connector.fetch(None, limit=100)
    state = PassCursor.loads(first.cursor)
    moved = PassCursor(since="1900000000000000001", next=state.next, newest=state.newest)
    with pytest.raises(Exception, match="400"):
        connector.fetch(moved.dumps())


def test_a_429_storm_cuts_the_pass_and_the_next_fetch_resumes(harness: XHarness) -> None:
    h = harness
    ids = h.post_mentions(300)
    connector = h.connector()
    first = connector.fetch(None, limit=1000)
    assert len(first.items) == 300 and not first.more

    newer = h.post_mentions(300)
    seen: list[str] = []
    result = connector.fetch(first.cursor, limit=100)
    seen += [i.external_id for i in result.items]
    h.fail_next(429, 3, retry_after=600)  # a long storm: more than Backoff waits for
    with pytest.raises(RateLimited) as storm:
        connector.fetch(result.cursor, limit=100)
    assert storm.value.retry_after > 500
    h.peer.web.faults.clear()
    rest, _ = _drain(connector, result.cursor)
    seen += rest
    assert sorted(seen) == sorted(newer) and len(seen) == 300  # nothing skipped or repeated
    assert ids[-1] < newer[0]


def test_a_storm_mid_fetch_returns_the_pages_in_hand(harness: XHarness) -> None:
    h = harness
    ids = h.post_mentions(250)
    connector = h.connector()
    connector.resolve_account()
    original = connector.api.request
    calls = 0

    def storm_after_first_page(*args: object, **kwargs: object) -> dict[str, object]:
        nonlocal calls
        calls += 1
        if calls == 2:
            h.fail_next(429, 5, retry_after=600)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    connector.api.request = storm_after_first_page  # type: ignore[method-assign]
    cut = connector.fetch(None, limit=1000)
    assert len(cut.items) == 100 and cut.more
    h.peer.web.faults.clear()
    rest, _ = _drain(connector, cut.cursor, limit=1000)
    assert sorted([i.external_id for i in cut.items] + rest) == sorted(ids)


def test_short_429s_and_5xx_are_retried_and_headers_observed(harness: XHarness) -> None:
    h = harness
    ids = h.post_mentions(120)
    meter = CountingMeter()
    connector = h.connector(meter=meter)
    h.fail_next(429, 2, retry_after=1)
    h.fail_next(503, 1)
    h.fail_next(500, 1)
    seen, _ = _drain(connector)
    assert sorted(seen) == sorted(ids)
    assert len(h.sleeps) == 4
    assert all(0 < s <= 2.0 for s in h.sleeps[:2])  # until x-rate-limit-reset, ~1 s ahead
    window = meter.limits["GET /2/users/:id/mentions"]
    assert window.limit == 450 and window.remaining is not None and window.remaining < 450
    assert window.reset_at is not None and window.reset_at > time.time()


def test_an_exhausted_window_is_waited_for_then_reading_continues() -> None:
    with XHarness(window=1.0, limits={MENTIONS: 2}) as h:
        ids = h.post_mentions(300)
        slept: list[float] = []

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            time.sleep(seconds)

        connector = XConnector(h.brand, "mentions", backoff=Backoff(sleep=sleep, max_wait=5))
        seen, _ = _drain(connector, limit=1000)
        assert sorted(seen) == sorted(ids)
        assert slept and all(0 < s <= 2.0 for s in slept)
        assert any(q[0] == MENTIONS for q in h.peer.web.requests)


def test_reconcile_finds_mentions_the_timeline_missed(harness: XHarness) -> None:
    h, state = harness, harness.peer.state
    now = datetime.now(UTC)
    old = state.add_post(
        h.customer_id(0), "@LigneAzur_SAV hier soir rien", created_at=now - timedelta(days=2)
    ).id
    inside = [
        state.add_post(
            h.customer_id(i),
            f"@LigneAzur_SAV panne n°{i}",
            created_at=now - timedelta(hours=3, minutes=i),
        ).id
        for i in range(12)
    ]
    state.add_post(h.customer_id(1), "sans mention", created_at=now - timedelta(hours=3))
    meter = CountingMeter()
    found = h.connector(meter=meter).reconcile(now - timedelta(hours=6), now)
    assert sorted(i.external_id for i in found) == sorted(inside)
    assert old not in {i.external_id for i in found}
    assert meter.units["post_read"] == 12


def test_account_resolution_and_user_lookups(harness: XHarness) -> None:
    h = harness
    h.customer(9)  # customers 0…9 exist on the peer
    meter = CountingMeter()
    unresolved = dataclasses.replace(h.brand, external_id=None)
    connector = XConnector(unresolved, "mentions", meter=meter, backoff=h.backoff())
    resolved = connector.resolve_account()
    assert resolved.external_id == h.brand_user.id == connector.user_id()
    customer = connector.lookup_user("client009")
    assert customer.external_id == h.customer_id(9) and customer.verified
    assert customer.followers == 90
    users = connector.lookup_users([h.customer_id(1), h.customer_id(2)])
    assert [u.handle for u in users] == ["client001", "client002"]
    assert meter.units["user_read"] == 1 + 1 + 2


def test_slow_answers_and_refused_connections_are_retried() -> None:
    with XHarness() as h:
        ids = h.post_mentions(5)
        h.brand = dataclasses.replace(h.brand, options={**h.brand.options, "timeout": 0.3})
        connector = h.connector()
        connector.resolve_account()
        h.peer.delay_next(1.0)  # longer than our timeout: given up, then asked again
        assert sorted(i.external_id for i in connector.fetch(None).items) == sorted(ids)
        assert len(h.sleeps) == 1

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    nowhere = AccountSpec(
        network="x",
        handle=BRAND,
        external_id="1001",
        credentials={"bearer_token": "b"},
        options={"base_url": f"http://127.0.0.1:{port}"},
    )
    sleeps: list[float] = []
    with pytest.raises(TransientNetworkError):
        XConnector(nowhere, backoff=Backoff(sleep=sleeps.append)).fetch(None)
    assert len(sleeps) == 4  # five attempts


def test_an_app_only_token_cannot_read_private_messages() -> None:
    with XHarness(credentials="bearer") as h, pytest.raises(AuthError):
        h.connector("dm").fetch(None)
