"""Live events fanned out across processes through the database.

`publish` appends rows to the `events` table in the caller's transaction, so an event exists
exactly when the change it describes is committed, and any process (another uvicorn worker,
another machine) sees it. A subscriber resumes from the last id it saw (`events_after`); on
PostgreSQL it is woken by `NOTIFY carebird_events` (sent by the same transaction), on SQLite
it polls the table by id (see carebird.live.stream).

Ids are the order of the stream. On SQLite writers are serialised, so ids commit in order; on
PostgreSQL a transaction-level advisory lock taken before the insert gives the same guarantee
(held until commit: publish last in a transaction, as `publish_batch` is meant to be called).

Payloads carry ids and the few fields an inbox row shows; pages re-fetch what they display.
Kinds: case.new, case.updated, case.priority, message.new, presence, reply.sent…
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, String, delete, func, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from carebird.cases.models import Case
from carebird.cases.search import add_message_terms, index_cases
from carebird.db.base import Base, Id, utcnow
from carebird.ingest.models import Message

if TYPE_CHECKING:
    from carebird.flows.intake import BatchReport

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


def publish(
    session: Session, kind: str, payload: dict[str, Any], *, case_id: int | None = None
) -> None:
    """Append one event in the caller's transaction (seen by subscribers once committed)."""
    publish_many(session, [(kind, payload)], case_id=case_id)


def publish_many(
    session: Session,
    items: Sequence[tuple[str, dict[str, Any]]],
    *,
    case_id: int | None = None,
) -> None:
    """Append events in order; `case_id` defaults to each payload's "case_id"."""
    if not items:
        return
    postgres = _is_postgres(session)
    if postgres:  # ids must commit in order, or a subscriber reading "after id N" skips one
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    now = utcnow()
    rows = [
        {
            "kind": kind,
            "case_id": case_id if case_id is not None else payload.get("case_id"),
            "payload": payload,
            "created_at": now,
        }
        for kind, payload in items
    ]
    session.execute(insert(LiveEvent), rows)
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


# --- what the inbox needs to know ------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def case_payloads(session: Session, case_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The inbox row's moving parts for each case, plus its newest message id."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    newest: dict[int, int] = {
        case_id: message_id
        for case_id, message_id in session.execute(
            select(Message.case_id, func.max(Message.id))
            .where(Message.case_id.in_(ids))
            .group_by(Message.case_id)
        )
    }
    out: dict[int, dict[str, Any]] = {}
    for c in session.execute(
        select(
            Case.id,
            Case.status,
            Case.priority,
            Case.category,
            Case.network,
            Case.account_id,
            Case.assignee_id,
            Case.team_id,
            Case.last_activity_at,
        ).where(Case.id.in_(ids))
    ):
        out[c.id] = {
            "case_id": c.id,
            "status": c.status,
            "priority": c.priority,
            "category": c.category,
            "network": c.network,
            "account_id": c.account_id,
            "assignee_id": c.assignee_id,
            "team_id": c.team_id,
            "last_activity_at": _iso(c.last_activity_at),
            "message_id": newest.get(c.id),
        }
    return out


def publish_batch(session: Session, report: BatchReport) -> None:
    """After a pipeline batch: case.new for opened cases, message.new for the others touched."""
    new = set(report.new_cases)
    payloads = case_payloads(session, new | set(report.touched_cases))
    items = [
        ("case.new" if case_id in new else "message.new", payload)
        for case_id, payload in sorted(payloads.items())
    ]
    publish_many(session, items)


def publish_case_change(
    session: Session,
    case_id: int,
    kind: str = "case.updated",
    extra: dict[str, Any] | None = None,
) -> None:
    """After a change to one case: an agent's edit (case.updated), a reply queued or sent
    (reply.queued / reply.sent, `extra` naming the agent and outbox row), a new score."""
    payload = case_payloads(session, [case_id]).get(case_id, {"case_id": case_id})
    publish(session, kind, {**payload, **(extra or {})}, case_id=case_id)


def publish_rescored(session: Session, count: int) -> None:
    """After the periodic re-scoring: one event (not one per case) so inboxes re-fetch."""
    if count:
        publish(session, "case.priority", {"rescored": count})


def after_batch(session: Session, report: BatchReport) -> None:
    """Everything the desk does once a batch is threaded: search index, then live events."""
    new = set(report.new_cases)
    index_cases(session, new)  # a new case: its customer, language and first words
    # A case written to again: only the batch's new messages add words.
    add_message_terms(session, report.message_ids, report.touched_cases - new)
    publish_batch(session, report)
