"""Paging through Mastodon lists with a cursor that resumes exactly (see mastodon.py).

Mastodon pages by status/notification id. `read_up` reads oldest first with `min_id` (the
server returns the page just above it): the cursor {"after": id} is exact after every entry,
so an interrupted pass (a 429 storm, a crash, the budget cap) resumes where it stopped and
never repeats or skips. `read_down` is for lists that only come newest first (search): a pass
walks down with `max_id` to the previous high-water mark, its cursor being
{"after": hw, "top": newest seen, "below": lowest seen} while the walk is unfinished and
{"after": top} once it is. A server that ignores `max_id` (the walk would see the same page
again) simply ends the walk.

Either way, a `ConnectorError` (retries exhausted, a long 429, the budget) after some progress
returns what was read with the cursor that resumes it (`more=True`); without progress it
propagates, so the poll loop learns the wait.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from carebird.errors import ConnectorError, InvalidInput
from carebird.ingest.base import FetchResult, InboundItem
from carebird.ingest.mastodon.items import id_key, sid

log = logging.getLogger(__name__)
PAGE = 40  # notifications, statuses and search all accept 40 per page on every server
Entry = Mapping[str, Any]
Build = Callable[[Entry], InboundItem | None]  # None: not this stream's
ReadUp = Callable[[str | None, int], list[Entry]]  # (after, want)
ReadDown = Callable[[str | None, str | None, int], list[Entry]]  # (after, below, want)


def load_cursor(cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError as exc:
        raise InvalidInput(f"not a Mastodon cursor: {cursor!r}") from exc
    if not isinstance(state, dict):
        raise InvalidInput(f"not a Mastodon cursor: {cursor!r}")
    return {k: str(v) for k, v in state.items() if v is not None}


def dump_cursor(**state: str | None) -> str:
    return json.dumps({k: v for k, v in state.items() if v is not None}, separators=(",", ":"))


def read_up(
    cursor: str | None, limit: int, read: ReadUp, build: Build, *, source: str
) -> FetchResult:
    start = after = load_cursor(cursor).get("after")
    items: list[InboundItem] = []
    scanned, more = 0, False
    try:
        while scanned < limit:
            want = min(PAGE, limit - scanned)
            page = sorted(read(after, want), key=lambda e: id_key(sid(e)))
            more = len(page) >= want
            for entry in page:
                item = build(entry)  # may call the API (a thread's root): may fail mid-page
                after, scanned = sid(entry), scanned + 1
                if item is not None:
                    items.append(item)
            if not more:
                break
    except ConnectorError as exc:
        if after == start:
            raise
        log.info("%s: stopped after %d entries (%s); resuming later", source, scanned, exc)
        more = True
    return FetchResult(items, dump_cursor(after=after) if after else cursor, more)


def read_down(
    cursor: str | None, limit: int, read: ReadDown, build: Build, *, source: str
) -> FetchResult:
    state = load_cursor(cursor)
    after, top, below = state.get("after"), state.get("top"), state.get("below")
    start = (top, below)
    items: list[InboundItem] = []
    scanned, done = 0, False
    try:
        while scanned < limit:
            want = min(PAGE, limit - scanned)
            page = read(after, below, want)
            fresh = [
                e
                for e in page
                if (below is None or id_key(sid(e)) < id_key(below))
                and (after is None or id_key(sid(e)) > id_key(after))
            ]
            for entry in sorted(fresh, key=lambda e: id_key(sid(e)), reverse=True):
                item = build(entry)
                top, below, scanned = top or sid(entry), sid(entry), scanned + 1
                if item is not None:
                    items.append(item)
            if len(page) < want or not fresh:
                done = True
                break
    except ConnectorError as exc:
        if (top, below) == start:
            raise
        log.info("%s: stopped after %d entries (%s); resuming later", source, scanned, exc)
    if done:
        high = top or after
        return FetchResult(items, dump_cursor(after=high) if high else None)
    return FetchResult(items, dump_cursor(after=after, top=top, below=below), more=True)
