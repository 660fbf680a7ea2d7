"""Drilling down: the cases behind a figure (a slice of the period's cases, a group's value, an
hour of the week, a day), and the per-case table (`--table cases`, /api/metrics/cases.csv)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from carebird.errors import InvalidInput
from carebird.insights.casefacts import CaseFacts
from carebird.insights.export import case_identity, iso
from carebird.insights.figures import DAY, GROUPS, HOUR
from carebird.insights.query import MetricsQuery


def _silent(f: CaseFacts) -> bool:
    return f.support and not f.answered


def _fast(limit: float) -> Callable[[CaseFacts], bool]:
    def test(f: CaseFacts) -> bool:
        s = f.first_response_seconds
        return f.support and s is not None and s <= limit

    return test


def _slow(limit: float) -> Callable[[CaseFacts], bool]:
    def test(f: CaseFacts) -> bool:
        s = f.first_response_seconds
        return f.support and (s is None or s > limit)

    return test


def _between(low: float, high: float) -> Callable[[CaseFacts], bool]:
    def test(f: CaseFacts) -> bool:
        s = f.first_response_seconds
        return f.support and s is not None and low < s <= high

    return test


# The first-response distribution: (slice, above, up to) in seconds.
BUCKETS = (
    ("first_15m", -1.0, 900.0),
    ("first_1h", 900.0, HOUR),
    ("first_4h", HOUR, 4 * HOUR),
    ("first_24h", 4 * HOUR, DAY),
    ("first_later", DAY, float("inf")),
)
SLICES: dict[str, Callable[[CaseFacts], bool]] = {
    **{name: _between(low, high) for name, low, high in BUCKETS},
    "all": lambda f: True,
    "support": lambda f: f.support,
    "answered": lambda f: f.support and f.answered,
    "silent": _silent,
    "contact_only": lambda f: _silent(f) and f.first_contact_at is not None,
    "no_contact": lambda f: f.support and f.first_contact_at is None,
    "within_1h": _fast(HOUR),
    "over_1h": _slow(HOUR),
    "within_24h": _fast(DAY),
    "over_24h": _slow(DAY),
    "resolved": lambda f: f.support and f.resolution_seconds is not None,
    "reopened": lambda f: f.support and f.reopened,
}


def drill(
    facts: Sequence[CaseFacts],
    query: MetricsQuery,
    *,
    slice_: str = "all",
    group: str | None = None,
    value: str | None = None,
    weekday: int | None = None,
    hour: int | None = None,
    day: str | None = None,
) -> list[CaseFacts]:
    """The cases behind one figure: `slice_` (SLICES), a group's `value` (`group` one of the
    by_* tables), a local weekday and hour, a local day (YYYY-MM-DD)."""
    test = SLICES.get(slice_)
    if test is None:
        raise InvalidInput(f"slice: one of {', '.join(SLICES)}")
    picked = [f for f in facts if test(f)]
    if group is not None:
        if group not in GROUPS:
            raise InvalidInput(f"group: one of {', '.join(GROUPS)}")
        key = GROUPS[group][1]
        picked = [f for f in picked if key(f) == (value or "")]
    if weekday is not None or hour is not None:
        picked = [
            f
            for f in picked
            if (local := f.times.created_at.astimezone(query.tz))
            and (weekday is None or local.weekday() == weekday)
            and (hour is None or local.hour == hour)
        ]
    if day is not None:
        picked = [
            f for f in picked if f.times.created_at.astimezone(query.tz).date().isoformat() == day
        ]
    return picked


def case_row(f: CaseFacts) -> dict[str, Any]:
    t = f.times
    return {
        **case_identity(t),
        "support": f.support,
        "created_at": iso(t.created_at),
        "first_inbound_at": iso(t.first_inbound_at),
        "first_contact_at": iso(f.first_contact_at),
        "first_contact_seconds": f.first_contact_seconds,
        "first_answer_at": iso(f.first_answer_at),
        "first_response_seconds": f.first_response_seconds,
        "first_response_business_seconds": f.first_response_business_seconds,
        "next_responses": len(f.next_waits),
        "resolved_at": iso(t.resolved_at),
        "resolution_seconds": f.resolution_seconds,
        "reopened": f.reopened,
    }


def case_rows(facts: Sequence[CaseFacts]) -> list[dict[str, Any]]:
    return [case_row(f) for f in facts]
