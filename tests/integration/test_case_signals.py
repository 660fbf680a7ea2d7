"""The signals kept on cases: what the intake merges batch by batch equals what a rebuild from
the messages makes (out-of-order arrivals, refreshed metrics, merges and splits included), and
the intake and the periodic re-score read no message to score."""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from alembic import command
from sqlalchemy import event, inspect, select, update

from carebird.cases import scoring
from carebird.cases.merging import merge_cases, split_case
from carebird.cases.models import Case
from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.cases.scoring import rescore_active, score_cases
from carebird.cases.signals import RECENT, SIGNAL_COLUMNS
from carebird.db.database import Database
from carebird.db.migrate import alembic_config, current
from carebird.flows.intake import process_batch
from carebird.ingest.base import InboundItem, MessageKind
from carebird.ingest.models import Message
from carebird.ingest.sim.network import SimulatedNetwork
from carebird.jobs.runner import register_accounts
from tests.factories import BRAND, T0, agent_with_token, case_of, customer, ingest, intake_for, item
from tests.integration.test_migrations import HEAD

KEPT = [getattr(Case, c) for c in SIGNAL_COLUMNS]
MESSAGES = re.compile(r"\bmessages\b", re.IGNORECASE)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    """One instant for the intake and the rebuilds: the waiting times compare equal."""
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        yield


def snapshot(db: Database) -> list[tuple[Any, ...]]:
    """Every case: what scoring made of it and the signals it keeps."""
    with db.session() as s:
        stmt = select(Case.id, Case.category, Case.priority, Case.priority_reasons, *KEPT)
        return [tuple(r) for r in s.execute(stmt.order_by(Case.id))]


def rebuilt(db: Database) -> list[tuple[Any, ...]]:
    """The same after rebuilding every case's signals from its messages (then undone)."""
    with db.session() as s:
        s.begin()
        score_cases(s, s.scalars(select(Case.id)).all())
        s.flush()
        stmt = select(Case.id, Case.category, Case.priority, Case.priority_reasons, *KEPT)
        rows = [tuple(r) for r in s.execute(stmt.order_by(Case.id))]
        s.rollback()
    return rows


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements run meanwhile."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def sim_items(seed: int, n: int) -> tuple[SimulatedNetwork, list[InboundItem]]:
    sim = SimulatedNetwork(seed=seed, limit_total=n)
    items: list[InboundItem] = []
    cursor = None
    while True:
        fetched = sim.fetch(cursor, limit=500)
        items.extend(fetched.items)
        cursor = fetched.cursor
        if not fetched.more:
            return sim, items


def _stream(rng: random.Random, items: list[InboundItem]) -> list[list[InboundItem]]:
    """Batches of random sizes, neighbours swapped (older messages arriving late) and earlier
    messages seen again with more likes (their metrics refreshed)."""
    order = list(items)
    for i in range(len(order) - 1):
        if rng.random() < 0.3:
            order[i], order[i + 1] = order[i + 1], order[i]
    batches: list[list[InboundItem]] = []
    pos = 0
    while pos < len(order):
        n = rng.randint(1, 80)
        batch = order[pos : pos + n]
        for again in rng.sample(order[:pos], min(pos, rng.randint(0, 3))):
            likes = int(again.metrics.get("likes") or 0) + rng.randint(1, 500)
            batch.append(dataclasses.replace(again, metrics={**again.metrics, "likes": likes}))
        batches.append(batch)
        pos += n
    return batches


TEXTS = [
    "my parcel never arrived, this is a scandal",
    "how do I change my address?",
    "thank you so much, great service",
    "internet outage since monday, urgent!",
    "could you add a dark mode?",
    "still no answer from you",
    "ok",
]


def chatty(rng: random.Random, items: list[InboundItem], n: int) -> list[InboundItem]:
    """Customers who write on and on (cases past RECENT messages), answered now and then by
    the desk, sometimes with an automatic acknowledgement only, over the traffic's time span."""
    start = min(i.created_at for i in items)
    span = (max(i.created_at for i in items) - start).total_seconds()
    made: list[InboundItem] = []
    for who in range(n):
        said: list[str] = []
        for k in range(rng.randint(14, 30)):
            at = start + timedelta(seconds=rng.uniform(0, span))
            ext = f"chatty{who}-{k}"
            if said and rng.random() < 0.3:
                kind = MessageKind.ACKNOWLEDGEMENT if rng.random() < 0.4 else MessageKind.REPLY
                made.append(
                    dataclasses.replace(
                        item(BRAND, "on it", in_reply_to_id=rng.choice(said), kind=kind),
                        external_id=ext,
                        created_at=at,
                    )
                )
                continue
            likes = {"likes": rng.choice([0, 0, 5, 40])}
            text = rng.choice(TEXTS)
            new = item(customer(900 + who), text, external_id=ext, metrics=likes)
            made.append(dataclasses.replace(new, created_at=at))
            said.append(ext)
    return made


