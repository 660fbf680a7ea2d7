"""Published opening hours, e.g. "Mon-Sat 08:00-22:00" in Europe/Paris.

A spec is one or more `;`-separated rules, each a day or day range and a time range:
"Mon-Fri 08:00-20:00; Sat 09:00-18:00". French day names work too ("lun-sam 08:00-22:00").
A range ending at or before its start runs past midnight ("Fri 20:00-02:00").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carebird.errors import InvalidInput

if TYPE_CHECKING:
    from carebird.cases.calendars import Calendar

_DAYS = {
    **{d: i for i, d in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{d: i for i, d in enumerate(("lun", "mar", "mer", "jeu", "ven", "sam", "dim"))},
}
_RULE = re.compile(
    r"^\s*(?P<d1>[a-z]{3})[a-z]*\.?(?:\s*-\s*(?P<d2>[a-z]{3})[a-z]*\.?)?\s+"
    r"(?P<t1>\d{1,2}[:h]\d{2})\s*-\s*(?P<t2>\d{1,2}[:h]\d{2})\s*$"
)


def _time(text: str) -> time:
    h, m = re.split("[:h]", text)
    if int(h) == 24 and int(m) == 0:
        return time(23, 59, 59, 999999)
    return time(int(h), int(m))


@dataclass(frozen=True)
class Window:
    day: int  # Monday = 0
    start: time
    end: time  # <= start: runs past midnight into the next day


@dataclass(frozen=True)
class BusinessHours:
    windows: tuple[Window, ...]
    tz: ZoneInfo

    @classmethod
    def parse(cls, spec: str, tz: str = "Europe/Paris") -> BusinessHours:
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"unknown time zone {tz!r}") from None
        if spec.strip().lower() in ("24/7", "always"):
            return cls(tuple(Window(d, time(0), time(0)) for d in range(7)), zone)
        windows = []
        for part in filter(None, (p.strip() for p in spec.lower().split(";"))):
            m = _RULE.match(part)
            if not m or m["d1"] not in _DAYS or (m["d2"] and m["d2"] not in _DAYS):
                raise InvalidInput(
                    f"cannot read opening hours {part!r} (e.g. 'Mon-Sat 08:00-22:00')"
                )
            first, last = _DAYS[m["d1"]], _DAYS[m["d2"] or m["d1"]]
            days = range(first, (last if last >= first else last + 7) + 1)
            try:
                start, end = _time(m["t1"]), _time(m["t2"])
            except ValueError:
                raise InvalidInput(f"bad time in opening hours {part!r}") from None
            windows += [Window(d % 7, start, end) for d in days]
        if not windows:
            raise InvalidInput("opening hours are empty")
        return cls(tuple(windows), zone)

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.tz)
        t, day = local.time(), local.weekday()
        for w in self.windows:
            overnight = w.end <= w.start
            if w.day == day and w.start <= t and (overnight or t < w.end):
                return True
            if overnight and (w.day + 1) % 7 == day and t < w.end:
                return True
        return False

    def next_change(self, at: datetime, *, within: timedelta = timedelta(days=7)) -> datetime:
        """When the desk next opens or closes (minute precision); `at + within` if not before."""
        state = self.is_open(at)
        probe = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = at + within
        while probe < end:
            if self.is_open(probe) != state:
                return probe
            probe += timedelta(minutes=1)
        return end


@dataclass(frozen=True)
class PollingPlan:
    """Seconds between polls of a quiet source: fast while the desk (or the source's account)
    is open, slow at night and on holidays (a business calendar: carebird.cases.calendars)."""

    open_seconds: float = 30.0
    closed_seconds: float = 300.0
    hours: BusinessHours | Calendar | None = None

    def interval(self, now: datetime) -> float:
        if self.hours is None or self.hours.is_open(now):
            return self.open_seconds
        # Never sleep through the opening: wake up when the desk opens.
        within = timedelta(seconds=self.closed_seconds)
        if isinstance(self.hours, BusinessHours):
            opens: datetime | None = self.hours.next_change(now, within=within)
        else:
            opens = self.hours.next_opening(now)
        until_open = (opens - now).total_seconds() if opens is not None else self.closed_seconds
        return max(1.0, min(self.closed_seconds, until_open))
