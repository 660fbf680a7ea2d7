"""When the simulated network's customers write: the arrival times of primary events.

Time is cut into one-hour slots from `start`. Slot h holds a Poisson number of background
messages (mean `rate_per_hour` x hour-of-day profile x weekday factor, UTC hours, uniform
within the hour) plus the reports of any incident (an outage many customers report within
30-90 minutes) that began in slots h-2..h. A slot is derived from its own RNG (seed, h), so
locating primary event n only sums slot counts (no text is built), and the content of event
n comes from an RNG seeded with (seed, n) (see simevents.py): any position is generated
without the others.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from carebird.ingest.sim import text as simtext

HOUR = 3_600_000_000  # microseconds
_HOURLY: tuple[float, ...] = (0.14, 0.08, 0.05, 0.04, 0.04, 0.07, 0.2, 0.45, 0.7, 0.85, 0.95)
_HOURLY += (1.0, 0.88, 0.82, 0.8, 0.78, 0.8, 0.88, 0.95, 0.98, 0.9, 0.7, 0.48, 0.28)
_WEEKLY = (1.0, 0.95, 0.95, 0.95, 0.9, 0.65, 0.55)
_INCIDENT_PER_HOUR = 0.03
_THEMES = sorted(simtext.INCIDENTS)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    k, p, target = 0, 1.0, math.exp(-mean)
    while True:
        p *= rng.random()
        if p <= target:
            return k
        k += 1


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    theme: str
    city: str
    line: str
    times: tuple[int, ...]  # microseconds after start


class SimStream:
    """The timeline of one seed: primary events' timestamps, incidents and RNGs."""

    def __init__(self, *, seed: int, start: datetime, rate_per_hour: float) -> None:
        self.seed, self.start, self.rate_per_hour = seed, start, rate_per_hour
        self._seed64 = seed % (1 << 64)
        self._cum = [0]  # _cum[h] = number of primary events before slot h
        self._slots: dict[int, list[tuple[int, int]]] = {}
        self._incidents: dict[int, Incident | None] = {}

    def rng(self, stream: int, index: int) -> random.Random:
        """The RNG of item `index` of a stream (1 incidents, 2 slots, 3 people, 4 events)."""
        return random.Random(((index << 3 | stream) << 64) | self._seed64)

    def at(self, ts: int) -> datetime:
        return self.start + timedelta(microseconds=ts)

    def _rate(self, h: int) -> float:
        mid = self.start + timedelta(hours=h, minutes=30)
        return self.rate_per_hour * _HOURLY[mid.hour] * _WEEKLY[mid.weekday()]

    def incident(self, h: int) -> Incident | None:
        """The incident that began in slot h, if any."""
        if h in self._incidents:
            return self._incidents[h]
        rng, found = self.rng(1, h), None
        if rng.random() < _INCIDENT_PER_HOUR:
            begin, length = h * HOUR + int(rng.random() * HOUR), rng.uniform(0.5, 1.5) * HOUR
            scale = rng.uniform(0.4, 1.2) * max(self._rate(h), 0.3 * self.rate_per_hour)
            reports = range(max(6, round(scale)))
            times = sorted(begin + int(rng.triangular(0, length, length * 0.2)) for _ in reports)
            place = rng.choice(_THEMES), rng.choice(simtext.CITIES), rng.choice(simtext.LINES)
            found = Incident(f"inc{self.seed}-{h}", *place, tuple(times))
        self._incidents[h] = found
        return found

    def _slot(self, h: int) -> list[tuple[int, int]]:
        """(timestamp, incident's slot or -1) of slot h's primary events, in time order."""
        events = self._slots.get(h)
        if events is None:
            rng, base = self.rng(2, h), h * HOUR
            count = _poisson(rng, self._rate(h))
            events = [(base + int(rng.random() * HOUR), -1) for _ in range(count)]
            for origin in range(max(0, h - 2), h + 1):
                if (incident := self.incident(origin)) is not None:
                    events += [(t, origin) for t in incident.times if base <= t < base + HOUR]
            events.sort()
            if len(self._slots) > 64:
                self._slots.clear()
            self._slots[h] = events
        return events

    def locate(self, n: int) -> tuple[int, int]:
        """(timestamp, incident's slot or -1) of primary event n."""
        cum = self._cum
        while cum[-1] <= n:
            cum.append(cum[-1] + len(self._slot(len(cum) - 1)))
        h = bisect.bisect_right(cum, n) - 1
        return self._slot(h)[n - cum[h]]
