"""Small statistics the figures share: median, percentiles (linear between closest ranks, as
numpy's default), shares."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)


def p90(values: Sequence[float]) -> float | None:
    return percentile(values, 90)


def share(part: int, whole: int) -> float | None:
    """part / whole; None when there is nothing to share."""
    return part / whole if whole else None
