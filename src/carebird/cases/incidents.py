"""Incidents: many customers, one cause. Cases are grouped under one incident — found by the
burst detector as messages arrive (carebird.cases.incident_watch) or made by an agent — which
is created, merged, split and closed as one.

A case belongs to at most one incident (the link's primary key is the case), so two detectors
or two agents can never attach it twice; every change writes a case event (`incident`, old and
new incident ids) to each case it touches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from carebird.cases.log import event_row, write_events
from carebird.cases.models import Case
from carebird.db.base import Base, Id, utcnow
from carebird.errors import Conflict, InvalidInput, NotFound
from carebird.ingest.models import Message

OPEN, CLOSED = "open", "closed"
MAX_TITLE = 200


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status_last", "status", "last_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("network_accounts.id"))
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    status: Mapped[str] = mapped_column(String(8), default=OPEN)  # open | closed
    source: Mapped[str] = mapped_column(String(8), default="detected")  # detected | agent
    # The burst's terms (folded), strongest first: a new message holding them joins.
    signature: Mapped[list[Any]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime]  # its first message
    last_at: Mapped[datetime]  # its latest message
    closed_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))


class IncidentCase(Base):
    """A case in an incident: at most one incident per case (the primary key)."""

    __tablename__ = "incident_cases"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True, slots=True)
class IncidentRow:
    id: int
    title: str
    status: str
    source: str
    started_at: datetime
    last_at: datetime
    closed_at: datetime | None
    case_ids: list[int]
    external_ids: list[str]  # the network ids of the inbound messages of its cases
    growth: int  # cases added in the last hour

    @property
    def count(self) -> int:
        return len(self.case_ids)

    def as_dict(self) -> dict[str, Any]:
        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t else None

        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "source": self.source,
            "started_at": iso(self.started_at),
            "last_at": iso(self.last_at),
            "closed_at": iso(self.closed_at),
            "count": self.count,
            "growth": self.growth,
            "case_ids": self.case_ids,
            "external_ids": self.external_ids,
        }


def clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("an incident needs a title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"an incident's title is at most {MAX_TITLE} characters")
    return title


def get_incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    return incident


def _open_incident(session: Session, incident_id: int) -> Incident:
    incident = get_incident(session, incident_id)
    if incident.status != OPEN:
        raise Conflict(f"incident {incident_id} is closed")
    return incident


def case_ids_of(session: Session, incident_id: int) -> list[int]:
    rows = session.scalars(
        select(IncidentCase.case_id)
        .where(IncidentCase.incident_id == incident_id)
        .order_by(IncidentCase.case_id)
    )
    return list(rows)


def incident_of(session: Session, case_id: int) -> int | None:
    found: int | None = session.scalar(
        select(IncidentCase.incident_id).where(IncidentCase.case_id == case_id)
    )
    return found


def _check_cases(session: Session, case_ids: Sequence[int]) -> None:
    if not case_ids:
        raise InvalidInput("choose at least one case")
    found = set(session.scalars(select(Case.id).where(Case.id.in_(case_ids))))
    if missing := sorted(set(case_ids) - found):
        raise NotFound(f"case(s) not found: {', '.join(map(str, missing))}")


def link_cases(
    session: Session,
    incident_id: int,
    case_ids: Iterable[int],
    *,
    actor_id: int | None,
    at: datetime | None = None,
) -> list[int]:
    """Attach the cases not in an incident yet; returns those attached (a case already in one
    is left where it is: the primary key decides, even between two processes)."""
    ids = sorted(set(case_ids))
    if not ids:
        return []
    dialect = session.get_bind().dialect.name
    stmt: Any = (
        pg_insert(IncidentCase) if dialect == "postgresql" else sqlite_insert(IncidentCase)
    ).values([{"case_id": c, "incident_id": incident_id, "added_at": at or utcnow()} for c in ids])
    session.flush()
    added = list(
        session.scalars(
            stmt.on_conflict_do_nothing(index_elements=["case_id"]).returning(IncidentCase.case_id)
        )
    )
    write_events(
        session,
        [event_row(c, "incident", new=str(incident_id), actor_id=actor_id) for c in added],
    )
    return sorted(added)


def _span(session: Session, case_ids: Sequence[int]) -> tuple[datetime, datetime]:
    first, last = session.execute(
        select(func.min(Case.created_at), func.max(Case.last_activity_at)).where(
            Case.id.in_(case_ids)
        )
    ).one()
    now = utcnow()
    return first or now, last or now


def create_incident(
    session: Session,
    *,
    title: str,
    case_ids: Sequence[int],
    actor_id: int | None,
    signature: Sequence[str] = (),
    account_id: int | None = None,
) -> Incident:
    """An incident made by hand (or by the detector, `actor_id` None) from cases in none yet."""
    title = clean_title(title)
    _check_cases(session, case_ids)
    taken = session.scalars(
        select(IncidentCase.case_id).where(IncidentCase.case_id.in_(case_ids))
    ).all()
    if taken:
        raise Conflict(f"case(s) already in an incident: {', '.join(map(str, sorted(taken)))}")
    started, last = _span(session, case_ids)
    incident = Incident(
        title=title,
        status=OPEN,
        source="agent" if actor_id is not None else "detected",
        signature=list(signature),
        started_at=started,
        last_at=last,
        created_by=actor_id,
        account_id=account_id,
    )
    session.add(incident)
    session.flush()
    linked = link_cases(session, incident.id, case_ids, actor_id=actor_id)
    if len(linked) != len(set(case_ids)):  # the detector took some meanwhile: no empty twin
        raise Conflict("case(s) joined another incident meanwhile")
    return incident


def add_cases(
    session: Session, *, incident_id: int, case_ids: Sequence[int], actor_id: int | None
) -> list[int]:
    """Add cases by hand: each case in no other incident joins (else 409)."""
    incident = _open_incident(session, incident_id)
    _check_cases(session, case_ids)
    elsewhere = session.scalars(
        select(IncidentCase.case_id).where(
            IncidentCase.case_id.in_(case_ids), IncidentCase.incident_id != incident_id
        )
    ).all()
    if elsewhere:
        raise Conflict(f"case(s) in another incident: {', '.join(map(str, sorted(elsewhere)))}")
    added = link_cases(session, incident_id, case_ids, actor_id=actor_id)
    incident.last_at = max(incident.last_at, _span(session, case_ids)[1])
    return added


def _unlink(session: Session, incident_id: int, case_ids: Sequence[int]) -> list[int]:
    rows = session.scalars(
        select(IncidentCase.case_id).where(
            IncidentCase.incident_id == incident_id, IncidentCase.case_id.in_(case_ids)
        )
    ).all()
    if missing := sorted(set(case_ids) - set(rows)):
        raise InvalidInput(f"case(s) not in incident {incident_id}: {missing}")
    session.execute(
        delete(IncidentCase).where(
            IncidentCase.incident_id == incident_id, IncidentCase.case_id.in_(case_ids)
        )
    )
    return sorted(rows)


def split_incident(
    session: Session,
    *,
    incident_id: int,
    case_ids: Sequence[int],
    actor_id: int | None,
    title: str | None = None,
) -> Incident | None:
    """Take cases out of an incident: into a new incident when `title` is given, else out of
    any incident (a case that was not about this cause). Returns the new incident, if any."""
    incident = _open_incident(session, incident_id)
    if not case_ids:
        raise InvalidInput("choose at least one case")
    title = clean_title(title) if title is not None else None
    if title is not None and set(case_ids) >= set(case_ids_of(session, incident_id)):
        raise InvalidInput("a split leaves at least one case in the incident")
    moved = _unlink(session, incident_id, case_ids)
    write_events(
        session,
        [event_row(c, "incident", old=str(incident_id), actor_id=actor_id) for c in moved],
    )
    if title is None:
        return None
    new = create_incident(session, title=title, case_ids=moved, actor_id=actor_id)
    new.account_id = incident.account_id
    return new


def merge_incidents(
    session: Session, *, incident_id: int, into_id: int, actor_id: int | None
) -> Incident:
    """Move every case of `incident_id` into `into_id`, then close the first as merged."""
    if incident_id == into_id:
        raise InvalidInput("an incident cannot be merged into itself")
    # Both rows locked in id order and read afresh: of A→B and B→A at once, the second sees
    # its source closed (409) instead of both closing.
    session.scalars(
        select(Incident)
        .where(Incident.id.in_((incident_id, into_id)))
        .order_by(Incident.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    source = _open_incident(session, incident_id)
    target = _open_incident(session, into_id)
    moved = case_ids_of(session, incident_id)
    session.execute(
        update(IncidentCase)
        .where(IncidentCase.incident_id == incident_id)
        .values(incident_id=into_id)
    )
    write_events(
        session,
        [
            event_row(c, "incident", old=str(incident_id), new=str(into_id), actor_id=actor_id)
            for c in moved
        ],
    )
    target.started_at = min(target.started_at, source.started_at)
    target.last_at = max(target.last_at, source.last_at)
    source.status, source.closed_at, source.merged_into_id = CLOSED, utcnow(), into_id
    return target


def rename_incident(session: Session, *, incident_id: int, title: str) -> Incident:
    incident = get_incident(session, incident_id)
    incident.title = clean_title(title)
    return incident


def mark_closed(session: Session, *, incident_id: int) -> Incident:
    """The incident closed (its cases are resolved by carebird.flows.incidents.close)."""
    incident = _open_incident(session, incident_id)
    incident.status, incident.closed_at = CLOSED, utcnow()
    return incident


def list_incidents(
    session: Session,
    *,
    status: str | None = None,
    ids: Sequence[int] | None = None,
    limit: int = 200,
) -> list[IncidentRow]:
    """Incidents, newest activity first, with their cases and their inbound messages' ids."""
    query = select(Incident).order_by(Incident.last_at.desc(), Incident.id.desc()).limit(limit)
    if status is not None:
        if status not in (OPEN, CLOSED):
            raise InvalidInput("status: open or closed")
        query = query.where(Incident.status == status)
    if ids is not None:
        query = query.where(Incident.id.in_(ids))
    incidents = list(session.scalars(query))
    links = session.execute(
        select(IncidentCase.incident_id, IncidentCase.case_id, IncidentCase.added_at).where(
            IncidentCase.incident_id.in_([i.id for i in incidents])
        )
    ).all()
    cases: dict[int, list[int]] = {}
    recent: dict[int, int] = {}
    hour_ago = utcnow().timestamp() - 3600
    for incident_id, case_id, added_at in links:
        cases.setdefault(incident_id, []).append(case_id)
        if added_at.timestamp() >= hour_ago:
            recent[incident_id] = recent.get(incident_id, 0) + 1
    all_cases = [c for ids_ in cases.values() for c in ids_]
    externals: dict[int, list[str]] = {}
    for case_id, ext in session.execute(
        select(Message.case_id, Message.external_id)
        .where(Message.case_id.in_(all_cases), Message.direction == "in")
        .order_by(Message.created_at, Message.id)
    ):
        externals.setdefault(case_id, []).append(ext)
    rows = []
    for i in incidents:
        ids_ = sorted(cases.get(i.id, []))
        exts = [e for c in ids_ for e in externals.get(c, [])]
        rows.append(
            IncidentRow(
                i.id,
                i.title,
                i.status,
                i.source,
                i.started_at,
                i.last_at,
                i.closed_at,
                ids_,
                exts,
                recent.get(i.id, 0),
            )
        )
    return rows
