"""Posting the desk's answers on Mastodon, at most once.

Public reply: `in_reply_to_id` set, and the visibility of the status answered, never more
public (a customer's unlisted post gets an unlisted answer, a followers-only one a
followers-only answer). It starts with the customer's @mention unless the text already
does: Mastodon notifies (and, for non-public posts, delivers to) only those mentioned.
Private reply: a `direct` status mentioning the customer, threaded under their message only
when that message is itself direct (so no public post gains a visible reply); mentioning
anyone else is refused, as Mastodon would deliver the message to them too. Should a server
ever answer a private send with a non-direct status, the status is deleted at once and the
send fails: private text must not stay public.

At most once: every post carries the outbox's `Idempotency-Key`; Mastodon answers a repeated
key (for an hour) with the status first created, so a retry after a lost response cannot post
twice. For an outcome unknown for longer, `find_sent` looks among the account's latest posts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from carebird.errors import ConnectorError, InvalidInput
from carebird.ingest.base import OutboundReply, SentReceipt
from carebird.ingest.mastodon.items import VISIBILITY_RANK, mentioned_ids, sid, status_text, utc
from carebird.ingest.mastodon.text import count_length

if TYPE_CHECKING:
    from carebird.ingest.mastodon.connector import MastodonConnector

DEFAULT_LIMIT = 500  # Mastodon's default max_characters
INSTANCE_TTL = 3600.0
FIND_PAGES = 3  # find_sent looks at the account's latest 3 x 40 posts
_URL = re.compile(r"https?://\S", re.IGNORECASE)
# Mastodon's mention syntax: everyone mentioned in a direct status receives it.
_MENTION = re.compile(r"(?<![=/\w])@(\w+(?:[.-]+\w+)*(?:@[\w-]+(?:\.[\w-]+)+)?)", re.UNICODE)
_SPACES = re.compile(r"\s+")
Entry = Mapping[str, Any]


def _squash(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def with_mention(text: str, acct: str | None) -> str:
    """`text` starting with @acct (kept as is when it already starts with that mention)."""
    if not acct:
        return text
    first = text.lstrip().split(maxsplit=1)[0].lower() if text.strip() else ""
    if first.rstrip(",:") in {f"@{acct}".lower(), f"@{acct.split('@')[0]}".lower()}:
        return text
    return f"@{acct} {text.lstrip()}"


def receipt(status: Entry) -> SentReceipt:
    return SentReceipt(
        external_id=sid(status["id"]),
        created_at=utc(status["created_at"]),
        raw={"visibility": status.get("visibility"), "url": status.get("url")},
    )


class Sender:
    def __init__(self, connector: MastodonConnector) -> None:
        self.connector = connector
        self.api = connector.api
        self._limit: tuple[float, int] | None = None  # (fetched at, max_characters)

    def send(self, reply: OutboundReply) -> SentReceipt:
        if not reply.text.strip():
            raise InvalidInput("an empty reply")
        parent = self._status(reply.in_reply_to_id) if reply.in_reply_to_id else None
        if reply.private:
            return self._send_private(reply, parent)
        visibility, mention = "public", None
        if parent is not None:
            visibility = str(parent.get("visibility") or "public")
            if sid(parent["account"]["id"]) != self.connector.brand_id():
                mention = str(parent["account"]["acct"])
        if mention is None and reply.recipient_id:
            mention = self._acct(reply.recipient_id)
        text = with_mention(reply.text, mention)
        op = "reply_url" if _URL.search(text) else "reply"
        return self._post(op, text, reply, visibility=visibility, in_reply_to=parent)

    def _send_private(self, reply: OutboundReply, parent: Entry | None) -> SentReceipt:
        recipient = reply.recipient_id or (sid(parent["account"]["id"]) if parent else None)
        if not recipient:
            raise InvalidInput("a private reply needs the customer (recipient_id)")
        if parent is not None and sid(parent["account"]["id"]) == recipient:
            acct = str(parent["account"]["acct"])
        else:
            acct = self._acct(recipient)
        threaded = parent if parent is not None and parent.get("visibility") == "direct" else None
        text = with_mention(reply.text, acct)
        others = {m.lower() for m in _MENTION.findall(text)} - {
            acct.lower(),
            acct.split("@")[0].lower(),
        }
        if others:  # each would receive the message too
            raise InvalidInput(
                f"a private reply may mention only the customer, not {sorted(others)}"
            )
        return self._post("dm_send", text, reply, visibility="direct", in_reply_to=threaded)

    def _post(
        self,
        op: str,
        text: str,
        reply: OutboundReply,
        *,
        visibility: str,
        in_reply_to: Entry | None,
    ) -> SentReceipt:
        limit = self.text_limit()
        if count_length(text) > limit:
            raise InvalidInput(f"{count_length(text)} characters, over this server's {limit}")
        status = self.api.call(
            op,
            "status_post",
            lambda c: c.status_post(
                text,
                in_reply_to_id=sid(in_reply_to["id"]) if in_reply_to is not None else None,
                visibility=visibility,
                idempotency_key=reply.idempotency_key,
            ),
            units=lambda _: 1,
            estimate=1,
        )
        got = str(status.get("visibility") or "")
        if VISIBILITY_RANK.get(got, 3) > VISIBILITY_RANK[visibility]:
            self.api.call("other", "status_delete", lambda c: c.status_delete(status["id"]))
            raise ConnectorError(f"the server made a {visibility} post {got}; deleted it")
        return receipt(status)

    def find_sent(self, reply: OutboundReply) -> SentReceipt | None:
        """Our post with this text in this thread/conversation, among our latest posts."""
        brand = self.connector.brand_id()
        wanted = _squash(reply.text)
        max_id: str | None = None
        for _ in range(FIND_PAGES):
            page = self._own_page(brand, max_id)
            for status in page:
                if self._is_that_reply(status, reply) and _squash(status_text(status)).endswith(
                    wanted
                ):
                    return receipt(status)
            if len(page) < 40:
                return None
            max_id = sid(page[-1]["id"])
        return None

    def _own_page(self, brand: str, max_id: str | None) -> list[Entry]:
        return self.api.call(
            "owned_read",
            "account_statuses",
            lambda c: c.account_statuses(brand, max_id=max_id, limit=40, exclude_reblogs=True),
            units=len,
            estimate=40,
        )

    @staticmethod
    def _is_that_reply(status: Entry, reply: OutboundReply) -> bool:
        private = status.get("visibility") == "direct"
        if private != reply.private:
            return False
        if private and reply.recipient_id:
            return reply.recipient_id in mentioned_ids(status)
        parent = status.get("in_reply_to_id")
        return (sid(parent) if parent is not None else None) == reply.in_reply_to_id

    def text_limit(self) -> int:
        """The instance's max_characters (GET /api/v2/instance), capped by options.char_limit."""
        now = time.monotonic()
        if self._limit is None or now - self._limit[0] > INSTANCE_TTL:
            instance = self.api.call("other", "instance", lambda c: c.instance_v2())
            config = instance.get("configuration") or {}
            statuses = config.get("statuses") or {}
            self._limit = (now, int(statuses.get("max_characters") or DEFAULT_LIMIT))
        option = self.connector.account.options.get("char_limit")
        return min(self._limit[1], int(option)) if option else self._limit[1]

    def _status(self, status_id: str) -> Entry:
        return self.api.call(
            "post_read", "status", lambda c: c.status(status_id), units=lambda _: 1
        )

    def _acct(self, account_id: str) -> str:
        account = self.api.call(
            "user_read", "account", lambda c: c.account(account_id), units=lambda _: 1
        )
        return str(account["acct"])
