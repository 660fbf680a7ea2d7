"""Business calendars: the opening hours of the desk or of one account, in its time zone, less
its holidays. Every timer counts in one (SLA deadlines, warnings, the resolution clock, the
export, the polling plan, "we reopen Monday 08:00").

Holidays close whole local days. Each is written "2026-12-24" (that date), "12-25" (every year),
"2026-12-24..2026-12-31" or "12-24..12-26" (a range, both ends included; a yearly range may run
past new year: "12-31..01-02").

The desk's calendar comes from the settings (`opening_hours`, `timezone`, `holidays`); an
account's `NetworkAccount.options` may override each of the three keys (`opening_hours`,
`timezone`, `holidays`). A case's timers run in its account's calendar, else the desk's.

A window edge inside the hour a clock skips (spring) is the moment of the jump; one inside the
hour a clock repeats (autumn) is taken at its first occurrence.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.cases.hours import BusinessHours
from carebird.errors import InvalidInput
from carebird.ingest.models import NetworkAccount

log = logging.getLogger(__name__)

OPTION_KEYS = ("opening_hours", "timezone", "holidays")
MAX_HOLIDAYS = 200
HORIZON_DAYS = 21  # a calendar with no open minute within three weeks gives no deadline
MAX_DAYS = 366 * 3  # the longest a clock is followed
_CHUNK_DAYS = 14
_END_OF_DAY = time(23, 59, 59, 999999)  # how hours.py reads "24:00"
_DAY = re.compile(r"^(?:(\d{4})-)?(\d{2})-(\d{2})$")


def _one_day(text: str) -> tuple[int | None, int, int]:
    m = _DAY.match(text.strip())
    if not m:
        raise ValueError
    year, month, day = (int(m[1]) if m[1] else None), int(m[2]), int(m[3])
    date(year or 2024, month, day)  # 2024: a leap year, so "02-29" is a valid yearly day
    return year, month, day


_Day = tuple[int | None, int, int]


def _entry(raw: object) -> tuple[_Day, _Day, bool]:
    """One holiday entry's ends (year or None, month, day) and whether it is a single day."""
    if not isinstance(raw, str):
        raise InvalidInput(f"holidays: {raw!r} is not a text like '12-25' or '2026-12-24'")
    try:
        ends = [_one_day(p) for p in raw.split("..")]
        if len(ends) > 2:
            raise ValueError
    except ValueError:
        raise InvalidInput(
            f"holidays: cannot read {raw!r} (a date '2026-12-24', a yearly day '12-25', "
            "or a range '2026-12-24..2026-12-31' / '12-24..12-26')"
        ) from None
    if (ends[0][0] is None) != (ends[-1][0] is None):
        raise InvalidInput(f"holidays: {raw!r} mixes a date and a yearly day")
    return ends[0], ends[-1], len(ends) == 1


@dataclass(frozen=True, slots=True)
class Holidays:
    """Closed local days: fixed dates, yearly (month, day) pairs and ranges of either."""

    dates: frozenset[date] = frozenset()
    yearly: frozenset[tuple[int, int]] = frozenset()
    ranges: tuple[tuple[date, date], ...] = ()
    yearly_ranges: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = ()

    @classmethod
    def parse(cls, items: Iterable[str]) -> Holidays:
        dates: set[date] = set()
        yearly: set[tuple[int, int]] = set()
        ranges: list[tuple[date, date]] = []
        yearly_ranges: list[tuple[tuple[int, int], tuple[int, int]]] = []
        listed = list(items)
        if len(listed) > MAX_HOLIDAYS:
            raise InvalidInput(f"holidays: at most {MAX_HOLIDAYS} entries")
        for raw in listed:
            (y1, m1, d1), (y2, m2, d2), single = _entry(raw)
            if single and y1 is None:
                yearly.add((m1, d1))
            elif single and y1 is not None:
                dates.add(date(y1, m1, d1))
            elif y1 is None:
                yearly_ranges.append(((m1, d1), (m2, d2)))
            else:
                first, last = date(y1, m1, d1), date(y2 or y1, m2, d2)
                if last < first or (last - first).days > 366:
                    raise InvalidInput(f"holidays: {raw!r} ends before it starts or lasts a year")
                ranges.append((first, last))
        return cls(frozenset(dates), frozenset(yearly), tuple(ranges), tuple(yearly_ranges))

    def closes(self, day: date) -> bool:
        md = (day.month, day.day)
        if day in self.dates or md in self.yearly:
            return True
        if any(first <= day <= last for first, last in self.ranges):
            return True
        for start, end in self.yearly_ranges:
            inside = start <= md <= end if start <= end else (md >= start or md <= end)
            if inside:
                return True
        return False

    def __bool__(self) -> bool:
        return bool(self.dates or self.yearly or self.ranges or self.yearly_ranges)


