"""Reading a newest-first listing exactly once: notifications, searches, the brand's own feed.

Bluesky lists these newest first, paged with an opaque cursor. A *pass* walks down from the top
until it reaches the high-water mark of the previous pass, so everything newer is read once:

* The mark is (`at`, `ids`): the newest sort time seen (`indexedAt`) and short digests of the
  URIs carrying exactly that time. An entry older than `at` ends the pass; an entry at `at` whose
  digest is in `ids` was delivered before and is skipped; anything else is new. Keeping the
  digests makes ties safe: two posts indexed in the same millisecond, one seen by the last pass
  and one not, are neither repeated nor skipped. The desk stores cursors of at most 500
  characters, so at most 8 digests are kept; when more entries share the top time, `ids` is
  dropped and the whole millisecond counts as seen (only an entry indexed in that same
  millisecond after the listing was made could then be missed).
* The new mark is the top of the pass: the first entry read, plus every later entry with the same
  time (the skipped ones included). It replaces the old mark only when the pass completes.
* A pass may span many fetches (a `limit` reached, a 429 storm, a crash): the cursor then carries
  the old mark, the top so far and the API cursor of the next page. A page is taken whole or not
  at all, so resuming re-reads nothing and loses nothing; entries that arrive meanwhile are above
  the pass's top and are read by the next pass.

This assumes the listing's order is by the same time it reports (true of the reference AppView
for notifications and feeds) and that its page cursor is a stable keyset. An offset cursor (as
search may use) can only repeat entries when new ones push the list down, never skip them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

E = TypeVar("E")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


MAX_IDS = 8


def digest(uri: str) -> str:
    """8 base32 characters (40 bits) of the URI's SHA-256: enough to tell a few URIs apart."""
    return base64.b32encode(hashlib.sha256(uri.encode()).digest()[:5]).decode().lower()


@dataclass
class Mark:
    at: str
    ids: list[str] | None = field(default_factory=list)  # None: every entry at `at` is seen

    def seen(self, uri: str) -> bool:
        return self.ids is None or digest(uri) in self.ids

    def add(self, uri: str) -> None:
        if self.ids is None:
            return
        key = digest(uri)
        if key not in self.ids:
            self.ids.append(key)
            if len(self.ids) > MAX_IDS:
                self.ids = None

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at, "ids": self.ids}


@dataclass
class PassState:
    mark: Mark | None = None  # the high-water mark of the last complete pass
    top: Mark | None = None  # the newest entries of the pass in progress
    page: str | None = None  # the API cursor of the next page of the pass in progress
    started: bool = False

    def encode(self) -> str:
        body: dict[str, Any] = {"m": self.mark.as_json() if self.mark else None}
        if self.started:
            body["p"] = {"t": self.top.as_json() if self.top else None, "c": self.page}
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def decode(cls, cursor: str | None) -> PassState:
        if not cursor:
            return cls()
        try:
            body = json.loads(cursor)
            mark = Mark(**body["m"]) if body.get("m") else None
            running = body.get("p")
            if running is None:
                return cls(mark=mark)
            top = Mark(**running["t"]) if running.get("t") else None
            return cls(mark=mark, top=top, page=running.get("c"), started=True)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ValueError(f"bad Bluesky cursor {cursor!r}") from None


@dataclass(frozen=True)
class Page(Generic[E]):
    entries: Sequence[E]
    cursor: str | None


@dataclass
class PassWalker(Generic[E]):
    """Walk a newest-first listing. `list_page(cursor)` returns a page of raw entries;
    `key(entry)` its (sort time, uri); `deliver(entries)` turns a page's new entries into items
    (it may call the network to hydrate them, and may raise before anything is committed)."""

    list_page: Callable[[str | None], Page[E]]
    key: Callable[[E], tuple[str, str]]

    def walk(
        self,
        state: PassState,
        limit: int,
        deliver: Callable[[list[E]], list[Any]],
        on_error: Callable[[Exception, list[Any]], bool],
    ) -> tuple[list[Any], PassState, bool]:
        """Return (items, new state, more). `on_error(exc, items)` says whether to stop and
        return what is held (True) or let the exception propagate (False)."""
        items: list[Any] = []
        while True:
            try:
                page = self.list_page(state.page if state.started else None)
                fresh, top, done = self._scan(state, page)
                items.extend(deliver(fresh))
            except Exception as exc:
                if on_error(exc, items):
                    return items, state, True
                raise
            state = PassState(state.mark, top, page.cursor, started=True)
            if done or not page.cursor or not page.entries:
                return items, PassState(mark=state.top or state.mark), False
            if len(items) >= limit:
                return items, state, True

    def _scan(self, state: PassState, page: Page[E]) -> tuple[list[E], Mark | None, bool]:
        mark = state.mark
        mark_time = parse_time(mark.at) if mark else None
        top = state.top
        top = Mark(top.at, None if top.ids is None else list(top.ids)) if top else None
        top_time = parse_time(top.at) if top else None
        fresh: list[E] = []
        for entry in page.entries:
            at, uri = self.key(entry)
            when = parse_time(at)
            if mark_time is not None and when < mark_time:
                return fresh, top, True
            if top is None or top_time is None:
                top, top_time = Mark(at, [digest(uri)]), when
            elif when == top_time:
                top.add(uri)
            if mark is not None and when == mark_time and mark.seen(uri):
                continue
            fresh.append(entry)
        return fresh, top, False
