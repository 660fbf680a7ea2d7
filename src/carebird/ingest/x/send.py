"""Sending on X: replies in a thread, private messages, images, and finding what we sent.

X has no idempotency key. `find_sent` therefore looks for our message on X itself: among the
account's latest posts (GET /2/users/:id/tweets) a reply to the same post with the same text,
or in the private conversation (GET /2/dm_conversations/with/:id/dm_events) a message of ours
with the same text. `send` does the same before retrying after an ambiguous failure (a 5xx or a
timeout may have posted); a 429 or a refused connection posted nothing and is simply retried.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from twitter_text import extract_urls, parse_tweet

from carebird.errors import AuthError, InvalidInput, TransientNetworkError
from carebird.ingest.base import OutboundReply, SentReceipt
from carebird.ingest.calls import AccountSpec, Backoff, CallMeter
from carebird.ingest.x.api import XApi
from carebird.ingest.x.normalize import (
    DM_FIELDS,
    NETWORK,
    POST_FIELDS,
    Page,
    parse_time,
    posted_text,
    references,
)

_TCO = re.compile(r"https://t\.co/\w+")
FIND_SENT_PAGES = 2  # how far back find_sent looks: 2 pages of 100 of our latest posts/messages
_MIME = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif"}
Fields = Mapping[str, Mapping[str, str]]


def estimate_cost_ops(reply: OutboundReply, *, images: int = 0) -> list[tuple[str, int]]:
    """The billable operations that sending `reply` (with `images` attached) will cost."""
    if reply.private:
        ops = [("dm_send", 1)]
    else:
        ops = [("reply_url" if extract_urls(reply.text) else "reply", 1)]
    return [*ops, ("media_upload", images)] if images else ops


class XSending:
    """The sending half of XConnector (which provides these attributes and `_read`)."""

    account: AccountSpec
    handle: str
    source: str
    meter: CallMeter
    backoff: Backoff
    api: XApi

    def user_id(self) -> str:
        raise NotImplementedError

    def _read(
        self, endpoint: str, op: str, want: int, call: Callable[[Any], Any], fields: Fields
    ) -> Page:
        raise NotImplementedError

    def text_limit(self) -> int:
        return int(self.account.options.get("char_limit", 280))

    def count_length(self, text: str) -> int:
        """X's weighted length (twitter-text v3: URLs 23, CJK and emoji 2)."""
        return int(parse_tweet(text).weightedLength)

    def estimate_cost_ops(self, reply: OutboundReply, *, images: int = 0) -> list[tuple[str, int]]:
        return estimate_cost_ops(reply, images=images)

    def send(self, reply: OutboundReply) -> SentReceipt:
        return self._send(reply, [])

    def send_with_media(self, reply: OutboundReply, images: Sequence[bytes]) -> SentReceipt:
        """Send `reply` with images attached (up to 4 on a post, 1 in a private message)."""
        if len(images) > (1 if reply.private else 4):
            raise InvalidInput("too many images for one X post or private message")
        self._check(reply)
        category = "dm_image" if reply.private else "tweet_image"
        media = [self.upload_media(data, category=category) for data in images]
        return self._send(reply, media)

    def upload_media(
        self, data: bytes, mime: str | None = None, *, category: str = "tweet_image"
    ) -> str:
        """Upload one image; returns its media id."""
        if (mime or _sniff(data)) not in _MIME.values():
            raise InvalidInput("X takes PNG, JPEG or GIF images")
        self.meter.allow("media_upload", 1)
        body = {"media": base64.b64encode(data).decode("ascii"), "media_category": category}
        # An upload that may have succeeded leaves at worst an unused media id: retry freely.
        result = self.backoff.run(
            lambda: self.api.request("POST /2/media/upload", lambda c: c.media.upload(body)),
            what=f"{self.source} media upload",
        )
        self.meter.record("media_upload", 1)
        return str(result["data"]["id"])

    def _check(self, reply: OutboundReply) -> None:
        if not self.api.user_context:
            raise AuthError("sending on X needs user context (OAuth 2.0 or 1.0a), not app-only")
        if reply.network != NETWORK:
            raise InvalidInput(f"reply for {reply.network!r} given to the X connector")
        if reply.private and not reply.recipient_id:
            raise InvalidInput("an X private message needs recipient_id")

    def _send(self, reply: OutboundReply, media: list[str]) -> SentReceipt:
        self._check(reply)
        ((op, units),) = estimate_cost_ops(reply)
        self.meter.allow(op, units)
        ambiguous = False

        def attempt() -> SentReceipt:
            nonlocal ambiguous
            if ambiguous:  # the last try may have posted: look before posting again
                found = self.find_sent(reply)
                if found is not None:
                    return found
            try:
                return self._post(reply, media)
            except TransientNetworkError:
                ambiguous = True
                raise

        receipt = self.backoff.run(attempt, what=f"{self.source} send")
        self.meter.record(op, units)  # found or posted now: either way it was posted once
        return receipt

    def _post(self, reply: OutboundReply, media: list[str]) -> SentReceipt:
        body: dict[str, Any] = {"text": reply.text}
        if reply.private:
            recipient = str(reply.recipient_id)
            if media:
                body["attachments"] = [{"media_id": m} for m in media]
            result = self.api.request(
                "POST /2/dm_conversations/with/:participant_id/messages",
                lambda c: c.direct_messages.create_by_participant_id(recipient, body),
            )
            data = result["data"]
            raw = {"dm_conversation_id": data.get("dm_conversation_id")}
            return SentReceipt(str(data["dm_event_id"]), datetime.now(UTC), raw)
        if reply.in_reply_to_id:
            body["reply"] = {"in_reply_to_tweet_id": reply.in_reply_to_id}
        if media:
            body["media"] = {"media_ids": media}
        result = self.api.request("POST /2/tweets", lambda c: c.posts.create(body))
        data = result["data"]
        return SentReceipt(str(data["id"]), datetime.now(UTC), {"text": data.get("text")})

    def find_sent(self, reply: OutboundReply) -> SentReceipt | None:
        """Our already-posted `reply`, if X has it: same text, same thread or conversation."""
        self._check(reply)
        uid, want = self.user_id(), _without_links(reply.text, extract_urls(reply.text))
        token: str | None = None
        for _ in range(FIND_SENT_PAGES):
            page, ours = self._recent_own(reply, uid, token)
            for hit in ours:
                if _without_links(posted_text(hit), _TCO.findall(posted_text(hit))) == want:
                    found = {"found": True, "conversation_id": hit.get("conversation_id")}
                    if reply.private:
                        found["conversation_id"] = hit.get("dm_conversation_id")
                    return SentReceipt(str(hit["id"]), parse_time(hit.get("created_at")), found)
            token = page.next_token
            if token is None:
                break
        return None

    def _recent_own(
        self, reply: OutboundReply, uid: str, token: str | None
    ) -> tuple[Page, list[Mapping[str, Any]]]:
        """One page of our recent posts or messages, and those in `reply`'s thread."""
        if reply.private:
            recipient = str(reply.recipient_id)
            page = self._owned_read(
                "GET /2/dm_conversations/with/:participant_id/dm_events",
                lambda c: c.direct_messages.get_events_by_participant_id(
                    recipient,
                    max_results=100,
                    pagination_token=token,
                    event_types=["MessageCreate"],
                ),
                DM_FIELDS,
            )
            return page, [e for e in page.data if str(e.get("sender_id")) == uid]
        page = self._owned_read(
            "GET /2/users/:id/tweets",
            lambda c: c.users.get_posts(uid, max_results=100, pagination_token=token),
            POST_FIELDS,
        )
        return page, [p for p in page.data if _replies_to(p) == reply.in_reply_to_id]

    def _owned_read(self, endpoint: str, call: Callable[[Any], Any], fields: Fields) -> Page:
        return self.backoff.run(
            lambda: self._read(endpoint, "owned_read", 100, call, fields), what=endpoint
        )


def _replies_to(post: Mapping[str, Any]) -> str | None:
    return next((r["id"] for r in references(post) if r["type"] == "replied_to"), None)


def _without_links(text: str, links: Sequence[str]) -> str:
    """Text compared without its links: X rewrites them (t.co, an added scheme)."""
    for link in sorted(links, key=len, reverse=True):
        text = text.replace(link, " ")
    return " ".join(unicodedata.normalize("NFC", text).split())


def _sniff(data: bytes) -> str | None:
    return next((mime for magic, mime in _MIME.items() if data.startswith(magic)), None)
