"""X payloads → InboundItem, in both spellings of the API (tweet: spec 2.159, post: 2.167)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from carebird.ingest.base import MessageKind
from carebird.ingest.x.normalize import Page, dm_item, full_text, post_item

BRAND = "LigneAzur_SAV"
USER = {
    "id": "2001",
    "name": "Camille",
    "username": "camille_r",
    "verified": True,
    "public_metrics": {
        "followers_count": 1234,
        "following_count": 5,
        "tweet_count": 9,
        "listed_count": 0,
    },
}


def _post(spelling: str, **extra: object) -> dict[str, object]:
    metrics = "retweet_count" if spelling == "tweet" else "repost_count"
    post: dict[str, object] = {
        "id": "1900000000000000042",
        "text": "@LigneAzur_SAV mon train est en retard",
        "author_id": "2001",
        "created_at": "2026-01-05T08:15:30.000Z",
        "conversation_id": "1900000000000000040",
        "lang": "fr",
        "public_metrics": {metrics: 3, "reply_count": 1, "like_count": 7, "quote_count": 2},
    }
    post.update(extra)
    return post


def _body(
    spelling: str, post: dict[str, object], included: list[dict[str, object]] = ()
) -> dict[str, object]:
    includes: dict[str, object] = {"users": [USER]}
    if included:
        includes["tweets" if spelling == "tweet" else "posts"] = list(included)
    return {"data": [post], "includes": includes, "meta": {"result_count": 1}}


@pytest.mark.parametrize("spelling", ["tweet", "post"])
def test_a_mention_in_either_spelling(spelling: str) -> None:
    page = Page(_body(spelling, _post(spelling)))
    item = post_item(page.data[0], page, brand=BRAND, stream="mentions")
    assert item.network == "x" and item.external_id == "1900000000000000042"
    assert item.kind is MessageKind.MENTION
    assert item.account_handle == BRAND
    assert item.author.handle == "camille_r" and item.author.display_name == "Camille"
    assert item.author.followers == 1234 and item.author.verified is True
    assert item.created_at == datetime(2026, 1, 5, 8, 15, 30, tzinfo=UTC)
    assert item.conversation_id == "1900000000000000040"
    assert item.in_reply_to_id is None
    assert item.language == "fr"
    assert item.metrics == {"likes": 7, "reposts": 3, "quotes": 2, "replies": 1}
    assert item.raw == {"author_id": "2001", "stream": "mentions"}


@pytest.mark.parametrize(
    ("spelling", "refs", "note"),
    [
        ("tweet", "referenced_tweets", "note_tweet"),
        ("post", "referenced_posts", "note_post"),
    ],
)
def test_replies_quotes_and_long_posts(spelling: str, refs: str, note: str) -> None:
    long_text = "@LigneAzur_SAV " + "très long message " * 30
    reply = _post(
        spelling,
        text=long_text[:270] + "…",
        in_reply_to_user_id="1001",
        **{refs: [{"type": "replied_to", "id": "1900000000000000040"}], note: {"text": long_text}},
    )
    page = Page(_body(spelling, reply))
    item = post_item(page.data[0], page, brand=BRAND, stream="mentions")
    assert item.kind is MessageKind.REPLY
    assert item.in_reply_to_id == "1900000000000000040"
    assert item.text == long_text  # the note, not the truncated text
    assert item.raw["long"] is True and item.raw["in_reply_to_user_id"] == "1001"

    quoted = {
        "id": "1900000000000000001",
        "text": "Ligne Azur &amp; ses retards",
        "author_id": "2002",
    }
    quote = _post(spelling, **{refs: [{"type": "quoted", "id": quoted["id"]}]})
    page = Page(_body(spelling, quote, [quoted]))
    item = post_item(page.data[0], page, brand=BRAND, stream="search")
    assert item.kind is MessageKind.QUOTE
    assert item.raw["quoted"] == {
        "id": "1900000000000000001",
        "text": "Ligne Azur & ses retards",
        "author_id": "2002",
    }


def test_search_results_are_keywords_and_own_posts_are_marked() -> None:
    page = Page(_body("tweet", _post("tweet", text="Ligne Azur encore en grève")))
    assert post_item(page.data[0], page, brand=BRAND, stream="search").kind is MessageKind.KEYWORD
    assert post_item(page.data[0], page, brand=BRAND, stream="own").kind is MessageKind.OWN_POST


def test_text_has_links_expanded_and_escapes_undone() -> None:
    post = {
        "text": "Prix &gt; 20 € &amp; rien https://t.co/abcDEF1234 voir",
        "entities": {
            "urls": [
                {
                    "start": 25,
                    "end": 48,
                    "url": "https://t.co/abcDEF1234",
                    "expanded_url": "https://ligneazur.fr/tarifs",
                }
            ]
        },
    }
    assert full_text(post) == "Prix > 20 € & rien https://ligneazur.fr/tarifs voir"


def test_missing_author_and_undetermined_language() -> None:
    post = _post("tweet", author_id="9999", lang="und")
    page = Page({"data": [post]})
    item = post_item(page.data[0], page, brand=BRAND, stream="mentions")
    assert item.author.external_id == "9999" and item.author.handle == "9999"
    assert item.language is None


@pytest.mark.parametrize("spelling", ["tweet", "post"])
def test_private_messages(spelling: str) -> None:
    event = {
        "id": "1900000000000000077",
        "event_type": "MessageCreate",
        "text": "Mon numéro client est 4411",
        "sender_id": "2001",
        "dm_conversation_id": "1001-2001",
        "created_at": "2026-01-05T09:00:00.000Z",
    }
    page = Page({"data": [event], "includes": {"users": [USER]}, "meta": {"result_count": 1}})
    item = dm_item(page.data[0], page, brand=BRAND)
    assert item.kind is MessageKind.DIRECT and item.is_private
    assert item.conversation_id == "1001-2001"
    assert item.author.handle == "camille_r"
    assert item.text == "Mon numéro client est 4411"
    assert item.in_reply_to_id is None and item.account_handle == BRAND


def test_page_reads_includes_of_both_spellings_and_meta() -> None:
    page = Page(
        {
            "data": [{"id": "1", "text": "a"}],
            "includes": {"tweets": [{"id": "2", "text": "b"}], "posts": [{"id": "3", "text": "c"}]},
            "meta": {"newest_id": "1", "next_token": "abc"},
        }
    )
    assert set(page.posts) == {"2", "3"}
    assert page.newest_id == "1" and page.next_token == "abc"
    assert Page({"meta": {"result_count": 0}}).data == []
