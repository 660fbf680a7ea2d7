"""What a network connector needs around its API calls: an account, a meter, retries.

A connector never touches the database. It is given an `AccountSpec` (who it speaks for, with
decrypted credentials) and a `CallMeter`, to which it reports every billable call and the
rate-limit headers it sees; the desk's meter turns these into the monthly cost, the cap and the
source's health. Before a billable call the connector asks `meter.allow(op, units)`, which
raises `BudgetExhausted` at the cap, so polling stops cleanly instead of overspending.

Billable operations (`op`), priced by the desk's configuration (zero where a network is free):
    post_read    a post returned by a timeline or search read
    owned_read   a read of the account's own data (its own posts, its private messages)
    user_read    a user profile returned by a lookup
    reply        a public post written (a reply in a thread)
    reply_url    a public post written that contains a URL
    dm_send      a private message sent
    media_upload an uploaded image
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from carebird.errors import BudgetExhausted, RateLimited, TransientNetworkError

log = logging.getLogger(__name__)
T = TypeVar("T")
OPS = ("post_read", "owned_read", "user_read", "reply", "reply_url", "dm_send", "media_upload")


@dataclass(frozen=True)
class AccountSpec:
    """One desk account as a connector sees it: identity, decrypted credentials, options.

    `options` holds network specifics, e.g. ``base_url`` (a local peer in tests), ``listening``
    (search queries for the brand's names without the @), ``char_limit``.
    """

    network: str
    handle: str
    external_id: str | None = None
    credentials: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    # Called with the whole new credential mapping when a network rotates tokens (OAuth refresh),
    # so the desk stores them (encrypted) before the old ones stop working.
    save_credentials: Callable[[dict[str, str]], None] | None = None


@dataclass(frozen=True)
class RateLimit:
    """A rate-limit window as the network's headers report it."""

    limit: int | None
    remaining: int | None
    reset_at: float | None  # unix seconds


class CallMeter(Protocol):
    def allow(self, op: str, units: int = 1) -> None:
        """Raise `BudgetExhausted` if `units` more of `op` would pass the monthly cap."""

    def record(self, op: str, units: int = 1) -> None:
        """Count `units` billable `op`s that the network has served."""

    def affordable(self, *ops: str) -> int | None:
        """How many units (each costing one of every `ops`) the cap still allows; None: no cap."""

    def observe(self, endpoint: str, limit: RateLimit) -> None:
        """Note an endpoint's rate-limit window (headroom shown in the source's health)."""


class CountingMeter:
    """A meter that counts in memory, with an optional price table and cap (tests, benchmarks)."""

    def __init__(
        self, prices: Mapping[str, float] | None = None, *, cap: float | None = None
    ) -> None:
        self.prices = dict(prices or {})
        self.cap = cap
        self.units: Counter[str] = Counter()
        self.calls = 0  # every recorded call, billable or not
        self.limits: dict[str, RateLimit] = {}

    @property
    def cost(self) -> float:
        return sum(self.prices.get(op, 0.0) * n for op, n in self.units.items())

    def allow(self, op: str, units: int = 1) -> None:
        if self.cap is not None and self.cost + self.prices.get(op, 0.0) * units > self.cap:
            raise BudgetExhausted(f"{op}: the cap of {self.cap:.2f} would be passed")

    def affordable(self, *ops: str) -> int | None:
        return affordable_units(self.cap, self.cost, self.prices, ops)

    def record(self, op: str, units: int = 1) -> None:
        self.calls += 1
        if units:
            self.units[op] += units

    def observe(self, endpoint: str, limit: RateLimit) -> None:
        self.limits[endpoint] = limit


NULL_METER = CountingMeter()


def affordable_units(
    cap: float | None, spent: float, prices: Mapping[str, float], ops: tuple[str, ...]
) -> int | None:
    unit = sum(prices.get(op, 0.0) for op in ops)
    if cap is None or unit <= 0:
        return None
    return max(0, int((cap - spent) / unit + 1e-9))


@dataclass
class Backoff:
    """Retry transient failures in place; give a long rate-limit wait back to the poll loop.

    Short waits (a 5xx, a dropped connection, a 429 whose window resets within `max_wait`) are
    slept here with exponential backoff and jitter; a longer 429 is raised as `RateLimited` so
    the loop pauses this source alone and the backlog is drained after the reset.
    """

    attempts: int = 5
    base: float = 0.5
    max_wait: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def run(self, call: Callable[[], T], *, what: str = "call") -> T:
        for attempt in range(1, self.attempts + 1):
            try:
                return call()
            except RateLimited as exc:
                if exc.retry_after > self.max_wait or attempt == self.attempts:
                    raise
                wait = max(exc.retry_after, 0.0)
            except TransientNetworkError:
                if attempt == self.attempts:
                    raise
                wait = min(self.base * 2 ** (attempt - 1), self.max_wait)
                wait *= 0.5 + self.rng.random() / 2
            log.info("%s: attempt %d failed, retrying in %.2fs", what, attempt, wait)
            self.sleep(wait)
        raise AssertionError("unreachable")
