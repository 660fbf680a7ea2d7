"""Bluesky posts and chat messages → `InboundItem`.

Posts: external_id is the post's at:// URI, in_reply_to_id the parent's URI, conversation_id the
thread root's URI (the post's own URI when it starts a thread). created_at is the earlier of the
client's `createdAt` and the server's `indexedAt`, as the AppView sorts, so a post dated in the
future by a wrong phone clock cannot jump an SLA queue. Chat messages: external_id is the message
id and conversation_id the conversation id, kind DIRECT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from carebird.ingest.base import AuthorInfo, Direction, InboundItem, MessageKind
from carebird.ingest.bluesky.passes import parse_time

NETWORK = "bluesky"
REASON_KINDS = {
    "mention": MessageKind.MENTION,
    "reply": MessageKind.REPLY,
    "quote": MessageKind.QUOTE,
}


def get(obj: Any, name: str, default: Any = None) -> Any:
    """A field of an SDK model or of a plain dict (records of unknown types stay dicts)."""
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parse_time(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def is_verified(profile: Any) -> bool:
    state = get(profile, "verification")
    return bool(
        get(state, "verified_status") == "valid" or get(state, "trusted_verifier_status") == "valid"
    )


def author_info(basic: Any, detailed: Any | None) -> AuthorInfo:
    """From a post's or message's author view, completed by the getProfiles view if any."""
    source = detailed if detailed is not None else basic
    return AuthorInfo(
        external_id=get(basic, "did"),
        handle=get(source, "handle") or get(basic, "handle") or get(basic, "did"),
        display_name=get(source, "display_name") or get(basic, "display_name") or "",
        followers=int(get(detailed, "followers_count") or 0),
        verified=is_verified(source),
    )


@dataclass(frozen=True, slots=True)
class PostFacts:
    """What an item needs of a post, whichever listing it came from."""

    uri: str
    cid: str
    author: Any  # a profile view (basic or not)
    record: Any  # the app.bsky.feed.post record
    indexed_at: str
    counts: Mapping[str, int]

    @classmethod
    def of_view(cls, view: Any) -> PostFacts:
        counts = {
            "likes": get(view, "like_count") or 0,
            "reposts": get(view, "repost_count") or 0,
            "quotes": get(view, "quote_count") or 0,
            "replies": get(view, "reply_count") or 0,
        }
        return cls(view.uri, view.cid, view.author, view.record, view.indexed_at, counts)


def post_item(
    post: PostFacts,
    kind: MessageKind,
    *,
    account_handle: str,
    profile: Any | None,
    reason: str | None = None,
    direction: Direction = Direction.IN,
) -> InboundItem:
    record = post.record
    reply = get(record, "reply")
    parent = get(get(reply, "parent"), "uri")
    root = get(get(reply, "root"), "uri")
    indexed = when(post.indexed_at) or datetime.now(UTC)
    created = when(get(record, "created_at") or get(record, "createdAt"))
    langs = get(record, "langs") or []
    raw: dict[str, Any] = {"uri": post.uri, "cid": post.cid, "indexed_at": post.indexed_at}
    if reason:
        raw["reason"] = reason
    if reply is not None:
        raw["root_cid"] = get(get(reply, "root"), "cid")
        raw["parent_cid"] = get(get(reply, "parent"), "cid")
    return InboundItem(
        network=NETWORK,
        external_id=post.uri,
        author=author_info(post.author, profile),
        text=get(record, "text") or "",
        created_at=min(created, indexed) if created else indexed,
        kind=kind,
        direction=direction,
        account_handle=account_handle,
        in_reply_to_id=parent,
        conversation_id=root or post.uri,
        language=langs[0] if langs else None,
        metrics=dict(post.counts),
        raw=raw,
    )


def message_item(
    message: Any, convo_id: str, *, account_handle: str, own_did: str, profile: Any | None
) -> InboundItem:
    sender = get(message, "sender")
    did = get(sender, "did")
    reply_to = get(message, "reply_to")
    basic = profile if profile is not None else {"did": did, "handle": did}
    return InboundItem(
        network=NETWORK,
        external_id=message.id,
        author=author_info(basic, profile),
        text=get(message, "text") or "",
        created_at=when(get(message, "sent_at")) or datetime.now(UTC),
        kind=MessageKind.DIRECT,
        direction=Direction.OUT if did == own_did else Direction.IN,
        account_handle=account_handle,
        in_reply_to_id=get(reply_to, "id"),
        conversation_id=convo_id,
        raw={"convo_id": convo_id, "rev": get(message, "rev")},
    )