@pytest.mark.parametrize("seed", [5, 17])
def test_batch_by_batch_equals_a_rebuild_from_the_messages(db: Database, seed: int) -> None:
    rng = random.Random(seed)
    sim, items = sim_items(seed, 600)
    register_accounts(db, sim)
    items = sorted(items + chatty(rng, items, 4), key=lambda i: i.created_at)
    late = 0
    with time_machine.travel(max(i.created_at for i in items) + timedelta(hours=1), tick=False):
        for batch in _stream(rng, items):
            with db.session() as s, s.begin():
                newest = s.scalar(select(Message.created_at).order_by(Message.id.desc()).limit(1))
                late += sum(1 for i in batch if newest is not None and i.created_at < newest)
                process_batch(s, batch, intake=intake_for())
        kept = snapshot(db)
        assert kept == rebuilt(db)
    # The traffic did what the test is about: long cases, late messages, waiting customers.
    assert late > 20
    with db.session() as s:
        long = s.scalars(select(Case.recent_messages).where(Case.message_count > RECENT)).all()
    assert len(long) >= 3 and all(len(w or []) == RECENT for w in long)
    assert sum(1 for r in kept if r[4 + SIGNAL_COLUMNS.index("waiting_since")]) > 10
    assert sum(1 for r in kept if r[4 + SIGNAL_COLUMNS.index("inbound_interactions")]) > 10


def _case(db: Database, case_id: int) -> Case:
    with db.session() as s:
        found = s.get(Case, case_id)
        assert found is not None
        s.expunge(found)
        return found


def test_a_late_message_takes_its_place_among_the_latest(db: Database) -> None:
    who = customer(1)
    ingest(db, [item(who, f"question {n}?", minutes=10 * n, external_id=f"q{n}") for n in (5, 6)])
    # Older than all the case has seen: a complaint, then thanks, arriving late.
    ingest(db, [item(who, "my parcel never came, scandal", minutes=1, external_id="q1")])
    ingest(db, [item(who, "thank you so much!", minutes=2, external_id="q2")])
    case = _case(db, case_of(db, "q5"))
    assert case.inbound_count == 4 and case.category == "complaint"
    assert case.waiting_since == T0 + timedelta(minutes=1)  # the oldest unanswered
    assert snapshot(db) == rebuilt(db)
    # Beyond the latest RECENT, a late message changes nothing.
    ingest(
        db, [item(who, f"thank you {n}", minutes=100 + n, external_id=f"r{n}") for n in range(12)]
    )
    before = _case(db, case.id)
    assert before.category != "complaint"  # the complaint left the latest RECENT
    ingest(db, [item(who, "outage! urgent!", minutes=0, external_id="q0")])
    after = _case(db, case.id)
    assert (after.category, after.inbound_cues, after.priority) == (
        before.category,
        before.inbound_cues,
        before.priority,
    )
    assert snapshot(db) == rebuilt(db)


def test_an_acknowledgement_answers_nothing(db: Database) -> None:
    who = customer(2)
    ingest(db, [item(who, "where is my refund?", external_id="a1")])
    ack = item(
        BRAND,
        "message received",
        minutes=1,
        in_reply_to_id="a1",
        kind=MessageKind.ACKNOWLEDGEMENT,
        external_id="a2",
    )
    ingest(db, [ack])
    case_id = case_of(db, "a1")
    assert _case(db, case_id).waiting_since == T0
    with db.session() as s, s.begin():
        rescore_active(s, now=T0 + timedelta(hours=2))
    assert {"code": "waiting", "value": 7200} in _case(db, case_id).priority_reasons
    ingest(db, [item(BRAND, "refund sent", minutes=3, in_reply_to_id="a1", external_id="a3")])
    assert _case(db, case_id).waiting_since is None
    ingest(db, [item(who, "not received", minutes=30, external_id="a4")])
    assert _case(db, case_id).waiting_since == T0 + timedelta(minutes=30)
    assert snapshot(db) == rebuilt(db)


def test_refreshed_metrics_rescore_the_case(db: Database) -> None:
    first = item(customer(3), "my order is late", external_id="v1", metrics={"likes": 1})
    ingest(db, [first])
    case_id = case_of(db, "v1")
    ingest(db, [dataclasses.replace(first, metrics={"likes": 900, "reposts": 100})])
    case = _case(db, case_id)
    assert (case.inbound_interactions, case.inbound_interactions_at_arrival) == (1000, 1)
    assert {"code": "interactions", "value": 1000} in case.priority_reasons
    assert snapshot(db) == rebuilt(db)


def test_merge_and_split_keep_exact_signals(db: Database) -> None:
    ingest(db, [item(customer(4), "thanks for the help", external_id="m1")])
    ingest(db, [item(customer(4), "internet outage since monday!", minutes=20, external_id="m2")])
    a = case_of(db, "m1")
    # The second message joined the first's case: split it out, then merge it back.
    assert case_of(db, "m2") == a
    actor, _ = agent_with_token(db, role="supervisor")
    with db.session() as s, s.begin():
        m2 = s.scalar(select(Message.id).where(Message.external_id == "m2"))
        assert m2 is not None
        b = split_case(s, case_id=a, message_ids=[m2], actor_id=actor.id).id
    assert (_case(db, a).inbound_count, _case(db, b).inbound_count) == (1, 1)
    assert snapshot(db) == rebuilt(db)
    with db.session() as s, s.begin():
        merge_cases(s, case_id=a, other_id=b, actor=actor)
    merged, emptied = _case(db, a), _case(db, b)
    assert merged.inbound_count == 2 and len(merged.recent_messages or []) == 2
    assert (emptied.inbound_count, emptied.recent_messages) == (0, [])
    # The merged case goes on batch by batch from its rebuilt signals.
    ingest(db, [item(customer(4), "still nothing", minutes=60, external_id="m3")])
    assert _case(db, a).inbound_count == 3
    assert snapshot(db) == rebuilt(db)


