"""How good the expected wait is: a replay of a TWCS file (`carebird eval wait-time`).

The file is read as the importer reads it (carebird.ingest.files.twcs: the brand a customer
addresses, the reply chains) and threaded as the desk threads it there (one case per customer;
our replies join the case of the tweet they answer). Every case whose opening message the
desk's classifier does not call `other` is a support case. At the moment each support case
opens, `estimate_wait` (the live desk's own function) is fed what was known then about the same
brand — its support cases answered before that moment and those still waiting — and its
estimate is compared with the case's actual first response (cases never answered have none and
are not scored).

The baseline is the mean first response of the same brand's support cases answered in the hour
before; it exists only where the brand answered someone in that hour, so its error is reported
beside ours on the same cases. TWCS knows no opening hours and no agents: the replay runs
always open, with the agents unknown (the backlog's term needs them); the `with_backlog_*`
figure replays the backlog's term as if someone were always on.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from carebird.ingest.base import Direction
from carebird.ingest.files.twcs import parse_twcs
from carebird.insights.wait import Answered, WaitInputs, estimate_wait

BASELINE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ReplayCase:
    customer: str
    brand: str | None
    opened_at: datetime
    text: str
    answered_at: datetime | None

    @property
    def first_response_seconds(self) -> float | None:
        if self.answered_at is None:
            return None
        return (self.answered_at - self.opened_at).total_seconds()


def read_cases(path: Path) -> list[ReplayCase]:
    """A TWCS file's cases in opening order: one per customer, with their first answer."""
    parsed = parse_twcs(path)
    items = sorted((item for _, item in parsed.items),
                   key=lambda i: (i.created_at, int(i.external_id)))  # fmt: skip
    owner: dict[str, str] = {}  # tweet -> the customer whose case it is in
    opening: dict[str, Any] = {}
    answered: dict[str, datetime] = {}
    for item in items:
        key: str | None
        if item.direction is Direction.IN:
            key = item.author.handle
            opening.setdefault(key, item)
        else:
            key = owner.get(item.in_reply_to_id or "")
            if key is not None:
                answered.setdefault(key, item.created_at)
        if key is not None:
            owner[item.external_id] = key
    return [
        ReplayCase(key, first.account_handle, first.created_at, first.text, answered.get(key))
        for key, first in opening.items()
    ]


def _inputs(case: ReplayCase, earlier: Sequence[ReplayCase], agents: int | None) -> WaitInputs:
    """What was known of the brand when `case` opened."""
    now = case.opened_at
    answered = [
        Answered(c.answered_at, (c.answered_at - c.opened_at).total_seconds())
        for c in earlier
        if c.answered_at is not None and c.answered_at < now
    ]
    waiting = [c.opened_at for c in earlier if c.answered_at is None or c.answered_at >= now]
    return WaitInputs(now=now, answered=answered, waiting=waiting, agents_available=agents)


def _baseline(case: ReplayCase, earlier: Sequence[ReplayCase]) -> float | None:
    since = case.opened_at - BASELINE_WINDOW
    waits = [
        c.first_response_seconds
        for c in earlier
        if c.answered_at is not None and since <= c.answered_at < case.opened_at
    ]
    return statistics.fmean(w for w in waits if w is not None) if waits else None


def _p90(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _minutes(value: float) -> float:
    return round(value / 60, 1)


def replay(
    cases: Sequence[ReplayCase], categories: Sequence[str], *, agents: int | None = None
) -> dict[str, Any]:
    """The figures: `cases` scored, `mae_minutes`, `p90_abs_error_minutes`,
    `baseline_mae_minutes` (and the cases it exists for, with our error on those)."""
    by_brand: dict[str | None, list[ReplayCase]] = defaultdict(list)
    errors: list[float] = []
    backlog_errors: list[float] = []
    paired: list[tuple[float, float]] = []  # (ours, baseline) where a baseline exists
    support = 0
    for case, category in zip(cases, categories, strict=True):
        if category == "other":
            continue
        support += 1
        earlier = by_brand[case.brand]
        actual = case.first_response_seconds
        if actual is not None:
            guess = estimate_wait(_inputs(case, earlier, agents)).open_seconds
            errors.append(abs(guess - actual))
            with_backlog = estimate_wait(_inputs(case, earlier, 1)).open_seconds
            backlog_errors.append(abs(with_backlog - actual))
            base = _baseline(case, earlier)
            if base is not None:
                paired.append((abs(guess - actual), abs(base - actual)))
        earlier.append(case)
    if not errors:
        return {"cases": 0, "support_cases": support}
    return {
        "cases": len(errors),
        "support_cases": support,
        "unanswered_support_cases": support - len(errors),
        "mae_minutes": _minutes(statistics.fmean(errors)),
        "median_abs_error_minutes": _minutes(statistics.median(errors)),
        "p90_abs_error_minutes": _minutes(_p90(errors)),
        "baseline_cases": len(paired),
        "baseline_mae_minutes": _minutes(statistics.fmean(b for _, b in paired))
        if paired
        else None,
        "mae_minutes_on_baseline_cases": _minutes(statistics.fmean(o for o, _ in paired))
        if paired
        else None,
        "with_backlog_mae_minutes": _minutes(statistics.fmean(backlog_errors)),
    }


def evaluate_file(
    path: Path, classify: Callable[[list[str]], list[str]], *, agents: int | None = None
) -> dict[str, Any]:
    """Replay a TWCS file; `classify` gives each opening text's category (the desk's model)."""
    cases = read_cases(path)
    categories = classify([c.text for c in cases]) if cases else []
    return {"file": path.name, **replay(cases, categories, agents=agents)}