def _instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC moment a local wall clock shows `day at`; in a skipped hour, the jump itself."""
    if at == _END_OF_DAY:
        day, at = day + timedelta(days=1), time(0)
    local = datetime.combine(day, at, tzinfo=tz)
    utc = local.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
        return utc
    lo, hi = local.replace(fold=1).astimezone(UTC), utc  # before and after the jump
    after = hi.astimezone(tz).utcoffset()
    while hi - lo > timedelta(minutes=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(second=0, microsecond=0)
        if mid <= lo:
            break
        if mid.astimezone(tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi


@dataclass(frozen=True)
class Calendar:
    hours: BusinessHours
    holidays: Holidays = field(default_factory=Holidays)

    @classmethod
    def parse(cls, opening_hours: str, timezone: str, holidays: Iterable[str] = ()) -> Calendar:
        return cls(BusinessHours.parse(opening_hours, timezone), Holidays.parse(holidays))

    @classmethod
    def of(cls, hours: BusinessHours | Calendar) -> Calendar:
        return hours if isinstance(hours, Calendar) else cls(hours)

    @property
    def tz(self) -> ZoneInfo:
        return self.hours.tz

    def is_open(self, at: datetime) -> bool:
        return self.hours.is_open(at) and not self.holidays.closes(at.astimezone(self.tz).date())

    def _chunk(self, first: date, days: int) -> list[tuple[datetime, datetime]]:
        return list(_chunk(self, first, days))

    def _compute_chunk(self, first: date, days: int) -> list[tuple[datetime, datetime]]:
        """Open periods (UTC, merged, in order) of the local days [first, first + days)."""
        lo, hi = _instant(first, time(0), self.tz), _instant(first + timedelta(days), time(0),
                                                             self.tz)  # fmt: skip
        spans = []
        for n in range(-1, days):
            day = first + timedelta(days=n)
            for w in self.hours.windows:
                if w.day != day.weekday():
                    continue
                end_day = day + timedelta(days=1) if w.end <= w.start else day
                spans.append((_instant(day, w.start, self.tz), _instant(end_day, w.end, self.tz)))
        spans.sort()
        merged: list[tuple[datetime, datetime]] = []
        for begin, end in spans:
            begin, end = max(begin, lo), min(end, hi)
            if end <= begin:
                continue
            if merged and begin <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((begin, end))
        if not self.holidays:
            return merged
        closed = [
            (_instant(d, time(0), self.tz), _instant(d + timedelta(days=1), time(0), self.tz))
            for d in (first + timedelta(days=n) for n in range(days))
            if self.holidays.closes(d)
        ]
        return _subtract(merged, closed)

    def open_intervals(
        self, start: datetime, days: int = MAX_DAYS
    ) -> Iterator[tuple[datetime, datetime]]:
        """Open periods (UTC, in order) from `start` on, over about `days` days."""
        start = start.astimezone(UTC)
        first = start.astimezone(self.tz).date()
        done = 0
        while done < days:
            n = min(_CHUNK_DAYS, days - done)
            for begin, end in self._chunk(first + timedelta(days=done), n):
                if end > start:
                    yield max(begin, start), end
            done += n

    def add(self, start: datetime, amount: timedelta) -> datetime | None:
        """`start` plus `amount` of open time; None when the calendar does not open for it."""
        start = start.astimezone(UTC)  # aware arithmetic in a local zone would ignore DST
        left = amount
        if left <= timedelta(0):
            return start
        for begin, end in self.open_intervals(start):
            if begin - start > timedelta(days=HORIZON_DAYS) and left == amount:
                return None  # closed for three weeks: no deadline worth showing
            if end - begin >= left:
                return begin + left
            left -= end - begin
        return None

    def between(self, start: datetime, end: datetime) -> timedelta:
        """The open time within [start, end)."""
        total = timedelta(0)
        if end <= start:
            return total
        days = (end - start).days + 2
        for begin, stop in self.open_intervals(start, days):
            if begin >= end:
                break
            total += min(stop, end) - begin
        return total

    def next_opening(self, at: datetime) -> datetime | None:
        """`at` when open, else when the calendar next opens (None: not within three weeks)."""
        for begin, _ in self.open_intervals(at, HORIZON_DAYS + 1):
            return begin
        return None


@functools.lru_cache(maxsize=4096)
def _chunk(calendar: Calendar, first: date, days: int) -> tuple[tuple[datetime, datetime], ...]:
    """A calendar's chunk, computed once: a watcher pass asks for the same days per case."""
    return tuple(calendar._compute_chunk(first, days))


