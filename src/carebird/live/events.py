"""Live events fanned out across processes through the database.

`publish` appends rows to the `events` table in the caller's transaction, so an event exists
exactly when the change it describes is committed, and any process (another uvicorn worker,
another machine) sees it. A subscriber resumes from the last id it saw (`events_after`); on
PostgreSQL it is woken by `NOTIFY carebird_events` (sent by the same transaction), on SQLite
it polls the table by id (see carebird.live.stream).

Ids are the order of the stream. On SQLite writers are serialised, so ids commit in order; on
PostgreSQL a transaction-level advisory lock taken before the insert gives the same guarantee
(held until commit: publish last in a transaction, as the flows do).

Payloads carry ids and the few fields an inbox row shows; pages re-fetch what they display.
Each kind is one class below (`CaseNew`, `ReplySent`…); `KINDS` lists their names, and the pages
read that list from the server (`window.carebird` is given it), so a kind exists in one place.
This module knows nothing of cases or messages: the flows (`carebird.flows`) build the payloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, String, Table, delete, func, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from carebird.db.base import Base, Id, utcnow

CHANNEL = "carebird_events"
# pg_advisory_xact_lock key: "carebird" read as a big-endian 63-bit integer.
LOCK_KEY = int.from_bytes(b"carebird", "big") & 0x7FFF_FFFF_FFFF_FFFF
KEEP = timedelta(days=2)  # events older than this are purged (a client that old reloads)


class LiveEvent(Base):
    __tablename__ = "events"
    # AUTOINCREMENT: SQLite never reuses an id, even after a purge emptied the table.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(BigInteger)  # no FK: events outlive a merge
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    kind: str
    case_id: int | None
    payload: dict[str, Any]
    created_at: datetime


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@dataclass(frozen=True, slots=True)
class Announcement:
    """One live event to publish: its kind (the class), its payload and the case it is about
    (by default the payload's "case_id")."""

    kind: ClassVar[str]
    payload: dict[str, Any]
    case_id: int | None = None

    def row(self, now: datetime) -> dict[str, Any]:
        case_id = self.case_id if self.case_id is not None else self.payload.get("case_id")
        return {"kind": self.kind, "case_id": case_id, "payload": self.payload, "created_at": now}


class CaseNew(Announcement):
    """A case opened (by a pipeline batch, or split from another)."""

    kind = "case.new"


class CaseUpdated(Announcement):
    """A case changed: status, assignee, team, tags, category, merge, split, forward revoked."""

    kind = "case.updated"


class CasePriority(Announcement):
    """The periodic re-scoring moved priorities (one event, not one per case)."""

    kind = "case.priority"


class MessageNew(Announcement):
    """A message joined an existing case."""

    kind = "message.new"


class PresenceChanged(Announcement):
    """Who is looking at or typing in a case changed."""

    kind = "presence"


class ReplyQueued(Announcement):
    kind = "reply.queued"


class ReplySent(Announcement):
    kind = "reply.sent"


class ReplyFailed(Announcement):
    kind = "reply.failed"


class NoteNew(Announcement):
    kind = "note.new"


class ForwardNew(Announcement):
    kind = "forward.new"


class ForwardAnswered(Announcement):
    """An outside owner answered through their link."""

    kind = "forward.answered"


class AgentStatus(Announcement):
    """An agent's status changed (available, away, offline)."""

    kind = "agent.status"


class SlaAlert(Announcement):
    """A deadline warned (80 %) or breached (100 %): for the case's team lead (`lead_id`)."""

    kind = "sla.alert"


ANNOUNCEMENTS: tuple[type[Announcement], ...] = (
    CaseNew,
    CaseUpdated,
    CasePriority,
    MessageNew,
    PresenceChanged,
    ReplyQueued,
    ReplySent,
    ReplyFailed,
    NoteNew,
    ForwardNew,
    ForwardAnswered,
    AgentStatus,
    SlaAlert,
)
KINDS: tuple[str, ...] = tuple(a.kind for a in ANNOUNCEMENTS)


def publish(session: Session, *announcements: Announcement) -> None:
    """Append events in order, in the caller's transaction (seen by subscribers once committed)."""
    if not announcements:
        return
    postgres = _is_postgres(session)
    if postgres:  # ids must commit in order, or a subscriber reading "after id N" skips one
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    now = utcnow()
    table: Table = LiveEvent.__table__  # type: ignore[assignment]  # Core: no unit of work
    session.flush()  # as the ORM's insert did: the changes announced are written first
    session.connection().execute(insert(table), [a.row(now) for a in announcements])
    if postgres:  # delivered at commit, never for a rolled-back transaction
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def _event(row: LiveEvent) -> Event:
    return Event(row.id, row.kind, row.case_id, dict(row.payload or {}), row.created_at)


def events_after(session: Session, after_id: int, *, limit: int = 500) -> list[Event]:
    stmt = select(LiveEvent).where(LiveEvent.id > after_id).order_by(LiveEvent.id).limit(limit)
    return [_event(r) for r in session.scalars(stmt)]


def latest_event_id(session: Session) -> int:
    return session.scalar(select(func.max(LiveEvent.id))) or 0


def oldest_event_id(session: Session) -> int | None:
    return session.scalar(select(func.min(LiveEvent.id)))


def purge_events(session: Session, *, keep: timedelta = KEEP, now: datetime | None = None) -> int:
    """Delete events older than `keep`; the newest always stays so ids keep rising."""
    cutoff = (now or utcnow()) - keep
    newest = latest_event_id(session)
    result = session.execute(
        delete(LiveEvent).where(LiveEvent.created_at < cutoff, LiveEvent.id < newest)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
