"""The connector protocol and the one message shape every network is normalised into.

A connector fetches what arrived after a cursor and sends replies. It never touches the
database: the ingest service stores a batch and its cursor in one transaction, so a crash
between fetch and commit simply re-fetches the same items, which the store deduplicates.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


class MessageKind(enum.StrEnum):
    MENTION = "mention"
    REPLY = "reply"
    DIRECT = "direct"  # a private message
    KEYWORD = "keyword"  # a listening-query match without the @
    QUOTE = "quote"
    OWN_POST = "own_post"  # the brand's own post, not a reply


@dataclass(frozen=True, slots=True)
class AuthorInfo:
    """A network identity as the network reports it."""

    external_id: str
    handle: str
    display_name: str = ""
    followers: int = 0
    verified: bool = False


@dataclass(frozen=True, slots=True)
class InboundItem:
    """One message as any connector delivers it, before storage.

    `direction` is what the connector believes; the store overrides it to OUT when the
    author is one of the desk's own accounts (an echo of our reply).
    """

    network: str
    external_id: str
    author: AuthorInfo
    text: str
    created_at: datetime  # timezone-aware, UTC
    kind: MessageKind = MessageKind.MENTION
    direction: Direction = Direction.IN
    account_handle: str | None = None  # the desk account addressed (in) or speaking (out)
    in_reply_to_id: str | None = None
    conversation_id: str | None = None
    language: str | None = None
    metrics: dict[str, int] = field(default_factory=dict)  # likes, reposts, quotes, replies
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def is_private(self) -> bool:
        return self.kind is MessageKind.DIRECT


@dataclass(frozen=True, slots=True)
class FetchResult:
    items: Sequence[InboundItem]
    cursor: str | None  # the cursor to save once `items` are committed
    more: bool = False  # True when the connector has a backlog beyond this batch


@dataclass(frozen=True, slots=True)
class OutboundReply:
    """What the desk asks a connector to post."""

    network: str
    text: str
    account_handle: str
    idempotency_key: str
    in_reply_to_id: str | None = None  # external id of the message answered
    recipient_id: str | None = None  # author external id, for private messages
    private: bool = False


@dataclass(frozen=True, slots=True)
class SentReceipt:
    external_id: str
    created_at: datetime
    raw: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Connector(Protocol):
    """What every network connector provides (X, Mastodon, Bluesky, simulated, replay)."""

    network: str
    source: str  # stable name of the stream, key of its saved cursor

    def fetch(self, cursor: str | None, *, limit: int = 500) -> FetchResult: ...

    def send(self, reply: OutboundReply) -> SentReceipt: ...
