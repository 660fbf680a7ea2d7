"""How good are the suggestions? Replayed on TWCS: the brands' real answers, in time order.

Every inbound tweet that a brand answered directly (`in_response_to_tweet_id`) is a pair: the
customer's message and the brand's first answer to it. Walking the file in time order, the
composer's own ranking (`suggest.rank`) is asked for the message with, as its history, only
that brand's replies sent before the answer (each beside the message it answered, when that
message is in the file). Pairs whose brand had fewer than `MIN_HISTORY` earlier replies are
skipped. Figures: the token F1 (`suggest.token_f1`) of the top suggestion and the best of the
top three against the answer actually sent, beside two baselines — a random earlier reply (its
expectation: the mean over every earlier reply) and the brand's most frequent earlier reply —
and the oracle (the best earlier reply: an upper bound for any choice among them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import scipy.sparse as sp

from carebird.ingest.base import Direction, InboundItem
from carebird.ingest.files.twcs import parse_twcs
from carebird.reply.suggest import (
    HistoryItem,
    SuggestionIndex,
    answer_key,
    rank,
    token_f1,
    vectorize,
)

MIN_HISTORY = 5
DATASET = Path("twcs-head5k") / "twcs.csv"


@dataclass
class Pair:
    brand: str
    message: InboundItem
    answer: InboundItem


@dataclass
class _Brand:
    items: list[HistoryItem] = field(default_factory=list)
    rows: list[sp.csr_matrix] = field(default_factory=list)
    keys: Counter[str] = field(default_factory=Counter)


def pairs_and_replies(path: Path) -> tuple[list[Pair], list[InboundItem]]:
    """The (message, first brand answer) pairs and every brand reply, each in time order."""
    items = [item for _, item in parse_twcs(path).items]
    by_id = {i.external_id: i for i in items}
    replies = sorted(
        (i for i in items if i.direction is Direction.OUT),
        key=lambda i: (i.created_at, int(i.external_id) if i.external_id.isdecimal() else 0),
    )
    first: dict[str, InboundItem] = {}
    for reply in replies:
        parent = by_id.get(reply.in_reply_to_id or "")
        if parent is not None and parent.direction is Direction.IN:
            first.setdefault(parent.external_id, reply)
    pairs = [Pair(a.author.handle, by_id[m], a) for m, a in first.items()]
    pairs.sort(key=lambda p: (p.answer.created_at, p.answer.external_id))
    return pairs, replies


def evaluate(data: Path) -> dict[str, float | int]:
    pairs, replies = pairs_and_replies(data / DATASET)
    by_id = {p.answer.external_id: p.message.text for p in pairs}
    brands: dict[str, _Brand] = {}
    totals: dict[str, float] = {}
    n = 0
    r = 0
    for pair in pairs:
        # the brand's replies sent before this answer join its history (vectorized once)
        while r < len(replies) and replies[r].created_at < pair.answer.created_at:
            _remember(brands, replies[r], by_id.get(replies[r].external_id, ""))
            r += 1
        known = brands.get(pair.brand)
        if known is None or len(known.items) < MIN_HISTORY:
            continue
        n += 1
        for name, value in _score(known, pair).items():
            totals[name] = totals.get(name, 0.0) + value
    figures: dict[str, float | int] = {"pairs": n}
    for name in ("top1", "top3_best", "baseline_random", "baseline_most_frequent", "oracle"):
        figures[f"{name}_token_f1"] = round(totals.get(name, 0.0) / n, 4) if n else 0.0
    figures["min_history"] = MIN_HISTORY
    return figures


def _remember(brands: dict[str, _Brand], reply: InboundItem, context: str) -> None:
    brand = brands.setdefault(reply.author.handle, _Brand())
    key = "reply:" + answer_key(reply.text)
    brand.items.append(
        HistoryItem(context, reply.text, key, reply.external_id, at=reply.created_at)
    )
    brand.rows.append(vectorize([context]))
    brand.keys[key] += 1


def _score(known: _Brand, pair: Pair) -> dict[str, float]:
    index = SuggestionIndex.build(known.items, history_rows=sp.vstack(known.rows).tocsr())
    ranked = rank(index, pair.message.text, k=3, now=pair.answer.created_at)
    sent = pair.answer.text
    f1s = [token_f1(s.text, sent) for s in ranked] or [0.0]
    every = [token_f1(i.answer, sent) for i in known.items]
    frequent_key = max(known.keys, key=lambda k: (known.keys[k], index.latest[k]))
    frequent = known.items[index.latest[frequent_key]].answer
    return {
        "top1": f1s[0],
        "top3_best": max(f1s),
        "baseline_random": sum(every) / len(every),
        "baseline_most_frequent": token_f1(frequent, sent),
        "oracle": max(every),
    }
