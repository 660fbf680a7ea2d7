"""What a month of polling X costs: calls, billable units and dollars for a polling plan.

Traffic comes from the simulator (its hourly and weekly rhythm, incidents, private messages and
listening matches), scaled to the brand's weekly volume; each stream is polled on the plan's
schedule (fast while the desk is open, slow at night). Each poll reads what arrived since the
previous one in pages of `page_size` (an empty poll is one call, billed nothing); the gap
reconciliation search reads its window again. Replies are counted as the desk would send them.
Unit accounting follows the X connector's meter (one `post_read` per post returned, one
`user_read` per expanded author, `owned_read` per private message event); prices come from the
desk's table, so the result tracks a price change.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from carebird.cases.hours import PollingPlan
from carebird.ingest.base import InboundItem, MessageKind
from carebird.ingest.sim.network import SimulatedNetwork
from carebird.ingest.usage import prices_for

SUPPORT = {"complaint", "request", "question", "suggestion", "praise", "followup"}


@dataclass(frozen=True)
class Traffic:
    start: datetime
    end: datetime
    times: dict[str, list[float]]  # stream -> sorted arrival times (seconds after start)
    authors: dict[str, list[str]]  # stream -> author ids in the same order
    support_public: int
    support_private: int


def month_of_traffic(*, weekly: int, days: int = 30, seed: int = 1) -> Traffic:
    """`days` of simulated traffic averaging `weekly` messages a week."""
    probe = SimulatedNetwork(seed=seed, rate_per_hour=100.0)
    week = _take(probe, timedelta(days=7))
    rate = 100.0 * weekly / max(1, len(week))
    sim = SimulatedNetwork(seed=seed, rate_per_hour=rate)
    items = _take(sim, timedelta(days=days))
    # "own": the account's own posts (the desk's replies), read back as owned reads; one per
    # support message, at its time (replies follow within minutes).
    times: dict[str, list[float]] = {"mentions": [], "dm": [], "search": [], "own": []}
    authors: dict[str, list[str]] = {"mentions": [], "dm": [], "search": [], "own": []}
    public = private = 0
    for item in items:
        stream = {MessageKind.DIRECT: "dm", MessageKind.KEYWORD: "search"}.get(
            item.kind, "mentions"
        )
        times[stream].append((item.created_at - sim.start).total_seconds())
        authors[stream].append(item.author.external_id)
        if item.raw.get("sim", {}).get("category") in SUPPORT:
            times["own"].append(times[stream][-1])
            authors["own"].append("brand")
            private += item.kind is MessageKind.DIRECT
            public += item.kind is not MessageKind.DIRECT
    return Traffic(sim.start, sim.start + timedelta(days=days), times, authors, public, private)


def _take(sim: SimulatedNetwork, span: timedelta) -> list[InboundItem]:
    out: list[InboundItem] = []
    cursor: str | None = None
    while True:
        batch = sim.fetch(cursor, limit=5000)
        cursor = batch.cursor
        for item in batch.items:
            if item.created_at - sim.start >= span:
                return out
            out.append(item)


@dataclass
class MonthCost:
    plan: str
    calls: Counter[str] = field(default_factory=Counter)  # per stream / kind of call
    units: Counter[str] = field(default_factory=Counter)  # per billable op
    prices: Mapping[str, float] = field(default_factory=dict)

    @property
    def cost(self) -> float:
        return sum(self.prices.get(op, 0.0) * n for op, n in self.units.items())

    def as_dict(self, cap: float | None) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "calls": sum(self.calls.values()),
            "calls_by_stream": dict(self.calls),
            "units": dict(self.units),
            "cost_by_op": {
                op: round(self.prices.get(op, 0.0) * n, 2) for op, n in sorted(self.units.items())
            },
            "cost": round(self.cost, 2),
            "cap": cap,
            "share_of_cap": round(self.cost / cap, 3) if cap else None,
        }


def cost_of_month(
    traffic: Traffic,
    *,
    plan: PollingPlan,
    name: str,
    reconcile_every: float | None = 3600.0,
    reconcile_window: float = 3600.0,
    page_size: int = 100,
    private_share: float = 0.15,  # public conversations the desk moves to private messages
    url_share: float = 0.10,  # public replies that carry a link
    prices: Mapping[str, float] | None = None,
) -> MonthCost:
    result = MonthCost(name, prices=dict(prices if prices is not None else prices_for("x")))
    span = (traffic.end - traffic.start).total_seconds()
    polls = _schedule(plan, traffic.start, span)
    streams = (
        ("mentions", "post_read"),
        ("search", "post_read"),
        ("dm", "owned_read"),
        ("own", "owned_read"),
    )
    for stream, op in streams:
        times, authors = traffic.times[stream], traffic.authors[stream]
        last = 0
        for t in polls:
            upto = bisect.bisect_right(times, t)
            new = upto - last
            result.calls[stream] += max(1, math.ceil(new / page_size))
            if new:
                result.units[op] += new
                if op == "post_read":  # authors come expanded with posts
                    result.units["user_read"] += len(set(authors[last:upto]))
            last = upto
    if reconcile_every:
        times = traffic.times["mentions"]
        t = reconcile_every
        while t <= span:
            n = bisect.bisect_right(times, t) - bisect.bisect_left(times, t - reconcile_window)
            result.calls["reconcile"] += max(1, math.ceil(n / page_size))
            result.units["post_read"] += n
            t += reconcile_every
    moved = round(traffic.support_public * private_share)
    public = traffic.support_public - moved
    with_url = round(public * url_share)
    result.units["reply"] += public - with_url
    result.units["reply_url"] += with_url
    result.units["dm_send"] += traffic.support_private + moved
    result.calls["send"] += traffic.support_public + traffic.support_private
    return result


def _schedule(plan: PollingPlan, start: datetime, span: float) -> list[float]:
    out, t = [], 0.0
    while t < span:
        t += plan.interval(start + timedelta(seconds=t))
        out.append(t)
    return out
