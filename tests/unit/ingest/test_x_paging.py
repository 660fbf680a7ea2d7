"""X's polling rules on a fake newest-first listing: same since_id on every page of a pass, the
next since_id is the first page's newest_id, an interrupted pass resumes exactly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from carebird.errors import RateLimited, TransientNetworkError
from carebird.ingest.base import AuthorInfo, InboundItem
from carebird.ingest.calls import Backoff
from carebird.ingest.x.normalize import Page
from carebird.ingest.x.paging import PageRead, PassCursor, above, run_pass


class Listing:
    """Ids 1..n, served newest first like X, recording every (since, token, size) asked."""

    def __init__(self, n: int) -> None:
        self.ids = list(range(1, n + 1))
        self.calls: list[tuple[str | None, str | None, int]] = []
        self.fail: list[Exception] = []

    def add(self, count: int) -> None:
        top = self.ids[-1] if self.ids else 0
        self.ids += list(range(top + 1, top + 1 + count))

    def read(self, since: str | None, token: str | None, size: int) -> PageRead:
        self.calls.append((since, token, size))
        if self.fail:
            raise self.fail.pop(0)
        upper = int(token) if token else None
        kept = [
            i
            for i in reversed(self.ids)
            if (since is None or i > int(since)) and (upper is None or i <= upper)
        ]
        page, rest = kept[:size], kept[size:]
        meta: dict[str, object] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=str(page[0]), oldest_id=str(page[-1]))
        if rest:
            meta["next_token"] = str(rest[0])
        body = {"data": [{"id": str(i)} for i in page], "meta": meta}
        return PageRead(Page(body), [_item(i) for i in page])


def _item(i: int) -> InboundItem:
    return InboundItem(
        network="x",
        external_id=str(i),
        author=AuthorInfo("1", "a"),
        text=str(i),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def _ids(items: object) -> list[int]:
    return [int(i.external_id) for i in items]  # type: ignore[attr-defined]


NO_SLEEP = Backoff(sleep=lambda _: None)


def test_one_pass_keeps_since_id_and_takes_the_first_pages_newest() -> None:
    listing = Listing(250)
    first = run_pass(PassCursor(), limit=1000, read=listing.read, backoff=NO_SLEEP)
    assert sorted(_ids(first.items)) == list(range(1, 251)) and not first.more
    assert [c[0] for c in listing.calls] == [None, None, None]
    assert PassCursor.loads(first.cursor) == PassCursor(since="250")

    listing.add(130)
    listing.calls.clear()
    second = run_pass(
        PassCursor.loads(first.cursor), limit=1000, read=listing.read, backoff=NO_SLEEP
    )
    assert sorted(_ids(second.items)) == list(range(251, 381))
    assert [c[0] for c in listing.calls] == ["250", "250"]  # the same since_id on each page
    assert PassCursor.loads(second.cursor).since == "380"  # first page's newest, not the last's


def test_limit_splits_a_pass_and_new_posts_wait_for_the_next_pass() -> None:
    listing = Listing(300)
    seen: list[int] = []
    cursor = PassCursor()
    result = run_pass(cursor, limit=120, read=listing.read, backoff=NO_SLEEP)
    assert len(result.items) == 120 and result.more
    seen += _ids(result.items)
    listing.add(40)  # arrives mid-pass: newer than the pass's mark, read by the next pass
    while result.more:
        result = run_pass(
            PassCursor.loads(result.cursor), limit=120, read=listing.read, backoff=NO_SLEEP
        )
        seen += _ids(result.items)
    assert sorted(seen) == list(range(1, 301))
    assert PassCursor.loads(result.cursor).since == "300"
    result = run_pass(
        PassCursor.loads(result.cursor), limit=120, read=listing.read, backoff=NO_SLEEP
    )
    assert sorted(_ids(result.items)) == list(range(301, 341))


def test_an_interrupted_pass_returns_what_it_has_and_resumes_exactly() -> None:
    listing = Listing(250)
    listing.fail = [RateLimited("429", retry_after=900)]
    real = listing.read
    calls = 0

    def read(since: str | None, token: str | None, size: int) -> PageRead:
        nonlocal calls
        calls += 1
        if calls == 1:  # the first page passes, the storm starts at the second
            saved, listing.fail = listing.fail, []
            try:
                return real(since, token, size)
            finally:
                listing.fail = saved
        return real(since, token, size)

    cut = run_pass(PassCursor(), limit=1000, read=read, backoff=NO_SLEEP)
    assert _ids(cut.items) == list(range(151, 251)) and cut.more  # oldest first
    state = PassCursor.loads(cut.cursor)
    assert state.since is None and state.next == "150" and state.newest == "250"

    rest = run_pass(state, limit=1000, read=listing.read, backoff=NO_SLEEP)
    assert _ids(rest.items) == list(range(1, 151))
    assert PassCursor.loads(rest.cursor) == PassCursor(since="250")


def test_failures_with_nothing_in_hand_are_raised_and_short_ones_retried() -> None:
    listing = Listing(10)
    listing.fail = [RateLimited("429", retry_after=600)]
    with pytest.raises(RateLimited):
        run_pass(PassCursor(), limit=50, read=listing.read, backoff=NO_SLEEP)
    sleeps: list[float] = []
    listing.fail = [TransientNetworkError("503"), RateLimited("429", retry_after=2.0)]
    result = run_pass(
        PassCursor(), limit=50, read=listing.read, backoff=Backoff(sleep=sleeps.append)
    )
    assert len(result.items) == 10 and len(sleeps) == 2 and sleeps[1] == 2.0


def test_a_listing_without_since_id_stops_at_the_mark() -> None:
    """The DM listing: the connector filters ids above the mark and reports reaching it."""
    listing = Listing(30)

    def read(since: str | None, token: str | None, size: int) -> PageRead:
        got = listing.read(None, token, size)
        fresh = [i for i in got.items if above(since, i.external_id)]
        return PageRead(got.page, fresh, reached_mark=len(fresh) < len(got.page.data))

    first = run_pass(PassCursor(), limit=100, read=read, backoff=NO_SLEEP, page_size=10)
    assert len(first.items) == 30 and PassCursor.loads(first.cursor).since == "30"
    listing.add(14)
    second = run_pass(
        PassCursor.loads(first.cursor), limit=100, read=read, backoff=NO_SLEEP, page_size=10
    )
    assert _ids(second.items) == list(range(31, 45))
    assert len(listing.calls) == 3 + 2  # stopped at the page holding the mark


def test_bad_cursor_is_refused() -> None:
    with pytest.raises(Exception, match="bad X cursor"):
        PassCursor.loads("not json")
