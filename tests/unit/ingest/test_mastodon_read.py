"""Paging with resumable cursors, against a fake server with Mastodon's id semantics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from carebird.errors import RateLimited
from carebird.ingest.base import AuthorInfo, InboundItem
from carebird.ingest.mastodon.read import Entry, read_down, read_up


class FakeList:
    """Entries 1..n; pages like Mastodon (min_id: just above; else newest below max_id)."""

    def __init__(self, n: int, *, fail_on_call: int | None = None) -> None:
        self.ids = list(range(1, n + 1))
        self.calls = 0
        self.fail_on_call = fail_on_call

    def _tick(self) -> None:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise RateLimited("storm", retry_after=600)

    def up(self, after: str | None, want: int) -> list[Entry]:
        self._tick()
        above = [i for i in self.ids if i > int(after or 0)][:want]
        return [{"id": str(i)} for i in reversed(above)]  # Mastodon: newest first

    def down(self, after: str | None, below: str | None, want: int) -> list[Entry]:
        self._tick()
        ids = [i for i in self.ids if (below is None or i < int(below)) and i > int(after or 0)]
        return [{"id": str(i)} for i in sorted(ids, reverse=True)[:want]]


def build(entry: Entry) -> InboundItem | None:
    if int(entry["id"]) % 10 == 0:
        return None  # another stream's
    return InboundItem(
        network="mastodon",
        external_id=str(entry["id"]),
        author=AuthorInfo(external_id="1", handle="a"),
        text="t",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def ids(items: Any) -> list[int]:
    return [int(i.external_id) for i in items]


def test_read_up_resumes_after_an_interruption_without_skip_or_repeat() -> None:
    server = FakeList(130, fail_on_call=3)
    first = read_up(None, 500, server.up, build, source="t")
    assert first.more and ids(first.items) == [i for i in range(1, 81) if i % 10]
    rest = read_up(first.cursor, 500, server.up, build, source="t")
    assert not rest.more and ids(rest.items) == [i for i in range(81, 131) if i % 10]
    with pytest.raises(RateLimited):  # nothing read: the wait is the caller's
        read_up(rest.cursor, 500, FakeList(130, fail_on_call=1).up, build, source="t")


def test_read_up_bounds_a_batch_by_limit() -> None:
    server = FakeList(100)
    batch = read_up(None, 25, server.up, build, source="t")
    assert batch.more and ids(batch.items)[-1] == 25
    assert read_up(batch.cursor, 500, server.up, build, source="t").items[0].external_id == "26"


def test_read_down_walks_a_pass_and_resumes_it() -> None:
    server = FakeList(150, fail_on_call=3)
    first = read_down(None, 500, server.down, build, source="t")
    assert first.more and ids(first.items) == [i for i in range(150, 70, -1) if i % 10]
    rest = read_down(first.cursor, 500, server.down, build, source="t")
    assert not rest.more and ids(rest.items) == [i for i in range(70, 0, -1) if i % 10]
    server.ids += [151, 152]
    new = read_down(rest.cursor, 500, server.down, build, source="t")
    assert ids(new.items) == [152, 151] and not new.more
    assert read_down(new.cursor, 500, server.down, build, source="t").items == []


def test_read_down_ends_when_the_server_ignores_max_id() -> None:
    server = FakeList(100)

    def ignores_paging(after: str | None, below: str | None, want: int) -> list[Entry]:
        return server.down(after, None, want)

    result = read_down(None, 500, ignores_paging, build, source="t")
    assert not result.more and ids(result.items) == [i for i in range(100, 60, -1) if i % 10]
