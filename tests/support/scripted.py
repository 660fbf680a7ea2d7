"""A scripted network for testing the desk's own logic around connectors (polling, outbox).

It is not a peer of any real network — the contract suite (tests/contract) runs the real
connectors against real local peers; this one lets a test decide exactly what fails and when.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from carebird.errors import CarebirdError
from carebird.ingest.base import AuthorInfo, FetchResult, InboundItem, OutboundReply, SentReceipt

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
BRAND = "Brand_SAV"


@dataclass
class ScriptedNetwork:
    network: str = "x"
    source: str = "x:Brand_SAV:mentions"
    posts: list[InboundItem] = field(default_factory=list)
    sent: list[OutboundReply] = field(default_factory=list)
    fetch_errors: deque[CarebirdError] = field(default_factory=deque)
    send_errors: deque[CarebirdError] = field(default_factory=deque)
    crash_after_send: bool = False  # the network takes the post, then our process "dies"
    lookups: int = 0

    def mention(self, n: int, text: str = "help") -> InboundItem:
        item = InboundItem(
            network=self.network,
            external_id=f"p{len(self.posts) + 1}",
            author=AuthorInfo(f"u{n}", f"customer{n}"),
            text=text,
            created_at=T0 + timedelta(minutes=len(self.posts)),
            account_handle=BRAND,
        )
        self.posts.append(item)
        return item

    def fetch(self, cursor: str | None, *, limit: int = 500) -> FetchResult:
        if self.fetch_errors:
            raise self.fetch_errors.popleft()
        start = int(cursor or 0)
        items = self.posts[start : start + limit]
        end = start + len(items)
        return FetchResult(items, str(end), more=end < len(self.posts))

    def send(self, reply: OutboundReply) -> SentReceipt:
        if self.send_errors:
            raise self.send_errors.popleft()
        self.sent.append(reply)
        if self.crash_after_send:
            self.crash_after_send = False
            raise SystemExit("killed after the network accepted the post")
        return self._receipt(len(self.sent))

    def find_sent(self, reply: OutboundReply) -> SentReceipt | None:
        self.lookups += 1
        for n, done in enumerate(self.sent, 1):
            if (done.text, done.in_reply_to_id, done.recipient_id) == (
                reply.text,
                reply.in_reply_to_id,
                reply.recipient_id,
            ):
                return self._receipt(n)
        return None

    def _receipt(self, n: int) -> SentReceipt:
        return SentReceipt(f"out{n}", T0 + timedelta(hours=1, seconds=n))

    def reconcile(self, since: datetime, until: datetime) -> list[InboundItem]:
        return [p for p in self.posts if since <= p.created_at < until]
