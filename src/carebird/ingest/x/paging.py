"""X's polling rules, as one resumable pass over a newest-first listing.

X lists mentions, search results and DM events newest first (a fetch returns its items oldest
first, so that the store sees a thread in order). One *pass* reads from the newest
down to the high-water mark: timelines take `since_id` (the same on every page of the pass) and
page with `pagination_token`; the DM listing has no `since_id`, so the pass stops at the first
event at or below the mark. The next mark is the newest id of the pass's *first* page — not of
its last page, which is the oldest.

The cursor is JSON {"since", "next", "newest"}: the mark, the token of the page still to read
(null between passes) and the newest id of the pass under way. A pass cut short by `limit`, a
long 429 or a crash resumes from `next` with the same `since`, so nothing is skipped; a crash
before the commit re-reads pages the store then deduplicates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from carebird.errors import BudgetExhausted, InvalidInput, RateLimited, TransientNetworkError
from carebird.ingest.base import FetchResult, InboundItem
from carebird.ingest.calls import Backoff
from carebird.ingest.x.normalize import Page

_INTERRUPTIONS = (RateLimited, TransientNetworkError, BudgetExhausted)


@dataclass(frozen=True)
class PassCursor:
    since: str | None = None  # high-water mark: newest id of the last complete pass
    next: str | None = None  # pagination token of the next page of the pass under way
    newest: str | None = None  # newest id of the pass under way (its first page's newest)

    def dumps(self) -> str:
        return json.dumps(
            {"since": self.since, "next": self.next, "newest": self.newest},
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, text: str | None) -> PassCursor:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(since=data.get("since"), next=data.get("next"), newest=data.get("newest"))
        except (ValueError, AttributeError):
            raise InvalidInput(f"bad X cursor {text!r}") from None


@dataclass(frozen=True)
class PageRead:
    """What one page gave: its items above the mark, and whether it reached the mark."""

    page: Page
    items: Sequence[InboundItem]
    reached_mark: bool = False


# (since, pagination token, max results) -> the page read
ReadPage = Callable[[str | None, str | None, int], PageRead]


def run_pass(
    cursor: PassCursor,
    *,
    limit: int,
    read: ReadPage,
    backoff: Backoff,
    page_size: int = 100,
    min_page: int = 5,
    what: str = "X page",
    afford: Callable[[], int | None] = lambda: None,
) -> FetchResult:
    """Read pages of the pass under way (or start one) until `limit` items or its end.

    `afford` says how many more posts the monthly cap allows: near the cap pages shrink, and
    below X's smallest page the pass stops (keeping what it holds) instead of overspending.
    """
    if limit <= 0:
        raise ValueError("limit must be positive")
    items: list[InboundItem] = []
    cur = cursor
    while True:
        want = _affordable(max(min_page, min(page_size, limit - len(items))), afford(), min_page)
        if want is None:
            if items:
                return FetchResult(items=items, cursor=cur.dumps(), more=True)
            raise BudgetExhausted(f"{what}: the monthly API cap leaves no room for a page")
        since, token = cur.since, cur.next
        try:
            got = backoff.run(partial(read, since, token, want), what=what)
        except _INTERRUPTIONS:
            if not items:
                raise
            return FetchResult(items=items, cursor=cur.dumps(), more=True)  # resume later
        items[:0] = reversed(got.items)  # X lists newest first; the desk reads in time order
        cur, over = _after_page(cur, got)
        if over:
            return FetchResult(items=items, cursor=cur.dumps(), more=False)
        if len(items) >= limit:
            return FetchResult(items=items, cursor=cur.dumps(), more=True)


def _affordable(want: int, budget: int | None, min_page: int) -> int | None:
    """The page size to ask for under the monthly cap's `budget` (None: no limit), or None
    when not even the smallest page fits."""
    if budget is None or budget >= want:
        return want
    return budget if budget >= min_page else None


def _after_page(cur: PassCursor, got: PageRead) -> tuple[PassCursor, bool]:
    """The cursor after a page, and whether the pass is over (then the next pass's cursor)."""
    if cur.next is None:  # the pass's first page: its newest id is the next mark
        cur = replace(cur, newest=_newest(got.page) or cur.newest)
    token = got.page.next_token
    if token and not got.reached_mark:
        return replace(cur, next=token), False
    return PassCursor(since=cur.newest or cur.since), True


def _newest(page: Page) -> str | None:
    if page.newest_id:
        return page.newest_id
    ids = [str(d["id"]) for d in page.data if str(d.get("id", "")).isdigit()]
    return max(ids, key=int) if ids else None  # DM listings carry no newest_id


def above(mark: str | None, external_id: str) -> bool:
    return mark is None or int(external_id) > int(mark)
