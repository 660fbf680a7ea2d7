"""How well bursts are grouped into incidents, against known truth.

Two sources: the simulator (its messages carry the incident they report, `sim.incident`) and
real tweets about Free (`free-mobile-tweets-fr`) with hand labels (tests/data/
incident_labels.csv: every tweet of the labelled days, with the outage it belongs to or none).
The detector is the desk's own (carebird.cases.bursts), fed as intake feeds it: customers'
messages only (not the brand's), those the fast tier reads as a complaint, question or request
for help, in time order, the whole file as history.

Figures: message-level precision (of the messages put in an incident, the share that belong to
a true one) and recall (of the true incidents' messages, the share put in one), and pairwise
precision / recall (pairs of messages grouped together vs truly together).
"""

from __future__ import annotations

import csv
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

from carebird.cases.bursts import Detector, Post, Settings
from carebird.cases.incident_watch import CATEGORIES
from carebird.ingest.base import InboundItem
from carebird.ingest.sim.network import SimulatedNetwork
from carebird.understand.service import Understander

FREE_FILE = "free-mobile-tweets-fr/free_tweet_export.csv"
BRAND_AUTHORS = frozenset({"freebox", "free", "free_1337", "freemobile", "universfreebox"})


def _pairs(groups: Mapping[Hashable, Hashable | None]) -> set[tuple[Hashable, Hashable]]:
    by: dict[Hashable, list[Hashable]] = {}
    for key, group in groups.items():
        if group is not None:
            by.setdefault(group, []).append(key)
    return {
        tuple(sorted((a, b), key=str))  # type: ignore[misc]
        for members in by.values()
        for a, b in combinations(members, 2)
    }


def score(
    predicted: Mapping[Hashable, Hashable | None], truth: Mapping[Hashable, Hashable | None]
) -> dict[str, Any]:
    """Precision and recall of `predicted` groups over the keys of `truth`."""
    keys = list(truth)
    pred = {k: predicted.get(k) for k in keys}
    flagged = [k for k in keys if pred[k] is not None]
    true = [k for k in keys if truth[k] is not None]
    hit = [k for k in flagged if truth[k] is not None]
    p_pairs, t_pairs = _pairs(pred), _pairs(truth)

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 3) if b else None

    return {
        "messages": len(keys),
        "true_incident_messages": len(true),
        "true_incidents": len({truth[k] for k in true}),
        "detected_incidents": len({pred[k] for k in flagged}),
        "grouped_messages": len(flagged),
        "precision": ratio(len(hit), len(flagged)),
        "recall": ratio(len(hit), len(true)),
        "pair_precision": ratio(len(p_pairs & t_pairs), len(p_pairs)),
        "pair_recall": ratio(len(p_pairs & t_pairs), len(t_pairs)),
    }


def detect(posts: Iterable[Post], settings: Settings | None = None) -> dict[Hashable, Hashable]:
    """Each post's burst (by the burst's first message), for posts put in one."""
    detector = Detector(settings)
    found: dict[Hashable, Hashable] = {}
    for post in sorted(posts, key=lambda p: (p.at, str(p.key))):
        decision = detector.feed(post)
        if decision is None:
            continue
        for p in [*decision.joined, decision.post]:
            found[p.key] = decision.burst.key
    return found


def _support(understander: Understander, texts: list[str]) -> list[bool]:
    return [c.category in CATEGORIES for c in understander.analyse(texts)]


def free_mobile(data: Path, labels: Path, understander: Understander) -> dict[str, Any]:
    """The hand-labelled days of the Free tweets: precision and recall of the grouping."""
    with (data / FREE_FILE).open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["author"].lower() not in BRAND_AUTHORS]
    keep = _support(understander, [r["text"] for r in rows])
    posts = [
        Post(r["tweet_id"], r["author"], datetime.fromisoformat(r["date"]), r["text"])
        for r, k in zip(rows, keep, strict=True)
        if k
    ]
    with labels.open(encoding="utf-8", newline="") as f:
        labelled = list(csv.DictReader(f))
    customers = {r["tweet_id"] for r in rows}
    truth = {r["tweet_id"]: r["incident"] or None for r in labelled if r["tweet_id"] in customers}
    out = score(detect(posts), truth)
    out["days"] = sorted({r["day"] for r in labelled})
    return out


def simulated(
    understander: Understander, *, seed: int = 7, messages: int = 20_000
) -> dict[str, Any]:
    """The simulator's incidents (their truth in each message) over `messages` messages."""
    sim = SimulatedNetwork(seed=seed, limit_total=messages)
    items: list[InboundItem] = []
    cursor: str | None = None
    while True:
        batch = sim.fetch(cursor, limit=5000)
        items += batch.items
        cursor = batch.cursor
        if not batch.more or not batch.items:
            break
    keep = _support(understander, [i.text for i in items])
    posts: list[Post] = []
    truth: dict[str, Any] = {}
    for item, k in zip(items, keep, strict=True):
        if not k:
            continue
        posts.append(Post(item.external_id, item.author.external_id, item.created_at, item.text))
        sim_info = (item.raw or {}).get("sim") or {}
        truth[item.external_id] = sim_info.get("incident")
    # Scored after the warm-up (before it, no ordinary rate is known: nothing is detected).
    start = posts[0].at + Settings().warmup if posts else None
    scored = {p.key: truth[str(p.key)] for p in posts if start is None or p.at >= start}
    out = score(detect(posts), scored)
    out["seed"], out["simulated_messages"] = seed, len(items)
    return out


def evaluate(data: Path, labels: Path, *, seed: int = 7, messages: int = 20_000) -> dict[str, Any]:
    understander = Understander()
    return {
        "settings": {
            k: (v.total_seconds() / 60 if isinstance(v, timedelta) else v)  # minutes
            for k, v in asdict(Settings()).items()
        },
        "simulator": simulated(understander, seed=seed, messages=messages),
        "free_mobile": free_mobile(data, labels, understander),
    }
