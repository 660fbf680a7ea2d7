"""Deadlines watched: a warning at 80 % of the target and a breach at 100 %, each once per
wait, in business time by the covering policy; an answer ends the wait (both engines)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from carebird.cases.models import CaseEvent
from carebird.cases.sla import SlaSetup
from carebird.cases.sla_watch import due_cases
from carebird.db.database import Database
from carebird.flows.announce import case_payloads
from carebird.flows.deadlines import watch_deadlines
from carebird.live.events import events_after, latest_event_id
from tests.factories import BRAND, T0, case_of, customer, ingest, item

# Open 09:00-18:00 UTC on weekdays; complaints within 60 business minutes, others 240.
SLA = SlaSetup.from_config(
    {"policies": [{"name": "Complaints", "when": {"category": "complaint"},
                   "first_response_minutes": 60}]},
    opening_hours="Mon-Fri 09:00-18:00",
    timezone="UTC",
    default_minutes=240,
)  # fmt: skip
COMPLAINT = "@Brand_SAV my parcel never arrived, this is a disgrace, I want a refund now"


def marks(db: Database, case_id: int) -> list[tuple[str, str | None]]:
    with db.session() as s:
        return [
            (e.kind, e.new)
            for e in s.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind.like("sla_%"))
                .order_by(CaseEvent.id)
            )
        ]


def watch(db: Database, at: object) -> int:
    with db.session() as s, s.begin():
        return len(watch_deadlines(s, SLA, now=at))  # type: ignore[arg-type]


def test_warning_then_breach_once_each_in_business_time(db: Database) -> None:
    # T0 is Monday 2 March 2026, 09:00 UTC. The complaint arrives at 17:30: 30 open minutes
    # that day, the other 30 on Tuesday from 09:00, so it is due Tuesday at 09:30.
    ingest(db, [item(customer(1), COMPLAINT, minutes=8.5 * 60, external_id="c")])
    case_id = case_of(db, "c")
    due = (T0 + timedelta(days=1, minutes=30)).isoformat()
    assert watch(db, T0 + timedelta(hours=8, minutes=59)) == 0  # 29 min: under 80 %
    assert watch(db, T0 + timedelta(hours=23)) == 0  # the night does not count
    with db.session() as s:
        start = latest_event_id(s)
    assert watch(db, T0 + timedelta(days=1, minutes=19)) == 1  # 49 min: over 80 % (48)
    assert marks(db, case_id) == [("sla_warning", due)]
    with db.session() as s:
        told = [(e.kind, e.case_id) for e in events_after(s, start)]
    assert told == [("sla.alert", case_id), ("case.updated", case_id)]
    assert watch(db, T0 + timedelta(days=1, minutes=25)) == 0  # written once
    assert watch(db, T0 + timedelta(days=1, minutes=30)) == 1
    assert watch(db, T0 + timedelta(days=2)) == 0
    assert marks(db, case_id) == [("sla_warning", due), ("sla_breached", due)]


def test_an_answer_ends_the_wait_and_the_next_message_starts_a_new_one(db: Database) -> None:
    ingest(db, [item(customer(2), "Bonjour, vos horaires le samedi ?", external_id="q")])
    case_id = case_of(db, "q")  # not a complaint: the 240-minute default
    ingest(db, [item(BRAND, "De 9 h à 18 h.", minutes=30, in_reply_to_id="q")])
    assert watch(db, T0 + timedelta(days=3)) == 0  # answered: nobody waits
    ingest(db, [item(customer(2), "Et le dimanche ?", minutes=60, in_reply_to_id="q")])
    assert watch(db, T0 + timedelta(hours=1, minutes=59)) == 0
    assert watch(db, T0 + timedelta(hours=5, minutes=1)) == 1  # 60 + 240 min: breached at once
    assert [k for k, _ in marks(db, case_id)] == ["sla_breached"]


def test_the_long_read_is_checked_again_under_the_lock(db: Database) -> None:
    """The periodic pass reads the due cases without a lock (`due_cases`), then writes in a
    short transaction: a case answered, or marked by another watcher, in between gets no
    second mark, and a case not in the list is left for the next pass."""
    ingest(db, [item(customer(3), COMPLAINT, external_id="a")])
    ingest(db, [item(customer(4), COMPLAINT, external_id="b")])
    ingest(db, [item(customer(5), COMPLAINT, external_id="c")])
    a, b, c = (case_of(db, x) for x in "abc")
    at = T0 + timedelta(minutes=61)
    with db.session() as s:
        due = due_cases(s, SLA, now=at)
    assert due == sorted([a, b, c])
    ingest(db, [item(BRAND, "Nous regardons.", minutes=30, in_reply_to_id="a")])  # answered
    with db.session() as s, s.begin():
        watch_deadlines(s, SLA, now=at, case_ids=[b])  # another watcher got there first
    with db.session() as s, s.begin():
        written = watch_deadlines(s, SLA, now=at, case_ids=due[:2])
    assert [m.case_id for m in written] == []  # a: answered since; b: marked already
    assert marks(db, a) == [] and [k for k, _ in marks(db, b)] == ["sla_breached"]
    assert marks(db, c) == []  # not in the list given
    with db.session() as s:
        assert due_cases(s, SLA, now=at) == [c]


def test_a_first_pass_over_more_cases_than_a_statement_takes(db: Database) -> None:
    """Every active case may be due at once (policies just added, an outage): the ids given
    to the write pass are read in parts (PostgreSQL takes 65,535 parameters at most)."""
    ingest(db, [item(customer(6), COMPLAINT, external_id="d")])
    case_id = case_of(db, "d")
    many = [*range(10_000_000, 10_070_000), case_id]  # ids of no case, then the due one
    with db.session() as s, s.begin():
        written = watch_deadlines(s, SLA, now=T0 + timedelta(minutes=61), case_ids=many)
    assert [m.case_id for m in written] == [case_id]
    with db.session() as s:  # and the pages are told of as many cases at once
        assert list(case_payloads(s, many)) == [case_id]
