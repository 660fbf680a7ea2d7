"""Normalising Mastodon statuses (JSON as a real server sends it) into InboundItems."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from carebird.ingest.base import Direction, MessageKind
from carebird.ingest.mastodon.items import (
    author_of,
    dm_conversation,
    id_key,
    mentions_account,
    to_item,
)
from carebird.ingest.mastodon.send import with_mention


def account(**over: Any) -> dict[str, Any]:
    base = {
        "id": "109348",
        "username": "marie",
        "acct": "marie@piaille.fr",
        "display_name": "Marie L.",
        "bot": False,
        "followers_count": 1532,
        "fields": [
            {
                "name": "Blog",
                "value": '<a href="https://marie.example">marie.example</a>',
                "verified_at": None,
            },
        ],
    }
    return {**base, **over}


def status(**over: Any) -> dict[str, Any]:
    base = {
        "id": "113200000000000042",
        "created_at": "2026-01-05T08:15:30.123Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "visibility": "public",
        "language": "fr",
        "url": "https://piaille.fr/@marie/113200000000000042",
        "spoiler_text": "",
        "content": '<p><span class="h-card"><a href="https://m.s/@LigneAzur_SAV" class="u-url '
        'mention">@<span>LigneAzur_SAV</span></a></span> train en retard</p><p>encore</p>',
        "account": account(),
        "mentions": [{"id": "1", "username": "LigneAzur_SAV", "acct": "LigneAzur_SAV"}],
        "media_attachments": [],
        "favourites_count": 3,
        "reblogs_count": 2,
        "replies_count": 1,
        "quotes_count": 4,
    }
    return {**base, **over}


def test_public_mention_normalised() -> None:
    item = to_item(
        status(), kind=MessageKind.MENTION, account_handle="LigneAzur_SAV", conversation_id="c"
    )
    assert item.network == "mastodon"
    assert item.external_id == "113200000000000042"
    assert item.text == "@LigneAzur_SAV train en retard\n\nencore"
    assert item.created_at == datetime(2026, 1, 5, 8, 15, 30, 123000, tzinfo=UTC)
    assert item.created_at.utcoffset() is not None
    assert item.author.external_id == "109348"
    assert item.author.handle == "marie@piaille.fr"
    assert item.author.display_name == "Marie L."
    assert item.author.followers == 1532
    assert item.author.verified is False
    assert item.metrics == {"likes": 3, "reposts": 2, "quotes": 4, "replies": 1}
    assert item.language == "fr"
    assert item.direction is Direction.IN
    assert item.account_handle == "LigneAzur_SAV"
    assert item.in_reply_to_id is None
    assert item.raw["visibility"] == "public"
    assert item.raw["mentions"] == ["LigneAzur_SAV"]
    assert "account" not in item.raw and "content" not in item.raw  # small, not the payload


def test_verified_link_field_counts_as_verified() -> None:
    fields = [{"name": "Site", "value": "x", "verified_at": "2025-03-01T00:00:00.000+00:00"}]
    assert author_of(account(fields=fields)).verified is True
    assert author_of(account(fields=[])).verified is False


def test_reply_content_warning_media_and_local_timezone() -> None:
    local = datetime.fromisoformat("2026-01-05T10:15:30+02:00")
    media = [{"type": "image", "url": "https://x/1.png", "description": "ticket"}]
    item = to_item(
        status(
            in_reply_to_id=113200000000000001,  # Mastodon.py may hand ids over as ints
            in_reply_to_account_id="7",
            spoiler_text="remboursement",
            created_at=local,
            media_attachments=media,
        ),
        kind=MessageKind.REPLY,
        account_handle="LigneAzur_SAV",
        conversation_id="113200000000000001",
    )
    assert item.in_reply_to_id == "113200000000000001"
    assert item.text.startswith("remboursement\n\n@LigneAzur_SAV train")
    assert item.created_at == datetime(2026, 1, 5, 8, 15, 30, tzinfo=UTC)
    assert item.raw["media"] == media
    assert item.raw["in_reply_to_account_id"] == "7"


def test_long_text_is_kept_whole() -> None:
    words = " ".join(f"mot{i}" for i in range(2000))
    item = to_item(
        status(content=f"<p>{words}</p>"),
        kind=MessageKind.MENTION,
        account_handle="LigneAzur_SAV",
        conversation_id=None,
    )
    assert item.text == words


def test_direct_conversation_is_the_participants_but_us() -> None:
    dm_in = status(visibility="direct")
    dm_out = status(
        account=account(id="1", acct="LigneAzur_SAV"),
        mentions=[{"id": "109348", "acct": "marie@piaille.fr"}],
        visibility="direct",
    )
    assert dm_conversation(dm_in, "1") == dm_conversation(dm_out, "1") == "dm:109348"
    group = status(mentions=[{"id": "1", "acct": "x"}, {"id": "99", "acct": "y"}])
    assert dm_conversation(group, "1") == "dm:99+109348"


def test_ids_sort_numerically() -> None:
    assert sorted(["1000", "999", "10"], key=id_key) == ["10", "999", "1000"]


def test_mentions_account_by_id_or_acct() -> None:
    assert mentions_account(status(), "1", "nobody")
    assert mentions_account(status(), None, "ligneazur_sav")
    assert not mentions_account(status(), "2", "someone")


def test_with_mention() -> None:
    assert with_mention("Bonjour", "marie@piaille.fr") == "@marie@piaille.fr Bonjour"
    assert with_mention("@marie@piaille.fr Bonjour", "marie@piaille.fr") == (
        "@marie@piaille.fr Bonjour"
    )
    assert with_mention("@Marie, bonjour", "marie") == "@Marie, bonjour"
    assert with_mention("Bonjour @marie", "marie") == "@marie Bonjour @marie"
    assert with_mention("Bonjour", None) == "Bonjour"
