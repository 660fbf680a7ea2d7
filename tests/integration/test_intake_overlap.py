"""Batch N+1 normalised and understood while batch N is written (flows.intake.prepared_ahead):
the desk makes exactly what the one-batch-at-a-time pipeline made, and a failure while
preparing surfaces without losing or doubling anything."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select

from carebird.db.database import Database
from carebird.flows.intake import Intake, drain, prepared_ahead, process_batch
from carebird.ingest.base import InboundItem
from carebird.ingest.models import Cursor, Message
from carebird.ingest.sim.network import SimulatedNetwork
from carebird.jobs.runner import register_accounts
from tests.factories import intake_for
from tests.support.fingerprint import BATCH, FROZEN_AT, MESSAGES, REFERENCE, SEED, fingerprint


def _items() -> list[InboundItem]:
    sim = SimulatedNetwork(seed=SEED, limit_total=MESSAGES)
    items: list[InboundItem] = []
    cursor = None
    while True:
        fetched = sim.fetch(cursor, limit=500)
        items.extend(fetched.items)
        cursor = fetched.cursor
        if not fetched.more:
            return items


def _assert_reference(db: Database) -> None:
    reference = json.loads(REFERENCE.read_text())
    now = json.loads(json.dumps(fingerprint(db), ensure_ascii=False))
    for section in ("messages", "cases", "inbox_first_page", "languages"):
        assert now[section] == reference[section], section
    assert now["searches"] == reference["searches"]


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_preparing_ahead_makes_what_one_batch_at_a_time_made(db: Database, mode: str) -> None:
    items = _items()
    register_accounts(db, SimulatedNetwork(seed=SEED, limit_total=MESSAGES))
    intake = intake_for()
    batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
    seen: list[Sequence[InboundItem]] = []
    with time_machine.travel(FROZEN_AT, tick=False):
        for batch, prepared in prepared_ahead(batches, list, intake=intake, mode=mode):
            seen.append(batch)
            assert len(prepared.items) + prepared.duplicates + len(prepared.rejected) == len(batch)
            with db.session() as session, session.begin():
                process_batch(session, batch, intake=intake, prepared=prepared)
    assert seen == batches  # every batch, in order
    _assert_reference(db)


def test_drain_prepares_ahead_and_makes_the_same_desk(db: Database) -> None:
    sim = SimulatedNetwork(seed=SEED, limit_total=MESSAGES)
    register_accounts(db, sim)
    with time_machine.travel(FROZEN_AT, tick=False):
        report = drain(db, sim, intake=intake_for(), limit=BATCH)
    assert report.stored == MESSAGES
    _assert_reference(db)


class _Failing:
    """The understanding hook, failing on its `fail_at`-th call (1-based)."""

    def __init__(self, real: Any, fail_at: int) -> None:
        self.real, self.fail_at, self.calls = real, fail_at, 0

    def __call__(self, items: Sequence[InboundItem]) -> Any:
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("understanding crashed")
        return self.real(items)


def _stored(db: Database) -> tuple[int, int]:
    with db.session() as s:
        rows = s.scalar(select(func.count()).select_from(Message)) or 0
        distinct = s.scalar(select(func.count(func.distinct(Message.external_id)))) or 0
    return rows, distinct


def test_a_crash_while_preparing_surfaces_and_loses_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = SimulatedNetwork(seed=5, limit_total=900)
    register_accounts(db, sim)
    intake: Intake = intake_for()
    failing = _Failing(intake.understander.columns, fail_at=3)
    monkeypatch.setattr(intake.understander, "columns", failing)
    with pytest.raises(RuntimeError, match="understanding crashed"):
        drain(db, sim, intake=intake, limit=200)
    rows, distinct = _stored(db)
    assert rows == distinct == 400  # the two batches before the failing one, committed
    with db.session() as s:
        saved = s.get(Cursor, sim.source)
        assert saved is not None and saved.value is not None  # with the cursor they cover
    monkeypatch.undo()
    report = drain(db, SimulatedNetwork(seed=5, limit_total=900), intake=intake, limit=200)
    assert report.stored == 500 and report.duplicates == 0  # resumed after the cursor
    assert _stored(db) == (900, 900)


@pytest.mark.parametrize("mode", ["thread", "process", "inline"])
def test_a_failing_batch_is_raised_when_reached(mode: str) -> None:
    intake = intake_for()
    boom = InboundItem.__new__(InboundItem)  # not an item: preparing it fails
    good = _items()[:30]
    batches = [good[:10], good[10:20], [boom], good[20:]]
    got = []
    with pytest.raises(AttributeError):
        for batch, prepared in prepared_ahead(batches, list, intake=intake, mode=mode):
            got.append((batch, len(prepared.items)))
    assert got == [(good[:10], 10), (good[10:20], 10)]


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown prepare mode"):
        list(prepared_ahead([[1]], list, intake=intake_for(), mode="fibers"))
