"""The Bluesky connector: one inbound stream per instance, and sending for the brand account.

Streams (`streams(account)`): "notifications", "own", "chat", and "search:<n>" for the n-th query
of ``account.options["listening"]``; each stream's cursor is described where it is read
(passes.py for the public listings, chat.py for private messages).

Sending at most once
    Public: the reply is created with com.atproto.repo.createRecord under a record key derived
    from the idempotency key (records.tid_for_key). A PDS refuses a second record at the same
    key, so a retry after a lost answer gets "already exists", which becomes a getRecord of the
    record we made; `find_sent` is that same getRecord. Root and parent strong refs come from
    getPostThread: the parent is the post answered, the root its thread's root.
    Private: chat sendMessage has no idempotency key, so before each retry of one send, and in
    `find_sent`, the conversation's recent messages are searched for ours with the same text.
    (An identical text sent earlier to the same person would be taken for this one.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from atproto_client import Client

from carebird.errors import ConnectorError, InvalidInput
from carebird.ingest.base import AuthorInfo, FetchResult, OutboundReply, SentReceipt
from carebird.ingest.bluesky.chat import ChatStream
from carebird.ingest.bluesky.graphemes import grapheme_count
from carebird.ingest.bluesky.normalize import NETWORK, get, when
from carebird.ingest.bluesky.records import POST, AtUri, build_facets, has_link, tid_for_key
from carebird.ingest.bluesky.session import BlueskySession, XrpcFailure
from carebird.ingest.bluesky.streams import PostStream
from carebird.ingest.calls import NULL_METER, AccountSpec, Backoff, CallMeter

log = logging.getLogger(__name__)
POST_LIMIT = 300  # graphemes, app.bsky.feed.post#text
POST_BYTES = 3000  # ... and UTF-8 bytes (300 family emoji would pass the first, not this)
MESSAGE_LIMIT = 1000  # graphemes, chat.bsky.convo.defs#messageInput
_FIND_DEPTH = 2  # pages of 100 chat messages searched by find_sent


class BlueskyConnector:
    network: ClassVar[str] = NETWORK

    def __init__(
        self,
        account: AccountSpec,
        stream: str,
        *,
        meter: CallMeter | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        if stream not in self.streams(account):
            raise ValueError(f"unknown Bluesky stream {stream!r} for {account.handle}")
        self.account, self.stream = account, stream
        self.session = BlueskySession(account, meter or NULL_METER, backoff or Backoff())
        self.handle = self.session.handle
        self.source = f"{NETWORK}:{self.handle}:{stream}"
        if stream == "chat":
            self._reader: PostStream | ChatStream = ChatStream(self.session)
        elif stream.startswith("search:"):
            query = account.options["listening"][int(stream.split(":", 1)[1])]
            self._reader = PostStream(self.session, stream, query=query)
        else:
            self._reader = PostStream(self.session, stream)
        self._dids: dict[str, str | None] = {}

    @classmethod
    def streams(cls, account: AccountSpec) -> list[str]:
        listening = account.options.get("listening") or []
        return ["notifications", "own", "chat", *(f"search:{i}" for i in range(len(listening)))]

    def close(self) -> None:
        self.session.close()

    def check_credentials(self) -> AuthorInfo:
        """Who the server says this session is (logging in first, then getSession); raises
        `AuthError` when the app password is refused."""
        out = self.session.call("getSession", lambda c: c.com.atproto.server.get_session())
        return AuthorInfo(external_id=str(out.did), handle=str(out.handle))

    # -- reading --------------------------------------------------------------------------

    def fetch(self, cursor: str | None, *, limit: int = 500) -> FetchResult:
        if limit <= 0:
            raise ValueError("limit must be positive")
        return self._reader.fetch(cursor, limit)

    # -- length ---------------------------------------------------------------------------

    def text_limit(self) -> int:
        return POST_LIMIT

    def count_length(self, text: str) -> int:
        return grapheme_count(text)

    # -- sending --------------------------------------------------------------------------

    def send(self, reply: OutboundReply) -> SentReceipt:
        if reply.network != NETWORK:
            raise ValueError(f"reply for network {reply.network!r} sent to Bluesky")
        return self._send_private(reply) if reply.private else self._send_public(reply)

    def find_sent(self, reply: OutboundReply) -> SentReceipt | None:
        if reply.private:
            convo_id = self._convo_with(self._recipient(reply))
            return self._find_message(convo_id, reply.text)
        return self._own_post(tid_for_key(reply.idempotency_key))

    def _send_public(self, reply: OutboundReply) -> SentReceipt:
        if grapheme_count(reply.text) > POST_LIMIT or len(reply.text.encode()) > POST_BYTES:
            raise InvalidInput(f"a Bluesky post holds {POST_LIMIT} graphemes, {POST_BYTES} bytes")
        record: dict[str, Any] = {
            "$type": POST,
            "text": reply.text,
            "createdAt": _now_iso(),
        }
        facets = build_facets(reply.text, self._resolve)
        if facets:
            record["facets"] = facets
        if reply.in_reply_to_id:
            record["reply"] = self._reply_refs(reply.in_reply_to_id)
        rkey = tid_for_key(reply.idempotency_key)
        data = {"repo": self.session.did, "collection": POST, "rkey": rkey, "record": record}
        op = "reply_url" if has_link(facets) else "reply"
        self.session.meter.allow(op, 1)
        try:
            out = self.session.call(
                "createRecord", lambda c: c.com.atproto.repo.create_record(data)
            )
        except XrpcFailure as exc:
            if not _already_exists(exc):
                raise
            existing = self._own_post(rkey)
            if existing is None:
                raise
            log.info("bluesky %s: reply %s already posted", self.handle, existing.external_id)
            return existing
        self.session.meter.record(op, 1)
        root = record.get("reply", {}).get("root", {}).get("uri", out.uri)
        raw = {"uri": out.uri, "cid": out.cid, "rkey": rkey, "root": root}
        return SentReceipt(out.uri, when(record["createdAt"]) or datetime.now(UTC), raw)

    def _reply_refs(self, uri: str) -> dict[str, Any]:
        """{root, parent} strong refs for an answer to `uri`: the root is its thread's root."""
        params = {"uri": uri, "depth": 0, "parentHeight": 0}
        out = self.session.call("getPostThread", lambda c: c.app.bsky.feed.get_post_thread(params))
        post = get(out.thread, "post")
        if post is None:
            raise ConnectorError(f"bluesky: cannot answer {uri}: not found or blocked")
        self.session.meter.record("post_read", 1)
        parent = {"uri": post.uri, "cid": post.cid}
        root = get(get(post.record, "reply"), "root")
        return {"root": {"uri": root.uri, "cid": root.cid} if root else parent, "parent": parent}

    def _own_post(self, rkey: str) -> SentReceipt | None:
        params = {"repo": self.session.did, "collection": POST, "rkey": rkey}
        try:
            out = self.session.call("getRecord", lambda c: c.com.atproto.repo.get_record(params))
        except XrpcFailure as exc:
            if exc.error == "RecordNotFound" or exc.status == 404:
                return None
            raise
        self.session.meter.record("owned_read", 1)
        stamp = get(out.value, "created_at") or get(out.value, "createdAt")
        created = when(stamp) or datetime.now(UTC)
        reply = get(out.value, "reply")
        root = get(get(reply, "root"), "uri") or out.uri
        raw = {"uri": out.uri, "cid": out.cid, "rkey": rkey, "root": root}
        return SentReceipt(out.uri, created, raw)

    def _send_private(self, reply: OutboundReply) -> SentReceipt:
        if grapheme_count(reply.text) > MESSAGE_LIMIT:
            raise InvalidInput(f"a Bluesky chat message holds {MESSAGE_LIMIT} graphemes")
        convo_id = self._convo_with(self._recipient(reply))
        message: dict[str, Any] = {"text": reply.text}
        facets = build_facets(reply.text, self._resolve)
        if facets:
            message["facets"] = facets
        data = {"convoId": convo_id, "message": message}
        tries = 0

        def attempt(client: Any) -> Any:
            nonlocal tries
            tries += 1
            if tries > 1:  # the last attempt may have been delivered before it failed
                found = self._find_message(convo_id, reply.text)
                if found is not None:
                    return found
            return client.chat.bsky.convo.send_message(data)

        self.session.meter.allow("dm_send", 1)
        out = self.session.call("sendMessage", attempt, chat=True)
        self.session.meter.record("dm_send", 1)  # sent once, whichever attempt saw it land
        if isinstance(out, SentReceipt):
            return out
        sent = when(out.sent_at) or datetime.now(UTC)
        return SentReceipt(out.id, sent, {"convo_id": convo_id, "rev": out.rev})

    def _recipient(self, reply: OutboundReply) -> str:
        if reply.recipient_id:
            return reply.recipient_id
        if reply.in_reply_to_id and reply.in_reply_to_id.startswith("at://"):
            return AtUri.parse(reply.in_reply_to_id).repo  # the author of the post answered
        raise ValueError("a private Bluesky message needs recipient_id (a DID)")

    def _convo_with(self, did: str) -> str:
        params = {"members": [did]}
        out = self.session.call(
            "getConvoForMembers",
            lambda c: c.chat.bsky.convo.get_convo_for_members(params),
            chat=True,
        )
        return str(out.convo.id)

    def _find_message(self, convo_id: str, text: str) -> SentReceipt | None:
        own, cursor = self.session.did, None
        for _ in range(_FIND_DEPTH):
            params: dict[str, Any] = {"convoId": convo_id, "limit": 100}
            if cursor:
                params["cursor"] = cursor
            out = self.session.call("getMessages", _messages(params), chat=True)
            self.session.meter.record("owned_read", len(out.messages))
            for m in out.messages:
                if get(get(m, "sender"), "did") == own and get(m, "text") == text:
                    sent = when(m.sent_at) or datetime.now(UTC)
                    return SentReceipt(m.id, sent, {"convo_id": convo_id, "rev": m.rev})
            cursor = out.cursor
            if not cursor:
                break
        return None

    def _resolve(self, handle: str) -> str | None:
        if handle not in self._dids:
            try:
                out = self.session.call(
                    "resolveHandle",
                    lambda c: c.com.atproto.identity.resolve_handle({"handle": handle}),
                )
                self._dids[handle] = out.did
            except XrpcFailure:  # no such handle: the @text stays plain text
                self._dids[handle] = None
        return self._dids[handle]


def _messages(params: dict[str, Any]) -> Callable[[Client], Any]:
    return lambda c: c.chat.bsky.convo.get_messages(params)


def _already_exists(exc: XrpcFailure) -> bool:
    text = f"{exc.error} {exc.message}".lower()
    return exc.status in (400, 409) and ("already exist" in text or "alreadyexists" in text)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
