"""The kept signals' pure parts: `summarize` says what the former per-message scoring said, and
`merge` keeps exactly the latest RECENT messages whatever order they arrive in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from carebird.cases.signals import ACK, RECENT, at, entry, merge, summarize
from carebird.understand.labels import TRIAGE_RANK

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

message = st.builds(
    SimpleNamespace,
    created_at=st.integers(0, 40).map(lambda m: T0 + timedelta(minutes=m)),
    direction=st.sampled_from(["in", "in", "out"]),
    kind=st.sampled_from(["mention", "reply", ACK, "direct"]),
    category=st.sampled_from([None, "other", *TRIAGE_RANK]),
    sentiment=st.sampled_from([None, "negative", "neutral", "positive"]),
    cues=st.lists(st.sampled_from(["outage", "urgent", "duration", "churn"]), max_size=2),
    interactions=st.integers(0, 50),
    interactions_at_arrival=st.integers(0, 50),
)


def messages(draw_list: list[SimpleNamespace]) -> list[SimpleNamespace]:
    for i, m in enumerate(draw_list, start=1):
        m.id = i
    return draw_list


def oracle(window: list[Any]) -> dict[str, Any]:
    """What carebird.cases.scoring derived from the latest messages before they were kept."""
    inbound = [m for m in window if m.direction == "in"]
    categories = [m.category for m in inbound if m.category in TRIAGE_RANK]
    said = [m for m in window if m.kind != ACK]
    since = None
    if said and said[-1].direction == "in":
        last_out = max((m.created_at for m in said if m.direction == "out"), default=None)
        pending = [m.created_at for m in inbound if last_out is None or m.created_at > last_out]
        since = min(pending) if pending else None
    cues: set[str] = set()
    for m in inbound:
        cues.update(m.cues)
    return {
        "inbound_count": len(inbound),
        "inbound_category": min(categories, key=TRIAGE_RANK.__getitem__) if categories else None,
        "inbound_sentiment": inbound[-1].sentiment if inbound else None,
        "inbound_cues": sorted(cues),
        "inbound_interactions": sum(m.interactions for m in inbound),
        "inbound_interactions_at_arrival": sum(m.interactions_at_arrival for m in inbound),
        "waiting_since": since,
    }


def latest(ms: list[SimpleNamespace]) -> list[SimpleNamespace]:
    return sorted(ms, key=lambda m: (m.created_at, m.id))[-RECENT:]


@given(st.lists(message, max_size=RECENT).map(messages))
def test_summarize_says_what_scoring_said(ms: list[SimpleNamespace]) -> None:
    window = latest(ms)
    kept = summarize([entry(m) for m in window])
    assert {k: v for k, v in kept.items() if k != "recent_messages"} == oracle(window)


@given(st.lists(message, max_size=40).map(messages), st.data())
def test_batches_in_any_order_keep_the_latest(ms: list[SimpleNamespace], data: Any) -> None:
    order = data.draw(st.permutations(ms))
    window: list[Any] | None = None
    pos = 0
    while pos < len(order):
        n = data.draw(st.integers(1, 8))
        window = merge(window, [entry(m) for m in order[pos : pos + n]])
        pos += n
    assert (window or []) == [entry(m) for m in latest(ms)]
    assert all(at(e[0]) == m.created_at for e, m in zip(window or [], latest(ms), strict=True))
