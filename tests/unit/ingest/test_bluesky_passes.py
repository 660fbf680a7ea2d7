"""The newest-first pass: resumable, nothing skipped or repeated, ties on indexedAt included."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from carebird.errors import RateLimited
from carebird.ingest.bluesky.passes import Page, PassState, PassWalker


@dataclass(frozen=True)
class Entry:
    at: str
    uri: str


class Listing:
    """A newest-first listing with a stable keyset cursor (position counted from the oldest)."""

    def __init__(self, size: int = 3) -> None:
        self.entries: list[Entry] = []  # oldest first
        self.size = size
        self.fail_at: set[int] = set()
        self.calls = 0

    def add(self, at: str, uri: str) -> None:
        self.entries.append(Entry(f"2026-01-01T00:00:{at}Z", uri))

    def page(self, cursor: str | None) -> Page[Entry]:
        self.calls += 1
        if self.calls in self.fail_at:
            raise RateLimited("429", retry_after=300)
        end = int(cursor) if cursor else len(self.entries)
        start = max(0, end - self.size)
        chosen = list(reversed(self.entries[start:end]))
        return Page(chosen, str(start) if start > 0 else None)


def drain(listing: Listing, cursor: str | None, limit: int = 2) -> tuple[list[str], str]:
    walker = PassWalker(listing.page, lambda e: (e.at, e.uri))
    got: list[str] = []
    while True:
        items, state, more = walker.walk(
            PassState.decode(cursor), limit, lambda es: [e.uri for e in es], lambda e, i: bool(i)
        )
        got += items
        cursor = state.encode()
        if not more:
            return got, cursor


def test_first_pass_reads_everything_once() -> None:
    listing = Listing()
    for i in range(10):
        listing.add("01.000", f"u{i}")  # all in the same millisecond
    got, _ = drain(listing, None)
    assert sorted(got) == sorted(f"u{i}" for i in range(10))
    assert len(got) == 10


def test_next_pass_reads_only_new_entries_even_at_the_same_time() -> None:
    listing = Listing()
    for i in range(5):
        listing.add("01.000", f"old{i}")
    _, cursor = drain(listing, None)
    listing.add("01.000", "tie")  # indexed in the very millisecond of the mark
    listing.add("02.000", "late")
    got, cursor = drain(listing, cursor)
    assert sorted(got) == ["late", "tie"]
    got, _ = drain(listing, cursor)
    assert got == []


def test_mark_keeps_all_uris_of_its_time_across_pages() -> None:
    listing = Listing(size=2)
    for i in range(7):
        listing.add("05.000", f"same{i}")  # the top time spans four pages
    _, cursor = drain(listing, None, limit=1)
    got, _ = drain(listing, cursor)
    assert got == []


def test_interrupted_pass_resumes_where_it_stopped() -> None:
    listing = Listing()
    for i in range(9):
        listing.add(f"{i:02d}.000", f"u{i}")
    walker = PassWalker(listing.page, lambda e: (e.at, e.uri))
    listing.fail_at = {2}  # the second page answers 429
    items, state, more = walker.walk(
        PassState(), 100, lambda es: [e.uri for e in es], lambda e, i: bool(i)
    )
    assert items == ["u8", "u7", "u6"] and more
    listing.add("50.000", "during")  # arrives mid-pass: read by the next pass
    rest, cursor = drain(listing, state.encode())
    assert rest == ["u5", "u4", "u3", "u2", "u1", "u0"]
    again, _ = drain(listing, cursor)
    assert again == ["during"]


def test_error_without_items_propagates() -> None:
    listing = Listing()
    listing.add("01.000", "u")
    listing.fail_at = {1}
    walker = PassWalker(listing.page, lambda e: (e.at, e.uri))
    with pytest.raises(RateLimited):
        walker.walk(PassState(), 10, lambda es: [e.uri for e in es], lambda e, i: bool(i))


def test_failed_delivery_does_not_advance() -> None:
    listing = Listing()
    for i in range(3):
        listing.add("01.000", f"u{i}")
    walker = PassWalker(listing.page, lambda e: (e.at, e.uri))

    def boom(entries: list[Entry]) -> list[str]:
        raise RateLimited("hydration 429", retry_after=300)

    with pytest.raises(RateLimited):
        walker.walk(PassState(), 10, boom, lambda e, i: bool(i))
    got, _ = drain(listing, None)
    assert sorted(got) == ["u0", "u1", "u2"]


def test_bad_cursor() -> None:
    with pytest.raises(ValueError):
        PassState.decode("not json")


def test_crowded_millisecond_keeps_the_cursor_short() -> None:
    listing = Listing(size=4)
    for i in range(40):
        listing.add("07.000", f"crowd{i}")  # more than the digests a cursor keeps
    got, cursor = drain(listing, None, limit=3)
    assert len(got) == 40 and len(cursor) < 500
    listing.add("08.000", "next")
    assert drain(listing, cursor)[0] == ["next"]
