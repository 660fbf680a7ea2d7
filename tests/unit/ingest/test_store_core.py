"""The store's Core write path (ingest/store.py, cases/threading.py), where it could differ from
the ORM's: a race lost to another writer, JSON columns, rows of different shapes, what it hands
to later stages, and the cursor saved in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from carebird.cases.threading import thread_messages
from carebird.db.database import Database
from carebird.ingest import store
from carebird.ingest.models import Author, Message
from carebird.ingest.store import load_cursor, prepare_items, save_cursor, store_items
from tests.factories import BRAND, WINDOW, customer, ingest, intake_for, item


def _blind_once(monkeypatch: pytest.MonkeyPatch, *columns: Any) -> None:
    """The store's first look-up by each of `columns` finds nothing: as if another writer
    committed those rows between that look-up and the insert."""
    real = store._rows_by_key
    blinded: set[Any] = set()

    def lookup(session: Any, cols: Any, network_col: Any, *rest: Any) -> Iterator[Any]:
        if network_col in columns and network_col not in blinded:
            blinded.add(network_col)
            return iter(())
        return real(session, cols, network_col, *rest)

    monkeypatch.setattr(store, "_rows_by_key", lookup)


def test_a_race_lost_on_a_message_counts_as_a_duplicate(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(db, [item(customer(1), "first", external_id="race-a")])
    _blind_once(monkeypatch, Message.network, Author.network)
    report = ingest(
        db,
        [
            item(customer(1), "first", external_id="race-a"),  # stored "meanwhile"
            item(customer(2), "second", external_id="race-b"),
        ],
    )
    assert report.stored == 1 and report.duplicates == 1
    with db.session() as s:
        got = sorted(
            (ext, author)
            for ext, author in s.execute(
                select(Message.external_id, Author.external_id).join(
                    Author, Author.id == Message.author_id
                )
            )
        )
        authors = s.scalars(select(Author.external_id).order_by(Author.external_id)).all()
    assert got == [("race-a", "u1"), ("race-b", "u2")]
    assert authors == ["u1", "u2"]  # the author inserted meanwhile is reused, not doubled


def test_json_columns_round_trip_and_unannotated_rows_get_the_defaults(db: Database) -> None:
    metrics = {"likes": 3, "reposts": 1, "quotes": 0, "views": {"fr": 2}}
    raw = {"texte": "Crème brûlée 🍮", "ids": [1, 2, None], "nested": {"a": True}}
    inbound = item(customer(3), "remboursement svp, colis jamais arrivé", metrics=metrics, raw=raw)
    ours = item(BRAND, "Nos horaires", raw={"k": "v"})
    report = ingest(db, [inbound, ours])
    assert report.stored == 2
    with db.session() as s:
        got = {m.external_id: m for m in s.scalars(select(Message))}
    a, b = got[inbound.external_id], got[ours.external_id]
    assert a.metrics == metrics and a.raw == raw
    assert a.interactions == a.interactions_at_arrival == 4
    assert a.category is not None and a.sentiment is not None
    assert set(a.category_scores) and isinstance(a.cues, list)
    # Our own post is not annotated: the columns' defaults, as the ORM wrote them.
    assert (b.direction, b.category, b.sentiment) == ("out", None, None)
    assert (b.category_scores, b.cues, b.personal_data, b.metrics) == ({}, [], [], {})
    assert b.raw == {"k": "v"}


def test_stored_messages_carry_their_understanding_and_join_their_cases(db: Database) -> None:
    ingest(db, [item(customer(9), "hello")])  # the desk's account exists
    intake = intake_for()
    first = item(customer(4), "mon colis n'est jamais arrivé !", metrics={"likes": 5})
    reply = item(customer(4), "toujours rien", minutes=5, in_reply_to_id=first.external_id)
    with db.session() as s, s.begin():
        stored = store_items(s, [first, reply], annotate=intake.understander.columns)
        threaded = thread_messages(s, stored.new, reopen_window=WINDOW)
    m = stored.new[0]
    assert m.category is not None and m.sentiment is not None and isinstance(m.cues, list)
    assert (m.interactions, m.interactions_at_arrival) == (5, 5)
    ids = [x.id for x in stored.new]
    assert set(threaded.case_of) == set(ids)
    assert threaded.case_of[ids[0]] == threaded.case_of[ids[1]] == threaded.new_cases[0]
    with db.session() as s:
        joined = s.execute(select(Message.id, Message.case_id).where(Message.id.in_(ids)))
        assert dict(joined.tuples().all()) == threaded.case_of


def test_prepared_and_inline_store_the_same(db: Database) -> None:
    intake = intake_for()
    items = [item(customer(5), "bonjour"), item(customer(5), "bonjour", external_id="x-dup")]
    items.append(items[0])  # repeated within the batch
    prepared = prepare_items(items, annotate=intake.understander.columns)
    assert (len(prepared.items), prepared.duplicates) == (2, 1)
    ingest(db, [item(customer(9), "hello")])
    with db.session() as s, s.begin():
        result = store_items(s, items, prepared=prepared)
    assert (len(result.new), result.duplicates) == (2, 1)
    assert result.new[0].category is not None


def test_the_cursor_is_saved_in_the_callers_transaction(db: Database) -> None:
    with db.session() as s, s.begin():
        assert load_cursor(s, "src") is None
        save_cursor(s, "src", "c1")
        save_cursor(s, "src", "c2")
        assert load_cursor(s, "src") == "c2"
    with db.session() as s:
        s.begin()
        save_cursor(s, "src", "c3")
        s.rollback()  # not committed: the old cursor stays
    with db.session() as s:
        assert load_cursor(s, "src") == "c2"
