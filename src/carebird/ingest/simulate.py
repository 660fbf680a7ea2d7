"""A simulated social network: deterministic customer-care traffic for demos, tests, benchmarks.

Stream model
    Time is cut into one-hour slots from `start`. Slot h holds a Poisson number of background
    messages (mean `rate_per_hour` x hour-of-day profile x weekday factor, UTC hours, uniform
    within the hour) plus the reports of any incident (an outage many customers report within
    30-90 minutes) that began in slots h-2..h. A slot is derived from its own RNG (seed, h), so
    locating primary event n only sums slot counts (no text is built), and the content of event
    n comes from an RNG seeded with (seed, n): any position is generated without the others.
    Follow-ups ("toujours rien ?") regenerate the earlier event they answer, a few dozen back.

Cursor: "<p>:<t>"
    p is the number of primary events delivered; t is the timestamp (microseconds after
    `start`) of the last reactive event delivered, 0 if none. Reactive events are what `send`
    causes: the echo of the brand's post and the customer's answer a few simulated minutes
    later. They live in memory, sorted by a unique timestamp always later than anything already
    delivered, and `fetch` merges them into the primary stream in time order; so a cursor stays
    valid after new replies and `fetch(cursor)` depends only on (seed, cursor, replies sent).

    Reactive events, receipts by idempotency key and thread knowledge about our own posts are
    not persisted: after a restart, saved cursors still work, but echoes and answers not yet
    fetched are lost, and a reply to a post from a previous process gets no customer answer.

External ids
    "sim<seed>-<n>" for primary event n (follow-ups included), "simout<seed>-<t>-<crc of the
    idempotency key>" for the brand's posts and "simre<seed>-<t>" for customers' answers,
    t being the event's unique timestamp; threads use the root message's id as conversation id
    (private messages started by the desk: "simdm<seed>-<recipient id>").

Time modes
    Virtual (speed=None): fetch returns the next `limit` events whatever the wall time, and
    "now" (when a reply is sent) is just after the latest event delivered. Live (speed=s):
    simulated now = t0 + (clock() - t0) x s, t0 being clock() at construction, and fetch only
    returns events up to it. The stream begins at `start` (default: t0 - 15 minutes), so the
    events between start and t0 are a backlog ready at once; with start = t0 it is exactly
    start + (clock() - t0) x s. Replies are stamped with the simulated now.
"""

from __future__ import annotations

import bisect
import math
import random
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from carebird.ingest import simtext
from carebird.ingest.base import (
    AuthorInfo,
    Direction,
    FetchResult,
    InboundItem,
    MessageKind,
    OutboundReply,
    SentReceipt,
)
from carebird.ingest.simtext import Person, Slots, fill, pick, table

DEFAULT_START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
POPULATION = 20_000
HOUR = 3_600_000_000  # microseconds
_BACKLOG = timedelta(minutes=15)
_HOURLY: tuple[float, ...] = (0.14, 0.08, 0.05, 0.04, 0.04, 0.07, 0.2, 0.45, 0.7, 0.85, 0.95)
_HOURLY += (1.0, 0.88, 0.82, 0.8, 0.78, 0.8, 0.88, 0.95, 0.98, 0.9, 0.7, 0.48, 0.28)
_WEEKLY = (1.0, 0.95, 0.95, 0.95, 0.9, 0.65, 0.55)
_INCIDENT_PER_HOUR = 0.03
_ZIPF_A = 0.4  # P(rank k) ~ k^-(1 - a): a few customers write often, most once or twice
_ZIPF_TOP = POPULATION**_ZIPF_A - 1
_CACHE = 4096
_THEMES = sorted(simtext.INCIDENTS)
_M, _R, _D = MessageKind.MENTION, MessageKind.REPLY, MessageKind.DIRECT
_K, _Q = MessageKind.KEYWORD, MessageKind.QUOTE
_KINDS = table((_M, 72), (_D, 14), (_K, 9), (_Q, 5))
_CHATTER_KINDS = table((_M, 50), (_K, 40), (_Q, 10))
_INCIDENT_KINDS = table((_M, 80), (_K, 15), (_D, 5))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
class _Incident:
    id: str
    theme: str
    city: str
    line: str
    times: tuple[int, ...]  # microseconds after start


