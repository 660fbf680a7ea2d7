"""The Mastodon connector, through Mastodon.py, one instance per inbound stream.

Streams (source "mastodon:<handle>:<stream>")
    mentions   GET /api/v1/notifications?types[]=mention&types[]=quote, public, unlisted and
               followers-only statuses: MENTION, REPLY (in_reply_to_id set) or QUOTE.
    direct     the same notifications, direct statuses only: DIRECT. Why not the
               conversations API: it lists each conversation with its *latest* status only,
               so two messages between polls would lose the first (and some servers number
               a conversation by that latest status, so its id is not stable). Every direct
               status addressed to the desk account mentions it (that is how it is
               delivered), so it raises exactly one mention notification: paging those by
               id gives every private message exactly once. The price: this stream pages
               through the public mentions too (notifications cannot be filtered by
               visibility), which doubles notification reads; Mastodon charges nothing.
    own        GET /api/v1/accounts/:id/statuses, the desk account's own posts (answers
               from the phone app, our own private messages), direction OUT: notifications
               never include one's own posts, and the store needs them to see a case
               answered outside the desk. Reblogs are left out.
    search:<n> GET /api/v2/search?type=statuses for options["listening"][n]: public posts
               naming the brand without mentioning it (KEYWORD). Posts that mention the
               desk account are the mentions stream's, and are skipped here.

Cursors: JSON, exact after every status; see mastodon_read.py.

Threads: conversation_id is the root of the reply chain, from an in-memory map of roots
already seen and else one GET /api/v1/statuses/:id/context (its first ancestor).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from carebird.errors import InvalidInput
from carebird.ingest.base import (
    AuthorInfo,
    Direction,
    FetchResult,
    InboundItem,
    MessageKind,
    OutboundReply,
    SentReceipt,
)
from carebird.ingest.calls import NULL_METER, AccountSpec, Backoff, CallMeter
from carebird.ingest.mastodon.api import USER_AGENT, MastodonApi
from carebird.ingest.mastodon.items import (
    NETWORK,
    dm_conversation,
    mentions_account,
    sid,
    to_item,
)
from carebird.ingest.mastodon.read import Entry, ReadUp, read_down, read_up
from carebird.ingest.mastodon.send import Sender
from carebird.ingest.mastodon.text import count_length

MENTION_TYPES = ["mention", "quote"]
PUBLIC_ENOUGH = {"public", "unlisted"}  # what a listening search may pick up
_MAX_ROOTS = 100_000


def base_url_of(account: AccountSpec) -> str:
    url = account.options.get("base_url") or account.options.get("api_base_url")
    if url:
        return str(url)
    _, _, domain = account.handle.lstrip("@").partition("@")
    if not domain:
        raise InvalidInput(f"mastodon account {account.handle!r}: options.base_url is needed")
    return f"https://{domain}"


class MastodonConnector:
    network = NETWORK

    def __init__(
        self,
        account: AccountSpec,
        stream: str,
        *,
        meter: CallMeter | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        if stream not in self.streams(account):
            raise InvalidInput(f"mastodon: unknown stream {stream!r} for {account.handle}")
        self.account, self.stream = account, stream
        self.handle = account.handle.lstrip("@")
        self.source = f"{NETWORK}:{self.handle}:{stream}"
        self.api = MastodonApi(
            base_url=base_url_of(account),
            access_token=account.credentials.get("access_token"),
            meter=meter or NULL_METER,
            backoff=backoff or Backoff(),
            timeout=float(account.options.get("timeout", 30.0)),
            user_agent=f"{USER_AGENT} stream={stream}",
        )
        self._brand_id = account.external_id
        self._roots: dict[str, str] = {}  # status id -> root of its thread
        self._sender = Sender(self)

    @classmethod
    def streams(cls, account: AccountSpec) -> list[str]:
        listening = account.options.get("listening") or []
        searches = [f"search:{i}" for i, q in enumerate(listening) if str(q).strip()]
        if account.options.get("search") is False:  # a server without full-text search
            searches = []
        return ["mentions", "direct", "own", *searches]

    def resolve_account(self) -> AccountSpec:
        """Fill the account's id from its access token (verify_credentials)."""
        me = self.api.call("other", "verify_credentials", lambda c: c.account_verify_credentials())
        self._brand_id = sid(me["id"])
        self.account = replace(self.account, external_id=self._brand_id)
        return self.account

    def check_credentials(self) -> AuthorInfo:
        """Who the server says the access token is (verify_credentials); raises
        `ConnectorError` when it refuses the token."""
        me = self.api.call("other", "verify_credentials", lambda c: c.account_verify_credentials())
        return AuthorInfo(
            external_id=sid(me["id"]),
            handle=str(me.get("acct") or me.get("username") or ""),
            display_name=str(me.get("display_name") or ""),
            followers=int(me.get("followers_count") or 0),
        )

    def brand_id(self) -> str:
        if self._brand_id is None:
            self.resolve_account()
        assert self._brand_id is not None
        return self._brand_id

    # -- reading ----------------------------------------------------------------------------

    def fetch(self, cursor: str | None, *, limit: int = 500) -> FetchResult:
        if limit <= 0:
            raise ValueError("limit must be positive")
        if self.stream in ("mentions", "direct"):
            if self.stream == "direct":
                self.brand_id()  # needed for the conversation key
            op = "post_read" if self.stream == "mentions" else "owned_read"
            read = self._read_notifications(op)
            return read_up(cursor, limit, read, self._mention, source=self.source)
        if self.stream == "own":
            return read_up(cursor, limit, self._read_own(), self._own, source=self.source)
        return self._search(cursor, limit)

    def _read_notifications(self, op: str) -> ReadUp:
        def read(after: str | None, want: int) -> list[Entry]:
            return self.api.call(
                op,
                "notifications",
                lambda c: c.notifications(types=MENTION_TYPES, min_id=after or "0", limit=want),
                units=len,
                estimate=want,
            )

        return read

    def _read_own(self) -> ReadUp:
        brand = self.brand_id()

        def read(after: str | None, want: int) -> list[Entry]:
            return self.api.call(
                "owned_read",
                "account_statuses",
                lambda c: c.account_statuses(
                    brand, min_id=after or "0", limit=want, exclude_reblogs=True
                ),
                units=len,
                estimate=want,
            )

        return read

    def _mention(self, notification: Entry) -> InboundItem | None:
        status = notification.get("status")
        if not status:
            return None
        private = status.get("visibility") == "direct"
        if private != (self.stream == "direct"):
            return None  # the other stream's
        extra = {"notification_id": sid(notification["id"])}
        if private:
            conversation = dm_conversation(status, self._brand_id)
            return self._item(status, MessageKind.DIRECT, conversation, extra=extra)
        if notification.get("type") == "quote":
            kind = MessageKind.QUOTE
        else:
            kind = MessageKind.REPLY if status.get("in_reply_to_id") else MessageKind.MENTION
        return self._item(status, kind, self._root(status), extra=extra)

    def _own(self, status: Entry) -> InboundItem | None:
        if status.get("reblog"):
            return None
        if status.get("visibility") == "direct":
            kind, conversation = MessageKind.DIRECT, dm_conversation(status, self._brand_id)
        else:
            reply = bool(status.get("in_reply_to_id"))
            kind = MessageKind.REPLY if reply else MessageKind.OWN_POST
            conversation = self._root(status)
        return self._item(status, kind, conversation, direction=Direction.OUT)

    def _item(
        self,
        status: Entry,
        kind: MessageKind,
        conversation: str,
        *,
        direction: Direction = Direction.IN,
        extra: Mapping[str, Any] | None = None,
    ) -> InboundItem:
        return to_item(
            status,
            kind=kind,
            account_handle=self.handle,
            conversation_id=conversation,
            direction=direction,
            extra=extra,
        )

    def _root(self, status: Entry) -> str:
        """The id of the first post of the status's reply chain."""
        own, parent = sid(status["id"]), status.get("in_reply_to_id")
        if parent is None:
            root = own
        elif (known := self._roots.get(sid(parent))) is not None:
            root = known
        else:
            context = self.api.call(
                "post_read",
                "status_context",
                lambda c: c.status_context(own),
                units=lambda r: len(r["ancestors"]) + len(r["descendants"]),
            )
            ancestors = context["ancestors"]
            root = sid(ancestors[0]["id"]) if ancestors else sid(parent)
            for ancestor in ancestors:
                self._roots[sid(ancestor["id"])] = root
        if len(self._roots) >= _MAX_ROOTS:
            self._roots.clear()
        self._roots[own] = root
        return root

    def _search(self, cursor: str | None, limit: int) -> FetchResult:
        query = str(self.account.options["listening"][int(self.stream.split(":", 1)[1])])

        def read(after: str | None, below: str | None, want: int) -> list[Entry]:
            return self._search_page(query, after, below, want)

        return read_down(cursor, limit, read, lambda s: self._keyword(s, query), source=self.source)

    def _search_page(
        self, query: str, after: str | None, below: str | None, want: int
    ) -> list[Entry]:
        return self.api.call(
            "post_read",
            "search",
            lambda c: c.search_v2(
                query, resolve=False, result_type="statuses", min_id=after, max_id=below, limit=want
            )["statuses"],
            units=len,
            estimate=want,
        )

    def _keyword(self, status: Entry, query: str) -> InboundItem | None:
        if status.get("reblog") or status.get("visibility") not in PUBLIC_ENOUGH:
            return None
        if mentions_account(status, self._brand_id, self.handle.split("@")[0]):
            return None  # the mentions stream delivers it
        return self._item(status, MessageKind.KEYWORD, self._root(status), extra={"query": query})

    # -- writing ----------------------------------------------------------------------------

    def send(self, reply: OutboundReply) -> SentReceipt:
        return self._sender.send(reply)

    def find_sent(self, reply: OutboundReply) -> SentReceipt | None:
        return self._sender.find_sent(reply)

    def text_limit(self) -> int:
        return self._sender.text_limit()

    def count_length(self, text: str) -> int:
        return count_length(text)