def _subtract(
    spans: list[tuple[datetime, datetime]], holes: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    out = []
    for begin, end in spans:
        pieces = [(begin, end)]
        for h0, h1 in holes:
            nxt = []
            for b, e in pieces:
                if h1 <= b or h0 >= e:
                    nxt.append((b, e))
                    continue
                if b < h0:
                    nxt.append((b, h0))
                if h1 < e:
                    nxt.append((h1, e))
            pieces = nxt
        out += pieces
    return out


# --- desk and accounts -----------------------------------------------------------------------
def check_holidays(value: Any) -> list[str]:
    """A holidays list as written in the settings or an account's options (raises InvalidInput)."""
    if not isinstance(value, list):
        raise InvalidInput('holidays must be a list like ["01-01", "12-25", "2026-12-24"]')
    Holidays.parse(value)
    return value


def check_calendar_options(options: Mapping[str, Any]) -> None:
    """Check an account's calendar keys (`opening_hours`, `timezone`, `holidays`), each
    optional; raises carebird.errors.InvalidInput with what is wrong."""
    hours, tz = options.get("opening_hours"), options.get("timezone")
    if hours is not None and (not isinstance(hours, str) or not hours.strip()):
        raise InvalidInput("opening_hours must be a text like 'Mon-Fri 09:00-18:00'")
    if tz is not None and (not isinstance(tz, str) or not tz.strip()):
        raise InvalidInput("timezone must be a time zone name like 'Europe/Paris'")
    BusinessHours.parse(hours or "24/7", tz or "UTC")
    if options.get("holidays") is not None:
        check_holidays(options["holidays"])


def account_calendar(desk: Calendar, options: Mapping[str, Any] | None) -> Calendar:
    """The account's calendar: its own keys over the desk's (raises InvalidInput if bad)."""
    opts = {k: v for k, v in (options or {}).items() if k in OPTION_KEYS and v is not None}
    if not opts:
        return desk
    check_calendar_options(opts)
    hours = desk.hours
    if "opening_hours" in opts or "timezone" in opts:
        tz = opts.get("timezone") or desk.tz.key
        if "opening_hours" in opts:
            hours = BusinessHours.parse(opts["opening_hours"], tz)
        else:
            hours = BusinessHours(desk.hours.windows, ZoneInfo(tz))
    holidays = Holidays.parse(opts["holidays"]) if "holidays" in opts else desk.holidays
    return Calendar(hours, holidays)


@dataclass(frozen=True)
class Calendars:
    """The desk's calendar and each account's that differs from it."""

    desk: Calendar
    accounts: Mapping[int, Calendar] = field(default_factory=dict)

    def of(self, account_id: int | None) -> Calendar:
        if account_id is None:
            return self.desk
        return self.accounts.get(account_id, self.desk)

    @classmethod
    def load(cls, session: Session, desk: Calendar) -> Calendars:
        accounts = {}
        for account_id, options in session.execute(
            select(NetworkAccount.id, NetworkAccount.options)
        ):
            try:
                accounts[account_id] = account_calendar(desk, options)
            except InvalidInput as exc:  # written around the checks: the desk's calendar rules
                log.warning("account %s: calendar ignored: %s", account_id, exc)
        return cls(desk, accounts)