class SimulatedNetwork:
    """A deterministic stream of customers writing to a fictional brand (see module doc)."""

    network = "sim"

    def __init__(
        self,
        *,
        seed: int = 1,
        start: datetime | None = None,
        speed: float | None = None,
        clock: Callable[[], datetime] | None = None,
        support_handle: str = "LigneAzur_SAV",
        brand_handle: str = "LigneAzur",
        brand_name: str = "Ligne Azur",
        rate_per_hour: float = 60.0,
        limit_total: int | None = None,
    ) -> None:
        if rate_per_hour <= 0 or (speed is not None and speed <= 0):
            raise ValueError("rate_per_hour and speed must be positive")
        self.seed, self.source, self.speed = seed, f"sim:{seed}", speed
        self._seed64 = seed % (1 << 64)
        self.rate_per_hour, self.limit_total = rate_per_hour, limit_total
        self.support_handle = support_handle.lstrip("@")
        self.brand_handle = brand_handle.lstrip("@")
        self.brand_name = brand_name
        self._clock = clock or (lambda: datetime.now(UTC))
        self._t0 = _utc(self._clock()) if speed is not None else DEFAULT_START
        if speed is not None and start is None:
            start = self._t0 - _BACKLOG
        self.start = _utc(start or DEFAULT_START)
        # Simulated now at t0, in microseconds after start: live, the past is a ready backlog.
        self._lead = (self._t0 - self.start) // timedelta(microseconds=1) if speed else 0
        self._cum = [0]  # _cum[h] = number of primary events before slot h
        self._slots: dict[int, list[tuple[int, int]]] = {}
        self._incidents: dict[int, _Incident | None] = {}
        self._items: dict[int, InboundItem] = {}
        self._people: dict[int, Person] = {}
        self._reactive: list[tuple[int, InboundItem]] = []  # sorted by unique timestamp
        self._taken: set[int] = set()
        self._known: dict[str, InboundItem] = {}  # reactive items by external id
        self._receipts: dict[str, SentReceipt] = {}
        self._answered: dict[str, int] = {}
        self._hw = 0  # the latest timestamp delivered (or implied by a cursor)
        self._lock = threading.RLock()  # fetch (ingest loop) and send (web) may race

    # -- the connector ----------------------------------------------------------------------

    def accounts(self) -> list[tuple[str, str]]:
        """The brand's own handles as (handle, role)."""
        return [(self.support_handle, "support"), (self.brand_handle, "brand")]

    def brand_author(self, handle: str) -> AuthorInfo:
        handle = self._own(handle)
        support = handle == self.support_handle
        return AuthorInfo(
            external_id=f"sim-brand-{handle}",
            handle=handle,
            display_name=f"{self.brand_name} SAV" if support else self.brand_name,
            followers=48_200 if support else 312_000,
            verified=True,
        )

    def fetch(self, cursor: str | None, *, limit: int = 500) -> FetchResult:
        if limit <= 0:
            raise ValueError("limit must be positive")
        with self._lock:
            return self._fetch(cursor, limit)

    def send(self, reply: OutboundReply) -> SentReceipt:
        with self._lock:
            return self._send(reply)

    def _fetch(self, cursor: str | None, limit: int) -> FetchResult:
        p, last = self._parse(cursor)
        horizon = self._now() if self.speed is not None else math.inf
        end = math.inf if self.limit_total is None else self.limit_total
        reactive = self._reactive
        r = bisect.bisect_right(reactive, last, key=lambda e: e[0])
        items: list[InboundItem] = []
        while True:
            head = self._locate(p) if p < end else None
            tp = head[0] if head is not None else math.inf
            tr = reactive[r][0] if r < len(reactive) else math.inf
            t = tp if tp <= tr else tr
            more = t <= horizon and t < math.inf
            if not more or len(items) >= limit:
                break
            if head is not None and tp <= tr:
                items.append(self._primary(p, head))
                p += 1
            else:
                items.append(reactive[r][1])
                last = reactive[r][0]
                r += 1
            self._hw = max(self._hw, int(t))
        return FetchResult(items=items, cursor=f"{p}:{last}", more=more)

    def _send(self, reply: OutboundReply) -> SentReceipt:
        done = self._receipts.get(reply.idempotency_key)
        if done is not None:
            return done
        if reply.network != self.network:
            raise ValueError(f"reply for network {reply.network!r} sent to {self.network!r}")
        if reply.private and not (reply.recipient_id or reply.in_reply_to_id):
            raise ValueError("a private message needs recipient_id or in_reply_to_id")
        handle = self._own(reply.account_handle)
        parent = self._lookup(reply.in_reply_to_id) if reply.in_reply_to_id else None
        ts = self._free(max(self._now(), self._hw + 1))
        out_id = f"simout{self.seed}-{ts}-{zlib.crc32(reply.idempotency_key.encode()):08x}"
        if parent is not None:
            conversation = parent.conversation_id or parent.external_id
        elif reply.private and not reply.in_reply_to_id:
            conversation = f"simdm{self.seed}-{reply.recipient_id}"
        else:
            conversation = reply.in_reply_to_id or out_id
        kind = _D if reply.private else _R if reply.in_reply_to_id else MessageKind.OWN_POST
        sim = {"category": "brand_reply", "idempotency_key": reply.idempotency_key}
        echo = InboundItem(
            network=self.network,
            external_id=out_id,
            author=self.brand_author(handle),
            text=reply.text,
            created_at=self._at(ts),
            kind=kind,
            direction=Direction.OUT,
            account_handle=handle,
            in_reply_to_id=reply.in_reply_to_id,
            conversation_id=conversation,
            raw={"sim": sim},
        )
        self._add(ts, echo)
        receipt = SentReceipt(out_id, echo.created_at, {"sim": {"conversation_id": conversation}})
        self._receipts[reply.idempotency_key] = receipt
        self._answer(reply, echo, parent, ts)
        return receipt

    # -- time -------------------------------------------------------------------------------

    def _now(self) -> int:
        """Simulated now, in microseconds after start: wall clock in live mode, else `_hw`."""
        if self.speed is None:
            return self._hw
        elapsed = (_utc(self._clock()) - self._t0) // timedelta(microseconds=1)
        return self._lead + int(elapsed * self.speed)

    def _rng(self, stream: int, index: int) -> random.Random:
        """The RNG of item `index` of a stream (1 incidents, 2 slots, 3 people, 4 events)."""
        return random.Random(((index << 3 | stream) << 64) | self._seed64)

    def _at(self, ts: int) -> datetime:
        return self.start + timedelta(microseconds=ts)

    def _rate(self, h: int) -> float:
        mid = self.start + timedelta(hours=h, minutes=30)
        return self.rate_per_hour * _HOURLY[mid.hour] * _WEEKLY[mid.weekday()]

    def _incident(self, h: int) -> _Incident | None:
        if h in self._incidents:
            return self._incidents[h]
        rng, found = self._rng(1, h), None
        if rng.random() < _INCIDENT_PER_HOUR:
            begin, length = h * HOUR + int(rng.random() * HOUR), rng.uniform(0.5, 1.5) * HOUR
            scale = rng.uniform(0.4, 1.2) * max(self._rate(h), 0.3 * self.rate_per_hour)
            reports = range(max(6, round(scale)))
            times = sorted(begin + int(rng.triangular(0, length, length * 0.2)) for _ in reports)
            place = rng.choice(_THEMES), rng.choice(simtext.CITIES), rng.choice(simtext.LINES)
            found = _Incident(f"inc{self.seed}-{h}", *place, tuple(times))
        self._incidents[h] = found
        return found

    def _slot(self, h: int) -> list[tuple[int, int]]:
        """(timestamp, incident's slot or -1) of slot h's primary events, in time order."""
        events = self._slots.get(h)
        if events is None:
            rng, base = self._rng(2, h), h * HOUR
            count = _poisson(rng, self._rate(h))
            events = [(base + int(rng.random() * HOUR), -1) for _ in range(count)]
            for origin in range(max(0, h - 2), h + 1):
                if (incident := self._incident(origin)) is not None:
                    events += [(t, origin) for t in incident.times if base <= t < base + HOUR]
            events.sort()
            if len(self._slots) > 64:
                self._slots.clear()
            self._slots[h] = events
        return events

    def _locate(self, n: int) -> tuple[int, int]:
        """(timestamp, incident's slot or -1) of primary event n."""
        cum = self._cum
        while cum[-1] <= n:
            cum.append(cum[-1] + len(self._slot(len(cum) - 1)))
        h = bisect.bisect_right(cum, n) - 1
        return self._slot(h)[n - cum[h]]

    # -- primary events ---------------------------------------------------------------------

    def _person(self, k: int) -> Person:
        person = self._people.get(k)
        if person is None:
            rng = self._rng(3, k)
            person = self._people[k] = simtext.make_person(rng, k, self.brand_name)
        return person

    def _customer(self, rng: random.Random, *, uniform: bool = False) -> Person:
        u = rng.random()
        rank = int(u * POPULATION) if uniform else int((_ZIPF_TOP * u + 1) ** (1 / _ZIPF_A)) - 1
        return self._person((min(rank, POPULATION - 1) * 7919 + self.seed * 104_729) % POPULATION)

    def _primary(self, n: int, located: tuple[int, int] | None = None) -> InboundItem:
        item = self._items.get(n)
        if item is not None:
            return item
        ts, origin = located or self._locate(n)
        rng = self._rng(4, n)
        category = pick(rng, simtext.CATEGORIES)
        if origin >= 0:
            item = self._report(n, ts, rng, origin)
        elif category == "followup":
            item = self._followup(n, ts, rng) or self._fresh(n, ts, rng, "complaint")
        else:
            item = self._fresh(n, ts, rng, category)
        if len(self._items) >= _CACHE:  # keep the newest half: follow-ups look back a little
            self._items = dict(list(self._items.items())[_CACHE // 2 :])
        self._items[n] = item
        return item

    def _report(self, n: int, ts: int, rng: random.Random, origin: int) -> InboundItem:
        """A customer reporting the incident that began in slot `origin`."""
        incident = self._incident(origin)
        assert incident is not None
        person = self._customer(rng, uniform=True)
        slots = Slots(rng, person.lang, person.names)
        slots["city"], slots["line"] = incident.city, incident.line
        body = fill(rng.choice(simtext.INCIDENTS[incident.theme][person.lang]), slots)
        category = "complaint" if rng.random() < 0.7 else "question"
        sim = {"category": category, "topic": incident.theme, "incident": incident.id}
        return self._finish(n, ts, rng, slots, person, body, pick(rng, _INCIDENT_KINDS), sim)

    def _fresh(self, n: int, ts: int, rng: random.Random, category: str) -> InboundItem:
        person = self._customer(rng)
        slots = Slots(rng, person.lang, person.names)
        sim: dict[str, Any] = {"category": category, "incident": None}
        if category != "noise":
            kind = pick(rng, _KINDS)
            kind = _M if kind is _Q and category == "request" else kind
            sim["topic"], body = simtext.compose(rng, slots, category, direct=kind is _D)
        elif (subtype := pick(rng, simtext.NOISE_KINDS)) == "retweet":
            kind, sim["topic"] = _M, subtype
            post = fill(rng.choice(simtext.BRAND_POSTS[person.lang]), slots)
            body = f"RT @{self.brand_handle}: {post}"
        else:
            kind = _M if subtype == "spam" else pick(rng, _CHATTER_KINDS)
            sim["topic"] = subtype
            body = fill(rng.choice(simtext.NOISE[person.lang][subtype]), slots)
        return self._finish(n, ts, rng, slots, person, body, kind, sim)

    def _finish(
        self,
        n: int,
        ts: int,
        rng: random.Random,
        slots: Slots,
        person: Person,
        body: str,
        kind: MessageKind,
        sim: dict[str, Any],
    ) -> InboundItem:
        """Address the message as its kind requires and build the item."""
        handle, text = self.support_handle, body
        if body.startswith("RT @"):
            handle = self.brand_handle
        elif kind is _M:
            handle = self.brand_handle if rng.random() < 0.3 else handle
            text = f"@{handle} {body}" if rng.random() < 0.6 else f"{body} @{handle}"
        elif kind is _K and self.brand_name not in body:
            wrap = rng.choice(simtext.KEYWORD_WRAPS)
            text = wrap.format(name=self.brand_name, body=body, lower=simtext.lower_first(body))
        elif kind is _Q:
            handle = self.brand_handle
            sim["quoted"] = fill(rng.choice(simtext.BRAND_POSTS[person.lang]), slots)
        sim["seq"], sim["lang"] = n, person.lang
        if pii := [key for key in ("phone", "email", "ref", "order", "client") if key in slots]:
            sim["pii"] = pii
        metrics: dict[str, int] = {}
        if kind is not _D:
            likes = int(rng.random() ** 4 * (2 + person.info.followers**0.5))
            metrics = {"likes": likes, "reposts": likes // 5, "quotes": 0, "replies": 0}
        return InboundItem(
            network=self.network,
            external_id=f"sim{self.seed}-{n}",
            author=person.info,
            text=text,
            created_at=self._at(ts),
            kind=kind,
            account_handle=handle,
            conversation_id=f"sim{self.seed}-{n}",
            language=person.lang,
            metrics=metrics,
            raw={"sim": sim},
        )

    def _followup(self, n: int, ts: int, rng: random.Random) -> InboundItem | None:
        """The same customer chasing an earlier message of theirs, or None if that won't do."""
        m = n - 3 - int(rng.expovariate(1 / 40))
        parent = self._primary(m) if m >= 0 else None
        if parent is None or parent.kind is _Q or parent.raw["sim"]["category"] == "noise":
            return None
        if not 120_000_000 < ts - self._locate(m)[0] < 72 * HOUR:
            return None
        kind, psim = _D if parent.kind is _D else _R, parent.raw["sim"]
        person = self._person(int(parent.author.external_id.rsplit("-", 1)[1]))
        slots = Slots(rng, person.lang, person.names)
        topic, template = rng.choice(simtext.FLAT[(person.lang, "followup")])
        text = fill(template, slots)
        if kind is _R and rng.random() < 0.75:
            text = f"@{parent.account_handle} {text}"
        sim = {"category": "followup", "topic": topic, "incident": psim["incident"], "seq": n}
        sim.update(lang=person.lang, parent_category=psim["category"])
        return InboundItem(
            network=self.network,
            external_id=f"sim{self.seed}-{n}",
            author=parent.author,
            text=text,
            created_at=self._at(ts),
            kind=kind,
            account_handle=parent.account_handle,
            in_reply_to_id=parent.external_id,
            conversation_id=parent.conversation_id,
            language=person.lang,
            raw={"sim": sim},
        )

    # -- replies and reactive events --------------------------------------------------------

    def _answer(
        self, reply: OutboundReply, echo: InboundItem, parent: InboundItem | None, ts: int
    ) -> None:
        """Schedule the customer's reaction to our reply, if they react at all."""
        if parent is not None and parent.direction is Direction.IN:
            who, psim = parent.author.external_id, parent.raw.get("sim", {})
        elif parent is None and reply.private and reply.recipient_id:
            who, psim = reply.recipient_id, {}
        else:
            return
        prefix, _, k = who.rpartition("-")
        if prefix != "sim-user" or not k.isdigit() or int(k) >= POPULATION:
            return
        person, answered = self._person(int(k)), parent.external_id if parent else who
        count = self._answered[answered] = self._answered.get(answered, 0) + 1
        rng = random.Random(f"{self.seed}:a:{answered}:{count}")
        depth, category = psim.get("depth", 0), psim.get("category", "request")
        if depth >= 2:
            category = "late"
        elif any(word in reply.text for word in simtext.ASKS):
            category = "asked"
        outcome = pick(rng, simtext.OUTCOMES.get(category, simtext.OUTCOMES["other"]))
        if outcome == "none":
            return
        slots = Slots(rng, person.lang, person.names)
        text = fill(rng.choice(simtext.ANSWERS[person.lang][outcome]), slots)
        text = text if reply.private else f"@{echo.account_handle} {text}"
        at = self._free(ts + int(60e6 * min(240.0, 1.5 + rng.expovariate(1 / 7))))
        sim = {"category": outcome, "lang": person.lang, "incident": psim.get("incident")}
        sim.update(reactive=True, depth=depth + 1, answered=answered)
        answer = InboundItem(
            network=self.network,
            external_id=f"simre{self.seed}-{at}",
            author=person.info,
            text=text,
            created_at=self._at(at),
            kind=_D if reply.private else _R,
            account_handle=echo.account_handle,
            in_reply_to_id=echo.external_id,
            conversation_id=echo.conversation_id,
            language=person.lang,
            raw={"sim": sim},
        )
        self._add(at, answer)

    def _free(self, ts: int) -> int:
        """The first timestamp from ts not used by another reactive event."""
        while ts in self._taken:
            ts += 1
        return ts

    def _add(self, ts: int, item: InboundItem) -> None:
        self._taken.add(ts)
        bisect.insort(self._reactive, (ts, item), key=lambda e: e[0])
        self._known[item.external_id] = item

    def _lookup(self, external_id: str) -> InboundItem | None:
        known = self._known.get(external_id)
        prefix = f"sim{self.seed}-"
        if known is None and external_id.startswith(prefix):
            n = external_id[len(prefix) :]
            if n.isdigit() and (self.limit_total is None or int(n) < self.limit_total):
                return self._primary(int(n))
        return known

    def _own(self, handle: str) -> str:
        for own, _ in self.accounts():
            if own.lower() == handle.lstrip("@").lower():
                return own
        raise ValueError(f"{handle!r} is not an account of this simulated brand")

    def _parse(self, cursor: str | None) -> tuple[int, int]:
        """(primary events delivered, timestamp of the last reactive event delivered)."""
        try:
            p, last = (int(part) for part in (cursor or "0:0").split(":"))
        except ValueError:
            raise ValueError(f"bad simulated-network cursor {cursor!r}") from None
        if p < 0 or last < 0:
            raise ValueError(f"bad simulated-network cursor {cursor!r}")
        self._hw = max(self._hw, last, self._locate(p - 1)[0] if p else 0)
        return p, last
