"""Live events through the database, on SQLite and PostgreSQL: two Database objects on one
database stand for two processes (two web workers, or the poller and a web worker)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import timedelta

from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.flows.announce import announce_cases, announce_rescored
from carebird.flows.intake import BatchReport, after_batch
from carebird.ingest.base import InboundItem
from carebird.live.events import (
    CaseNew,
    CaseUpdated,
    Event,
    MessageNew,
    PresenceChanged,
    ReplyQueued,
    events_after,
    latest_event_id,
    publish,
    purge_events,
)
from carebird.live.stream import EventFeed, EventHub
from tests.factories import case_of, customer, ingest, item


def ingest_live(db: Database, items: Sequence[InboundItem]) -> BatchReport:
    """Ingest as the poller does, then index and publish (unless the pipeline already did)."""
    with db.session() as s:
        before = latest_event_id(s)
    report = ingest(db, items)
    with db.session() as s, s.begin():
        if not events_after(s, before, limit=1):
            after_batch(s, report)
    return report


def test_publish_is_seen_by_another_database_object(db_url: str) -> None:
    writer, reader = Database(db_url), Database(db_url)
    feed = EventFeed(reader, poll_interval=0.05)
    try:
        start = feed.latest_id()
        assert feed.wait(start, timeout=0.2) == []
        with writer.session() as s, s.begin():
            publish(s, CaseUpdated({"case_id": 7, "status": "open"}))
            publish(s, PresenceChanged({"case_id": 7, "agents": []}))
        got = feed.wait(start, timeout=5)
        assert [(e.kind, e.case_id, e.payload["case_id"]) for e in got] == [
            ("case.updated", 7, 7),
            ("presence", 7, 7),
        ]
        assert got[0].id < got[1].id
        # A rolled-back transaction publishes nothing.
        with writer.session() as s:
            s.begin()
            publish(s, CaseUpdated({"case_id": 8}))
            s.rollback()
        assert feed.wait(got[-1].id, timeout=0.3) == []
    finally:
        feed.close()
        writer.dispose()
        reader.dispose()


def test_the_feed_wakes_on_a_commit_from_another_thread(db_url: str) -> None:
    writer, reader = Database(db_url), Database(db_url)
    feed = EventFeed(reader, poll_interval=0.05)
    start = feed.latest_id()

    def later() -> None:
        time.sleep(0.3)
        with writer.session() as s, s.begin():
            publish(s, MessageNew({"case_id": 3}))

    thread = threading.Thread(target=later)
    thread.start()
    try:
        got = feed.wait(start, timeout=10)  # blocks until the commit, however it is woken
        assert [e.kind for e in got] == ["message.new"]
    finally:
        thread.join()
        feed.close()
        writer.dispose()
        reader.dispose()


def test_hub_fans_out_to_every_subscriber_and_stops_when_idle(db_url: str) -> None:
    writer, reader = Database(db_url), Database(db_url)
    hub = EventHub(reader, poll_interval=0.05, linger=0.2)
    got: dict[str, list[Event]] = {"a": [], "b": []}
    arrived = threading.Event()

    def sink(name: str) -> object:
        def deliver(events: list[Event]) -> None:
            got[name].extend(events)
            if got["a"] and got["b"]:
                arrived.set()

        return deliver

    try:
        key_a, start = hub.subscribe(sink("a"))  # type: ignore[arg-type]
        key_b, _ = hub.subscribe(sink("b"))  # type: ignore[arg-type]
        with writer.session() as s, s.begin():
            publish(s, CaseNew({"case_id": 1}))
        assert arrived.wait(10)
        assert [e.kind for e in got["a"]] == [e.kind for e in got["b"]] == ["case.new"]
        assert got["a"][0].id > start
        hub.unsubscribe(key_a)
        hub.unsubscribe(key_b)
        deadline = time.monotonic() + 10
        while hub._thread is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hub._thread is None  # the reader left with the last subscriber
    finally:
        hub.stop()
        writer.dispose()
        reader.dispose()


def test_a_batch_publishes_new_cases_and_new_messages(db: Database) -> None:
    with db.session() as s:
        start = latest_event_id(s)
    ingest_live(db, [item(customer(1), "my parcel is late", external_id="e1")])
    case_id = case_of(db, "e1")
    ingest_live(db, [item(customer(1), "still waiting", minutes=5, external_id="e2")])
    with db.session() as s:
        events = events_after(s, start)
    kinds = [(e.kind, e.case_id) for e in events]
    assert kinds[0] == ("case.new", case_id) and ("message.new", case_id) in kinds
    last = events[-1].payload
    assert last["status"] == "new" and last["network"] == "x" and last["priority"] > 0
    assert last["message_id"] > events[0].payload["message_id"]  # the newest message
    with db.session() as s, s.begin():
        announce_cases(s, [case_id], ReplyQueued, {"agent_id": 5, "outbox_id": 9})
        announce_rescored(s, 0)  # nothing re-scored: nothing to tell
        announce_rescored(s, 12)
    with db.session() as s:
        changed = events_after(s, events[-1].id)
    assert [(e.kind, e.case_id) for e in changed] == [
        ("reply.queued", case_id),
        ("case.priority", None),
    ]
    assert changed[0].payload["outbox_id"] == 9 and changed[0].payload["status"] == "new"
    assert changed[1].payload == {"rescored": 12}


def test_purge_keeps_recent_events_and_ids_keep_rising(db: Database) -> None:
    with db.session() as s, s.begin():
        for n in range(3):
            publish(s, CaseUpdated({"case_id": n}))
    later = utcnow() + timedelta(days=3)
    with db.session() as s, s.begin():
        assert purge_events(s, now=utcnow()) == 0  # nothing is two days old
        assert purge_events(s, now=later) == 2  # the newest stays: ids never restart
        newest = latest_event_id(s)
    with db.session() as s, s.begin():
        publish(s, CaseUpdated({"case_id": 9}))
    with db.session() as s:
        assert [e.id > newest for e in events_after(s, 0)] == [False, True]
