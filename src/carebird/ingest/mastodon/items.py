"""Mastodon statuses (as Mastodon.py returns them) normalised into `InboundItem`s.

Mastodon has no verified badge: an account counts as verified when one of its profile fields
carries `verified_at` (a link back to the account that its server checked, e.g. the brand's
own website). Private conversations have no stable id on a status (the conversations API
numbers a conversation by its latest status on some servers), so a private message's
conversation is the set of its participants other than the desk account, as Mastodon itself
groups conversations: "dm:<id>[+<id>…]", the same for the customer's messages and ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from carebird.ingest.base import AuthorInfo, Direction, InboundItem, MessageKind
from carebird.ingest.mastodon.text import html_to_text

NETWORK = "mastodon"
# How public a status is; a reply is never more public than what it answers.
VISIBILITY_RANK = {"direct": 0, "private": 1, "unlisted": 2, "public": 3}


def sid(value: Any) -> str:
    """An id as a string (Mastodon.py turns some ids into ints)."""
    return str(value["id"] if isinstance(value, Mapping) else value)


def id_key(value: str) -> tuple[int, str]:
    """Sort key of Mastodon ids: numeric strings compare by length, then digits."""
    return (len(value), value)


def utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        raise ValueError(f"not a timestamp: {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def author_of(account: Mapping[str, Any]) -> AuthorInfo:
    fields = account.get("fields") or []
    return AuthorInfo(
        external_id=sid(account["id"]),
        handle=str(account.get("acct") or account.get("username") or ""),
        display_name=str(account.get("display_name") or account.get("username") or ""),
        followers=int(account.get("followers_count") or 0),
        verified=any(f.get("verified_at") for f in fields if isinstance(f, Mapping)),
    )


def status_text(status: Mapping[str, Any]) -> str:
    """The full text a reader sees: the content warning (if any), then the content."""
    text = html_to_text(str(status.get("content") or ""))
    spoiler = str(status.get("spoiler_text") or "").strip()
    return f"{spoiler}\n\n{text}".strip() if spoiler else text


def mentioned_ids(status: Mapping[str, Any]) -> list[str]:
    return [sid(m["id"]) for m in status.get("mentions") or []]


def mentions_account(status: Mapping[str, Any], account_id: str | None, acct: str) -> bool:
    acct = acct.lstrip("@").lower()
    for m in status.get("mentions") or []:
        if (account_id and sid(m["id"]) == account_id) or str(m.get("acct", "")).lower() == acct:
            return True
    return False


def dm_conversation(status: Mapping[str, Any], desk_account_id: str | None) -> str:
    people = {sid(status["account"]["id"]), *mentioned_ids(status)}
    people.discard(desk_account_id or "")
    return "dm:" + "+".join(sorted(people, key=id_key))


def metrics_of(status: Mapping[str, Any]) -> dict[str, int]:
    return {
        "likes": int(status.get("favourites_count") or 0),
        "reposts": int(status.get("reblogs_count") or 0),
        "quotes": int(status.get("quotes_count") or 0),
        "replies": int(status.get("replies_count") or 0),
    }


def _raw(status: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    account = status["account"]
    raw: dict[str, Any] = {
        "visibility": status.get("visibility"),
        "url": status.get("url") or status.get("uri"),
        "mentions": [str(m.get("acct")) for m in status.get("mentions") or []],
    }
    if status.get("in_reply_to_account_id") is not None:
        raw["in_reply_to_account_id"] = sid(status["in_reply_to_account_id"])
    if account.get("bot"):
        raw["bot"] = True
    if status.get("spoiler_text"):
        raw["spoiler_text"] = status["spoiler_text"]
    if status.get("edited_at"):
        raw["edited_at"] = utc(status["edited_at"]).isoformat()
    media = [
        {"type": m.get("type"), "url": m.get("url"), "description": m.get("description")}
        for m in status.get("media_attachments") or []
    ]
    if media:
        raw["media"] = media
    quote = status.get("quote")
    if isinstance(quote, Mapping) and isinstance(quote.get("quoted_status"), Mapping):
        raw["quoted_id"] = sid(quote["quoted_status"]["id"])
    raw.update(extra)
    return raw


def to_item(
    status: Mapping[str, Any],
    *,
    kind: MessageKind,
    account_handle: str,
    conversation_id: str | None,
    direction: Direction = Direction.IN,
    extra: Mapping[str, Any] | None = None,
) -> InboundItem:
    reply_to = status.get("in_reply_to_id")
    return InboundItem(
        network=NETWORK,
        external_id=sid(status["id"]),
        author=author_of(status["account"]),
        text=status_text(status),
        created_at=utc(status["created_at"]),
        kind=kind,
        direction=direction,
        account_handle=account_handle,
        in_reply_to_id=sid(reply_to) if reply_to is not None else None,
        conversation_id=conversation_id,
        language=status.get("language") or None,
        metrics=metrics_of(status),
        raw=_raw(status, extra or {}),
    )
