"""A simulated social network: deterministic customer-care traffic for demos, tests, benchmarks.

Primary events
    What customers write of their own accord. When they write is simstream.py's model
    (hourly slots, Poisson counts, incidents) and what they write is simevents.py's; both
    derive everything from the seed, so any position of the stream is generated without the
    others. This module is the connector: cursors, time modes and replies.

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
from datetime import UTC, datetime, timedelta

from carebird.ingest.base import (
    AuthorInfo,
    Direction,
    FetchResult,
    InboundItem,
    MessageKind,
    OutboundReply,
    SentReceipt,
)
from carebird.ingest.sim import text as simtext
from carebird.ingest.sim.events import POPULATION, PrimaryEvents
from carebird.ingest.sim.stream import HOUR as HOUR
from carebird.ingest.sim.stream import SimStream
from carebird.ingest.sim.text import Slots, fill, pick

DEFAULT_START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
_BACKLOG = timedelta(minutes=15)
_R, _D = MessageKind.REPLY, MessageKind.DIRECT


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SimulatedNetwork:
    """A deterministic stream of customers writing to a fictional brand (see module doc)."""

    network = "sim"
    idempotent_send = True  # receipts are kept by idempotency key: a retry returns the first

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
        self._stream = SimStream(seed=seed, start=self.start, rate_per_hour=rate_per_hour)
        self._events = PrimaryEvents(
            self._stream,
            network=self.network,
            support_handle=self.support_handle,
            brand_handle=self.brand_handle,
            brand_name=self.brand_name,
        )
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
            head = self._stream.locate(p) if p < end else None
            tp = head[0] if head is not None else math.inf
            tr = reactive[r][0] if r < len(reactive) else math.inf
            t = tp if tp <= tr else tr
            more = t <= horizon and t < math.inf
            if not more or len(items) >= limit:
                break
            if head is not None and tp <= tr:
                items.append(self._events.primary(p, head))
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
            created_at=self._stream.at(ts),
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
        if prefix != "sim-user" or not k.isdecimal() or int(k) >= POPULATION:
            return
        person, answered = self._events.person(int(k)), parent.external_id if parent else who
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
            created_at=self._stream.at(at),
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
            if n.isdecimal() and (self.limit_total is None or int(n) < self.limit_total):
                return self._events.primary(int(n))
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
        self._hw = max(self._hw, last, self._stream.locate(p - 1)[0] if p else 0)
        return p, last
