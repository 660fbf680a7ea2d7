"""What the simulated network's customers write: the content of primary events.

Primary event n (its time and incident come from simstream.py) is built from an RNG seeded
with (seed, n), so any position is generated without the others. Its author is one of
`POPULATION` simulated people, drawn so that a few customers write often and most once or
twice (an incident's reporters are drawn uniformly); the words come from simtext.py.
Follow-ups ("toujours rien ?") regenerate the earlier event they answer, a few dozen back.
"""

from __future__ import annotations

import random
from typing import Any

from carebird.ingest.base import InboundItem, MessageKind
from carebird.ingest.sim import text as simtext
from carebird.ingest.sim.stream import HOUR, SimStream
from carebird.ingest.sim.text import Person, Slots, fill, pick, table

POPULATION = 20_000
_ZIPF_A = 0.4  # P(rank k) ~ k^-(1 - a): a few customers write often, most once or twice
_ZIPF_TOP = POPULATION**_ZIPF_A - 1
_CACHE = 4096
_M, _R, _D = MessageKind.MENTION, MessageKind.REPLY, MessageKind.DIRECT
_K, _Q = MessageKind.KEYWORD, MessageKind.QUOTE
_KINDS = table((_M, 72), (_D, 14), (_K, 9), (_Q, 5))
_CHATTER_KINDS = table((_M, 50), (_K, 40), (_Q, 10))
_INCIDENT_KINDS = table((_M, 80), (_K, 15), (_D, 5))


class PrimaryEvents:
    """The customers and their messages: primary event n of a stream, as an item."""

    def __init__(
        self,
        stream: SimStream,
        *,
        network: str,
        support_handle: str,
        brand_handle: str,
        brand_name: str,
    ) -> None:
        self.network, self.seed, self._stream = network, stream.seed, stream
        self.support_handle, self.brand_handle = support_handle, brand_handle
        self.brand_name = brand_name
        self._items: dict[int, InboundItem] = {}
        self._people: dict[int, Person] = {}

    def person(self, k: int) -> Person:
        person = self._people.get(k)
        if person is None:
            rng = self._stream.rng(3, k)
            person = self._people[k] = simtext.make_person(rng, k, self.brand_name)
        return person

    def _customer(self, rng: random.Random, *, uniform: bool = False) -> Person:
        u = rng.random()
        rank = int(u * POPULATION) if uniform else int((_ZIPF_TOP * u + 1) ** (1 / _ZIPF_A)) - 1
        return self.person((min(rank, POPULATION - 1) * 7919 + self.seed * 104_729) % POPULATION)

    def primary(self, n: int, located: tuple[int, int] | None = None) -> InboundItem:
        item = self._items.get(n)
        if item is not None:
            return item
        ts, origin = located or self._stream.locate(n)
        rng = self._stream.rng(4, n)
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
        incident = self._stream.incident(origin)
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
            created_at=self._stream.at(ts),
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
        parent = self.primary(m) if m >= 0 else None
        if parent is None or parent.kind is _Q or parent.raw["sim"]["category"] == "noise":
            return None
        if not 120_000_000 < ts - self._stream.locate(m)[0] < 72 * HOUR:
            return None
        kind, psim = _D if parent.kind is _D else _R, parent.raw["sim"]
        person = self.person(int(parent.author.external_id.rsplit("-", 1)[1]))
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
            created_at=self._stream.at(ts),
            kind=kind,
            account_handle=parent.account_handle,
            in_reply_to_id=parent.external_id,
            conversation_id=parent.conversation_id,
            language=person.lang,
            raw={"sim": sim},
        )
