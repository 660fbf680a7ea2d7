"""Internal notes: stored, logged by id, listed with their author, never sent (both engines)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from carebird.cases.models import CaseEvent
from carebird.cases.notes import MAX_NOTE, CaseNote, add_note, list_notes
from carebird.db.database import Database
from carebird.errors import InvalidInput, NotFound
from carebird.reply.models import OutboxItem
from tests.factories import agent_with_token, case_of, customer, ingest, item


def one_case(db: Database) -> int:
    ingest(db, [item(customer(1), "my parcel is lost", external_id="n1")])
    return case_of(db, "n1")


def test_notes_are_listed_with_their_author_and_logged_by_id(db: Database) -> None:
    case_id = one_case(db)
    agent, _ = agent_with_token(db, name="Marie Curie")
    with db.session() as s, s.begin():
        first = add_note(s, case_id=case_id, body="  called the depot  ", agent_id=agent.id)
        second = add_note(s, case_id=case_id, body="depot says Tuesday", agent_id=agent.id)
        ids = (first.id, second.id)
    with db.session() as s:
        rows = list_notes(s, case_id=case_id)
        events = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "note")
        ).all()
    assert [(r.id, r.body, r.author_name, r.agent_id) for r in rows] == [
        (ids[0], "called the depot", "Marie Curie", agent.id),
        (ids[1], "depot says Tuesday", "Marie Curie", agent.id),
    ]
    # The log names the note; the text lives in one place only.
    assert [(e.new, e.actor_id, e.data) for e in events] == [
        (str(ids[0]), agent.id, {"note_id": ids[0]}),
        (str(ids[1]), agent.id, {"note_id": ids[1]}),
    ]
    assert all("depot" not in str(e.data) for e in events)


def test_notes_never_leave_the_desk(db: Database) -> None:
    case_id = one_case(db)
    with db.session() as s, s.begin():
        add_note(s, case_id=case_id, body="customer is a journalist, be careful", agent_id=None)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 0


@pytest.mark.parametrize("body", ["", "   \n ", "x" * (MAX_NOTE + 1)])
def test_empty_or_huge_notes_are_refused(db: Database, body: str) -> None:
    case_id = one_case(db)
    with db.session() as s, s.begin(), pytest.raises(InvalidInput):
        add_note(s, case_id=case_id, body=body, agent_id=None)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(CaseNote)) == 0


def test_unknown_case(db: Database) -> None:
    with db.session() as s, s.begin(), pytest.raises(NotFound):
        add_note(s, case_id=999, body="hello", agent_id=None)
    with db.session() as s, pytest.raises(NotFound):
        list_notes(s, case_id=999)
