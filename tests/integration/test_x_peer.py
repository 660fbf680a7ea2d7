"""The local X API v2 peer itself: every endpoint it serves answers bodies valid against BOTH
OpenAPI specs, it refuses what X refuses, and its search understands the operators we use."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests

from carebird.ingest.base import OutboundReply
from tests.support.x_harness import BRAND, XHarness
from tests.support.x_peer.search import QueryError, compile_query
from tests.support.x_peer.spec import SpecError, specs
from tests.support.x_peer.state import XState

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _get(h: XHarness, path: str, **params: str) -> requests.Response:
    token = h.brand.credentials["access_token"]
    return requests.get(
        f"{h.peer.base_url}{path}",
        params=params,
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.parametrize("spelling", ["tweet", "post"])
def test_every_endpoint_answers_bodies_valid_in_both_specs(spelling: str) -> None:
    with XHarness(spelling=spelling) as h:
        state = h.peer.state
        ids = h.post_mentions(130, customers=7)
        long_text = "@LigneAzur_SAV " + "un très long message avec https://ligneazur.fr/aide " * 9
        state.add_post(h.customer_id(1), long_text, in_reply_to=ids[0], quote_of=ids[1])
        state.add_post(h.customer_id(2), "Ligne Azur &amp; <co> https://ligneazur.fr")
        h.send_private("Bonjour https://ligneazur.fr/compte", customer=3)
        h.post_as_brand("@client000 Nous regardons", in_reply_to=ids[0])
        for connector in h.inbound_connectors():  # mentions, search, DMs, own posts
            result = connector.fetch(None, limit=1000)
            assert result.items, connector.source
        sender = h.sender()
        root = OutboundReply(
            network="x",
            text="Réponse",
            account_handle=BRAND,
            idempotency_key="a",
            in_reply_to_id=ids[0],
        )
        sender.send_with_media(root, [PNG])  # media upload + post create
        dm = OutboundReply(
            network="x",
            text="En privé",
            account_handle=BRAND,
            idempotency_key="b",
            recipient_id=h.customer_id(3),
            private=True,
        )
        sender.send(dm)
        assert sender.find_sent(root) is not None and sender.find_sent(dm) is not None
        sender.lookup_users([h.customer_id(0), h.customer_id(1)])
        assert sender.lookup_user("client000").external_id == h.customer_id(0)
        fields = "tweet.fields" if spelling == "tweet" else "post.fields"
        assert _get(h, "/2/tweets", ids=",".join(ids[:3]), **{fields: "created_at"}).ok
        assert _get(h, "/2/users/me", **{"user.fields": "public_metrics"}).ok
        # error answers are checked too: 400, 401, 404, 429, 503
        assert _get(h, "/2/users/me", bogus="1").status_code == 400
        assert requests.get(f"{h.peer.base_url}/2/users/me", timeout=10).status_code == 401
        assert _get(h, "/2/users/by/username/nobody_here").status_code == 404
        h.fail_next(429, 1, retry_after=5)
        h.fail_next(503, 1)
        assert _get(h, "/2/users/me").status_code == 429
        assert _get(h, "/2/users/me").status_code == 503

        assert h.peer.web.served == set(h.peer.endpoints)
        assert {status for _, status in h.peer.web.statuses} >= {200, 201, 400, 401, 404, 429}
        h.peer.assert_valid()


def test_the_validator_catches_bodies_that_break_a_spec() -> None:
    both = specs()
    good: dict[str, Any] = {
        "data": [{"id": "1900000000000000001", "text": "hi"}],
        "meta": {"result_count": 1},
    }
    for spec in both.values():
        spec.check_response("/2/users/{id}/mentions", "get", 200, good)
    bad_id = {"data": [{"id": "not-a-number", "text": "hi"}]}
    with pytest.raises(SpecError):
        both["tweet"].check_response("/2/users/{id}/mentions", "get", 200, bad_id)
    only_tweet_metrics = {
        "data": [
            {
                "id": "1",
                "text": "t",
                "public_metrics": {
                    "retweet_count": 0,
                    "reply_count": 0,
                    "like_count": 0,
                    "quote_count": 0,
                    "bookmark_count": 0,
                    "impression_count": 0,
                },
            }
        ]
    }
    both["tweet"].check_response("/2/users/{id}/mentions", "get", 200, only_tweet_metrics)
    with pytest.raises(SpecError):  # the post spec requires repost_count
        both["post"].check_response("/2/users/{id}/mentions", "get", 200, only_tweet_metrics)
    with pytest.raises(SpecError):  # the tweet spec wants no empty data array
        both["tweet"].check_response("/2/users/{id}/mentions", "get", 200, {"data": []})


@pytest.mark.parametrize("spelling", ["tweet", "post"])
def test_unknown_names_and_bad_values_are_refused_as_x_does(spelling: str) -> None:
    with XHarness(spelling=spelling) as h:
        user = h.brand_user.id
        other = "post.fields" if spelling == "tweet" else "tweet.fields"
        ours = "tweet.fields" if spelling == "tweet" else "post.fields"
        path = f"/2/users/{user}/mentions"
        refused = _get(h, path, **{other: "created_at"})
        assert refused.status_code == 400 and other in refused.json()["message"]
        assert _get(h, path, **{ours: "created_at,not_a_field"}).status_code == 400
        assert _get(h, path, max_results="101").status_code == 400
        assert _get(h, path, since_id="abc").status_code == 400
        assert _get(h, path, **{ours: "created_at"}, max_results="5").ok
        search = "/2/tweets/search/recent"
        assert _get(h, search, query="Ligne", max_results="5").status_code == 400  # min 10
        assert _get(h, search, query="has:media Ligne").status_code == 400  # unsupported
        assert _get(h, search).status_code == 400  # query is required
        h.peer.assert_valid()


def test_pages_honour_since_until_and_tokens() -> None:
    with XHarness() as h:
        ids = h.post_mentions(30)
        path = f"/2/users/{h.brand_user.id}/mentions"
        page = _get(h, path, max_results="10", since_id=ids[4], until_id=ids[25]).json()
        assert [p["id"] for p in page["data"]] == list(reversed(ids[15:25]))
        assert page["meta"]["newest_id"] == ids[24] and page["meta"]["oldest_id"] == ids[15]
        nxt = _get(
            h,
            path,
            max_results="10",
            since_id=ids[4],
            until_id=ids[25],
            pagination_token=page["meta"]["next_token"],
        ).json()
        assert [p["id"] for p in nxt["data"]] == list(reversed(ids[5:15]))
        assert "next_token" not in nxt["meta"]
        empty = _get(h, path, since_id=ids[-1]).json()
        assert empty == {"meta": {"result_count": 0}}


def test_search_operators() -> None:
    state = XState()
    brand = state.add_user("LigneAzur_SAV")
    ana, bob = state.add_user("ana"), state.add_user("bob")
    root = state.add_post(ana.id, "Ligne Azur en retard, @LigneAzur_SAV ?")
    reply = state.add_post(brand.id, "@ana Ligne Azur s'excuse", in_reply_to=root.id)
    quote = state.add_post(bob.id, "ligne azur, toujours pareil", quote_of=root.id)
    other = state.add_post(bob.id, "Lignes azurées du ciel", lang="en")

    def matching(query: str) -> set[str]:
        match = compile_query(query, state)
        return {p.id for p in state.posts.values() if match(p)}

    assert matching('"Ligne Azur"') == {root.id, reply.id, quote.id}
    assert matching('"Ligne Azur" -from:LigneAzur_SAV -is:quote') == {root.id}
    assert matching("@LigneAzur_SAV") == {root.id}
    assert matching("to:ana") == {reply.id}
    assert matching(f"conversation_id:{root.id}") == {root.id, reply.id}
    assert matching("is:reply OR lang:en") == {reply.id, other.id}
    assert matching("azur -ligne") == set()
    for bad in ('"unclosed', "has:links", "OR azur"):
        with pytest.raises(QueryError):
            compile_query(bad, state)
