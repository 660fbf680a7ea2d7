"""What a reply will cost on a network that bills writes (X), told to the agent before sending."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from carebird.ingest.usage import prices_for

# A URL as X counts it for billing: a scheme, or a bare domain with a known-looking TLD.
_URL = re.compile(r"(?i)\bhttps?://\S+|\b(?:[a-z0-9-]+\.)+(?:com|fr|net|org|io|eu|co|gouv\.fr)\b")


@dataclass(frozen=True)
class CostEstimate:
    network: str
    ops: list[tuple[str, int]]
    cost: float  # dollars

    def as_dict(self) -> dict[str, object]:
        return {"network": self.network, "ops": self.ops, "cost": round(self.cost, 4)}


def reply_ops(text: str, *, private: bool) -> list[tuple[str, int]]:
    """The billable operations of sending `text` (X prices a public post with a URL higher)."""
    if private:
        return [("dm_send", 1)]
    return [("reply_url" if _URL.search(text) else "reply", 1)]


def estimate(
    network: str,
    text: str,
    *,
    private: bool,
    overrides: Mapping[str, Mapping[str, float]] | None = None,
) -> CostEstimate:
    prices = prices_for(network, overrides)
    ops = reply_ops(text, private=private)
    return CostEstimate(network, ops, sum(prices.get(op, 0.0) * n for op, n in ops))
