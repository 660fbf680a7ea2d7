"""Internal notes on a case: written by agents (or an outside owner's answer), never sent.

Nothing here reaches a network: notes are rows of their own, never outbox items, and the case
log only records that a note was added (its id), so the text lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from carebird.auth.models import Agent
from carebird.cases.log import record
from carebird.cases.models import Case
from carebird.db.base import Base, Id, utcnow
from carebird.errors import InvalidInput, NotFound

MAX_NOTE = 10_000


class CaseNote(Base):
    __tablename__ = "case_notes"
    __table_args__ = (Index("ix_case_notes_case_created", "case_id", "created_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))  # None: outside
    # Set when the note is an outside owner's answer (see carebird.cases.forwarding).
    forward_id: Mapped[int | None] = mapped_column(ForeignKey("forwards.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(slots=True)
class NoteRow:
    id: int
    case_id: int
    agent_id: int | None
    author_name: str  # the agent, or the outside owner who answered
    forward_id: int | None
    body: str
    created_at: datetime


def clean_body(body: str) -> str:
    text = body.strip()
    if not text:
        raise InvalidInput("a note needs some text")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"a note holds at most {MAX_NOTE} characters")
    return text


def add_note(
    session: Session,
    *,
    case_id: int,
    body: str,
    agent_id: int | None,
    forward_id: int | None = None,
    at: datetime | None = None,
) -> CaseNote:
    """Add a note and log it as a "note" event (the event names the note, not its text)."""
    text = clean_body(body)
    if session.get(Case, case_id) is None:
        raise NotFound(f"case {case_id} not found")
    now = at or utcnow()
    note = CaseNote(
        case_id=case_id, agent_id=agent_id, forward_id=forward_id, body=text, created_at=now
    )
    session.add(note)
    session.flush()
    data = {"note_id": note.id} | ({"forward_id": forward_id} if forward_id else {})
    record(session, case_id, "note", new=str(note.id), actor_id=agent_id, at=now, data=data)
    return note


def list_notes(session: Session, *, case_id: int) -> list[NoteRow]:
    """The case's notes, oldest first, with who wrote them."""
    from carebird.cases.forwarding import Forward, OutsideOwner  # forwarding imports notes

    if session.get(Case, case_id) is None:
        raise NotFound(f"case {case_id} not found")
    stmt = (
        select(CaseNote, Agent.name, OutsideOwner.name, OutsideOwner.organisation)
        .outerjoin(Agent, Agent.id == CaseNote.agent_id)
        .outerjoin(Forward, Forward.id == CaseNote.forward_id)
        .outerjoin(OutsideOwner, OutsideOwner.id == Forward.owner_id)
        .where(CaseNote.case_id == case_id)
        .order_by(CaseNote.created_at, CaseNote.id)
    )
    return [
        NoteRow(
            id=n.id,
            case_id=n.case_id,
            agent_id=n.agent_id,
            author_name=agent_name or _owner_label(owner_name, organisation),
            forward_id=n.forward_id,
            body=n.body,
            created_at=n.created_at,
        )
        for n, agent_name, owner_name, organisation in session.execute(stmt)
    ]


def _owner_label(name: str | None, organisation: str | None) -> str:
    if not name:
        return ""
    return f"{name} ({organisation})" if organisation else name
