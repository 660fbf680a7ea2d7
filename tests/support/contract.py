"""What a network's local test peer offers the connector contract suite (tests/contract).

Each network (X, Mastodon, Bluesky) provides a harness that starts its peer on 127.0.0.1 and
implements this protocol; the same contract tests then run against every connector.
"""

from __future__ import annotations

from typing import Any, Protocol

from carebird.ingest.base import Connector
from carebird.ingest.calls import AccountSpec, CallMeter


class PeerHarness(Protocol):
    network: str
    brand: AccountSpec  # the desk's support account on the peer, credentials included

    def inbound_connectors(self, meter: CallMeter | None = None) -> list[Connector]:
        """Fresh connectors for every inbound stream of the brand account (mentions, private
        messages, listening searches…), each with its own `source` name."""

    def sender(self, meter: CallMeter | None = None) -> Connector:
        """A connector of the brand account able to `send` (and `find_sent`)."""

    def post_mentions(self, n: int, *, customers: int = 50, text: str = "") -> list[str]:
        """Create `n` public posts mentioning the brand from `customers` distinct users, directly
        on the peer, oldest first; return their external ids. `text` (if given) is used for
        every post, else each gets a distinct text."""

    def send_private(self, text: str, *, customer: int = 0) -> str:
        """Customer number `customer` sends the brand a private message; return its id."""

    def post_as_brand(self, text: str, *, in_reply_to: str) -> str:
        """The brand answers directly on the network (its phone app, not the desk)."""

    def fail_next(self, status: int, times: int, *, retry_after: float = 0.0) -> None:
        """The next `times` API requests answer `status` (429 carries rate-limit headers with a
        reset `retry_after` seconds ahead; 500/503 an error body)."""

    def replies_to(self, external_id: str) -> list[dict[str, Any]]:
        """Public posts on the peer answering `external_id`: dicts with "id", "text", "author"
        (handle) and "root" (the thread's root id)."""

    def private_messages(self, *, customer: int = 0) -> list[dict[str, Any]]:
        """Messages of the brand ↔ customer private conversation: "id", "text", "author"."""

    def public_texts(self) -> list[str]:
        """The text of every public post on the peer."""

    def customer_id(self, customer: int) -> str:
        """The network's external id of customer number `customer`."""