def test_the_intake_and_the_periodic_rescore_read_no_message(db: Database) -> None:
    who = customer(5)
    ingest(db, [item(who, "my parcel is lost", external_id="n1")])
    with statements(db) as seen:
        ingest(db, [item(who, "any news?", minutes=5, external_id="n2")])
    assert not [q for q in seen if "row_number" in q.lower()]
    with statements(db) as seen, db.session() as s, s.begin():
        assert rescore_active(s) == 1
    assert seen and not [q for q in seen if MESSAGES.search(q)]
    assert snapshot(db) == rebuilt(db)


def test_the_migration_backfills_every_case_and_goes_back(db: Database) -> None:
    rng = random.Random(3)
    sim, items = sim_items(3, 300)
    register_accounts(db, sim)
    items = sorted(items + chatty(rng, items, 2), key=lambda i: i.created_at)
    with time_machine.travel(max(i.created_at for i in items) + timedelta(hours=1), tick=False):
        for batch in _stream(rng, items):
            with db.session() as s, s.begin():
                process_batch(s, batch, intake=intake_for())
        kept = snapshot(db)
        cfg = alembic_config(db.engine.url.render_as_string(hide_password=False))
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0020")  # 0021 undone (and what follows it)
        columns = {c["name"] for c in inspect(db.engine).get_columns("cases")}
        assert not columns & set(SIGNAL_COLUMNS) and "priority" in columns
        db.upgrade()
        assert current(db.engine) == HEAD
        assert snapshot(db) == kept
    assert len(kept) > 100 and sum(1 for r in kept if r[-1] and len(r[-1]) == RECENT) >= 2


def test_a_case_without_kept_signals_is_rebuilt(db: Database) -> None:
    ingest(db, [item(customer(6), "my bill is wrong", external_id="k1")])
    case_id = case_of(db, "k1")
    expected = snapshot(db)
    with db.session() as s, s.begin():
        case = s.get_one(Case, case_id)
        case.recent_messages, case.inbound_count, case.priority = None, 0, 0.0
    with db.session() as s, s.begin():
        rescore_active(s)
    assert snapshot(db) == expected
    with db.session() as s, s.begin():
        s.get_one(Case, case_id).recent_messages = None
    ingest(db, [item(customer(6), "still wrong", minutes=5, external_id="k2")])
    assert _case(db, case_id).inbound_count == 2
    assert snapshot(db) == rebuilt(db)


def test_the_accurate_tier_rebuilds_what_the_next_batch_merges_into(db: Database) -> None:
    from carebird.flows.reclassify import ReclassifySetup, reclassify_batch
    from tests.integration.test_reclassify import Scripted

    ingest(db, [item(customer(7), "thanks for the info, have a nice day", external_id="t1")])
    case_id = case_of(db, "t1")
    before = _case(db, case_id)
    assert before.inbound_category != "complaint"
    with db.session() as s, s.begin():
        assert reclassify_batch(s, ReclassifySetup(Scripted()), weights=DEFAULT_WEIGHTS).read == 1
    after = _case(db, case_id)
    assert (after.category, after.inbound_category, after.inbound_sentiment) == (
        "complaint",
        "complaint",
        "negative",
    )
    assert after.priority > before.priority
    # The next batch merges into the re-read signals, not the ones from before.
    ingest(db, [item(customer(7), "have a nice day", minutes=5, external_id="t2")])
    assert _case(db, case_id).category == "complaint"
    assert snapshot(db) == rebuilt(db)


def test_the_periodic_rescore_commits_each_batch(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `commit_each` (the periodic job's way) each batch is its own transaction, so the
    intake never waits for the whole pass: a failure in the second batch keeps the first."""
    ingest(db, [item(customer(6), "my parcel is lost", external_id="r1")])
    ingest(db, [item(customer(7), "my order never came", external_id="r2")])
    with db.session() as s, s.begin():
        s.execute(update(Case).values(priority=-1.0))  # what a re-score overwrites
    real, calls = scoring.rescore_stored, list[list[int]]()

    def failing_second(*args: Any, **kwargs: Any) -> set[int]:
        calls.append(list(args[1]))
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(scoring, "rescore_stored", failing_second)
    with db.session() as s, pytest.raises(RuntimeError):
        rescore_active(s, batch=1, commit_each=True)
    after = {row[0]: row[2] for row in snapshot(db)}
    (first,), (second,) = calls
    assert after[first] > 0  # scored and committed
    assert after[second] == -1.0  # its batch failed: rolled back alone
