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
    # The desk's automatic "message bien reçu" (public or private): never counted as an answer.
    ACKNOWLEDGEMENT = "acknowledgement"
    # The desk's satisfaction survey after a resolution (private): not an answer either.
    SURVEY = "survey"


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


# -- optional abilities ------------------------------------------------------------------
# A connector offers some of these besides fetch/send. Callers ask once, with `isinstance`
# on the connector (or `issubclass` on its class: the method-only ones allow it), rather than
# probing attribute names.


@runtime_checkable
class CanReconcile(Protocol):
    """Can search a past window again (X's recent search) and return every message in it,
    so gap reconciliation can store what the timeline lost; the store drops what it holds."""

    def reconcile(self, since: datetime, until: datetime) -> Sequence[InboundItem]: ...


@runtime_checkable
class CanFindSent(Protocol):
    """Can ask the network whether `reply` was already posted (by its idempotency key or
    text), returning its receipt or None, so a retry after a crash never posts twice."""

    def find_sent(self, reply: OutboundReply) -> SentReceipt | None: ...


@runtime_checkable
class SendsIdempotently(Protocol):
    """Deduplicates sends by the reply's idempotency key when `idempotent_send` is true: a
    retry returns the first receipt, so resending is always safe. (Data member: isinstance
    only, not issubclass.)"""

    idempotent_send: bool


@runtime_checkable
class CanSendMedia(Protocol):
    """Can post a reply with images attached (PNG/JPEG bytes), e.g. an answer card."""

    def send_with_media(self, reply: OutboundReply, images: Sequence[bytes]) -> SentReceipt: ...


@runtime_checkable
class HasTextLimit(Protocol):
    """Knows how many characters one post may hold on this network or server (a Mastodon
    instance's max_characters, X's 280 or an account's larger limit, Bluesky's 300)."""

    def text_limit(self) -> int: ...


@runtime_checkable
class CanCheckCredentials(Protocol):
    """Can ask the network who its credentials belong to, raising when they are refused."""

    def check_credentials(self) -> AuthorInfo: ...


@runtime_checkable
class Closable(Protocol):
    """Holds a session or connection to release with `close()` when done."""

    def close(self) -> None: ...


@runtime_checkable
class HasOwnAccounts(Protocol):
    """Knows the brand's own handles (the simulator), so the desk registers them itself and
    recognises their posts as ours."""

    def accounts(self) -> Sequence[tuple[str, str]]:
        """The brand's own handles as (handle, role)."""
        ...

    def brand_author(self, handle: str) -> AuthorInfo: ...
