"""The SLA arithmetic against a minute-by-minute reference: random opening hours in several
time zones (with their DST changes), holidays (dates, yearly days, ranges), starts anywhere
(nights, weekends, the nights clocks change) and pauses of the resolution clock.

The reference walks UTC minutes one by one and asks the wall clock whether the desk is open
(`BusinessHours.is_open`, the local day not a holiday); the calendar computes with intervals.
Window edges are kept out of 01:00-03:59 local, the hours clocks skip or repeat in these zones
(an edge inside a repeated hour is taken at its first occurrence: see calendars.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carebird.cases.calendars import Calendar
from carebird.cases.sla_clock import resolution_due

MINUTE = timedelta(minutes=1)
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
# Around the 2026 clock changes of these zones, and anywhere in 2026-2027.
CHANGES = [
    datetime(2026, 3, 8, tzinfo=UTC),  # New York, spring
    datetime(2026, 3, 29, tzinfo=UTC),  # Europe, spring
    datetime(2026, 4, 4, tzinfo=UTC),  # Sydney, autumn
    datetime(2026, 10, 3, tzinfo=UTC),  # Sydney, spring
    datetime(2026, 10, 25, tzinfo=UTC),  # Europe, autumn
    datetime(2026, 11, 1, tzinfo=UTC),  # New York, autumn
]
HOURS = [0, *range(4, 24)]


@st.composite
def windows(draw: st.DrawFn) -> str:
    rules = []
    for _ in range(draw(st.integers(1, 3))):
        d1 = draw(st.integers(0, 6))
        d2 = draw(st.integers(0, 6))
        days = DAYS[d1] if d1 == d2 else f"{DAYS[d1]}-{DAYS[d2]}"
        h1, m1 = draw(st.sampled_from(HOURS)), draw(st.sampled_from([0, 15, 30, 45]))
        if draw(st.booleans()):
            end = "24:00"
        else:
            end = f"{draw(st.sampled_from(HOURS)):02d}:{draw(st.sampled_from([0, 20, 30])):02d}"
        rules.append(f"{days} {h1:02d}:{m1:02d}-{end}")
    return "; ".join(rules)


@st.composite
def starts(draw: st.DrawFn) -> datetime:
    if draw(st.booleans()):
        base = draw(st.sampled_from(CHANGES)) - timedelta(days=3)
        return base + timedelta(minutes=draw(st.integers(0, 6 * 1440)))
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 700 * 1440)))


@st.composite
def holidays(draw: st.DrawFn, start: datetime) -> list[str]:
    out = []
    for _ in range(draw(st.integers(0, 3))):
        day = start.date() + timedelta(days=draw(st.integers(-1, 12)))
        kind = draw(st.sampled_from(["date", "yearly", "range", "yearly_range"]))
        last = day + timedelta(days=draw(st.integers(0, 3)))
        if kind == "date":
            out.append(day.isoformat())
        elif kind == "yearly":
            out.append(day.strftime("%m-%d"))
        elif kind == "range":
            out.append(f"{day.isoformat()}..{last.isoformat()}")
        else:
            out.append(f"{day:%m-%d}..{last:%m-%d}")
    return out


@st.composite
def cases(draw: st.DrawFn) -> tuple[Calendar, datetime]:
    start = draw(starts())
    calendar = Calendar.parse(draw(windows()), draw(st.sampled_from(ZONES)), draw(holidays(start)))
    return calendar, start


def open_at(calendar: Calendar, at: datetime) -> bool:
    local = at.astimezone(calendar.tz)
    return calendar.hours.is_open(at) and not calendar.holidays.closes(local.date())


def reference_add(
    calendar: Calendar,
    start: datetime,
    minutes: int,
    pauses: list[tuple[datetime, datetime]],
    found: datetime | None,
) -> datetime | None:
    """Walk minute by minute up to what the calendar found (or three weeks and a day)."""
    t, left = start, minutes
    limit = (found or start + timedelta(days=22)) + MINUTE
    while t < limit:
        paused = any(b <= t < e for b, e in pauses)
        if not paused and open_at(calendar, t):
            left -= 1
            if left == 0:
                return t + MINUTE
        t += MINUTE
    return None


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cases(), st.integers(1, 2500))
def test_adding_business_time_matches_the_minute_walk(
    case: tuple[Calendar, datetime], minutes: int
) -> None:
    calendar, start = case
    due = calendar.add(start, timedelta(minutes=minutes))
    expected = reference_add(calendar, start, minutes, [], due)
    if due is None:  # only when the desk stays closed three weeks from the start
        assert expected is None or expected - start > timedelta(days=21)
        return
    assert due == expected


@SETTINGS
@given(cases(), st.integers(1, 4 * 1440))
def test_open_time_between_two_moments_matches_the_minute_walk(
    case: tuple[Calendar, datetime], span: int
) -> None:
    calendar, start = case
    end = start + timedelta(minutes=span)
    walked = sum(open_at(calendar, start + n * MINUTE) for n in range(span))
    assert calendar.between(start, end) == walked * MINUTE


@SETTINGS
@given(cases())
def test_next_opening_is_the_first_open_minute(case: tuple[Calendar, datetime]) -> None:
    calendar, start = case
    opening = calendar.next_opening(start)
    t = start
    while t < start + timedelta(days=22) and not open_at(calendar, t):
        t += MINUTE
    if opening is None:
        assert not open_at(calendar, t) or t - start > timedelta(days=21)
    else:
        assert opening == t
        assert calendar.is_open(opening)


@SETTINGS
@given(
    cases(),
    st.integers(1, 2000),
    st.lists(st.tuples(st.integers(0, 3000), st.integers(1, 2000)), max_size=3),
)
def test_the_resolution_clock_skips_its_pauses(
    case: tuple[Calendar, datetime], minutes: int, gaps: list[tuple[int, int]]
) -> None:
    calendar, start = case
    pauses, at = [], start
    for offset, length in gaps:  # ordered, disjoint pauses after the start
        begin = at + timedelta(minutes=offset)
        pauses.append((begin, begin + timedelta(minutes=length)))
        at = begin + timedelta(minutes=length + 1)
    due = resolution_due(calendar, start, pauses, timedelta(minutes=minutes))
    expected = reference_add(calendar, start, minutes, pauses, due)
    if due is None:
        assert expected is None or expected - start > timedelta(days=21)
        return
    assert due == expected


def test_an_edge_in_the_skipped_spring_hour_is_the_jump() -> None:
    # Paris, Sunday 29 March 2026: 02:00 becomes 03:00 (01:00 UTC).
    calendar = Calendar.parse("Sun 02:30-05:00", "Europe/Paris")
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert calendar.next_opening(start) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert calendar.between(start, start + timedelta(hours=6)) == timedelta(hours=2)
    assert date(2026, 3, 29) == calendar.next_opening(start).astimezone(calendar.tz).date()  # type: ignore[union-attr]
