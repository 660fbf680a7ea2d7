"""What scoring needs of a case's messages, kept on the case so scoring never reads them.

Scoring looks at a case's latest `RECENT` messages (by creation time, then id). The case keeps
a compact copy of them (`Case.recent_messages`: one short list per message) and what scoring
derives from them (`SIGNAL_COLUMNS`). The intake merges a batch's new messages into that copy
(`merge`), which keeps it exactly the latest `RECENT` whatever order messages arrive in; any
other change to a case's messages (merge, split, reclassification, refreshed metrics) rebuilds
it from the messages (carebird.cases.scoring.score_cases).

Pure functions: no database access here (the migration that backfilled the columns uses them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from carebird.understand.labels import TRIAGE_RANK

RECENT = 12  # messages per case scoring looks at (repeat contacts count up to 4)
ACK = "acknowledgement"  # the desk's automatic acknowledgement answers nothing
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)

# One entry per message: [created_at in µs since the epoch, id, inbound, acknowledgement,
# category, sentiment, cues, interactions, interactions at arrival]. Exact integers: entries
# sort like the messages' (created_at, id) and give back their times to the microsecond.
Entry = list[Any]

SIGNAL_COLUMNS = (
    "inbound_count",
    "inbound_category",
    "inbound_sentiment",
    "inbound_cues",
    "inbound_interactions",
    "inbound_interactions_at_arrival",
    "waiting_since",
    "recent_messages",
)


def entry(m: Any) -> Entry:
    """A message's entry, from anything with the message's attributes (a row, a
    StoredMessage): id, created_at, direction, kind, category, sentiment, cues,
    interactions, interactions_at_arrival."""
    inbound = m.direction == "in"
    return [
        (m.created_at - _EPOCH) // _MICRO,
        m.id,
        inbound,
        m.kind == ACK,
        m.category if inbound else None,
        m.sentiment if inbound else None,
        sorted(m.cues or ()) if inbound else [],
        (m.interactions or 0) if inbound else 0,
        (m.interactions_at_arrival or 0) if inbound else 0,
    ]


def merge(window: Sequence[Entry] | None, new: Iterable[Entry]) -> list[Entry]:
    """The latest RECENT of `window` and `new` (a message given twice: its new entry)."""
    by_id = {e[1]: e for e in window or ()}
    by_id.update((e[1], e) for e in new)
    return sorted(by_id.values(), key=lambda e: (e[0], e[1]))[-RECENT:]


def at(micros: int) -> datetime:
    return _EPOCH + micros * _MICRO


def summarize(window: list[Entry]) -> dict[str, Any]:
    """The case's signal columns from its latest messages (oldest first), in one pass."""
    count = interactions = at_arrival = 0
    rank = len(TRIAGE_RANK)
    category = sentiment = None
    cues: set[str] = set()
    last_out: int | None = None  # our latest real answer
    pending: int | None = None  # the oldest customer message after it
    for e in window:
        if not e[2]:
            if not e[3]:
                last_out, pending = e[0], None
            continue
        count += 1
        r = TRIAGE_RANK.get(e[4], rank)
        if r < rank:
            rank, category = r, e[4]
        sentiment = e[5]
        cues.update(e[6])
        interactions += e[7]
        at_arrival += e[8]
        if pending is None and (last_out is None or e[0] > last_out):
            pending = e[0]
    # Someone waits only when the customer spoke last (an acknowledgement answers nothing);
    # the case's status decides at scoring time.
    said_last = next((e for e in reversed(window) if not e[3]), None)
    waiting = pending if said_last is not None and said_last[2] else None
    return {
        "inbound_count": count,
        "inbound_category": category,
        "inbound_sentiment": sentiment,
        "inbound_cues": sorted(cues),
        "inbound_interactions": interactions,
        "inbound_interactions_at_arrival": at_arrival,
        "waiting_since": at(waiting) if waiting is not None else None,
        "recent_messages": window,
    }
