"""Who is viewing or typing on a case, live.

Each open case page sends a heartbeat every few seconds; an entry not refreshed within
`PRESENCE_TTL` has left. Entries live in the database so every web worker sees them; a change
(someone arrives, starts or stops typing, leaves) is announced by carebird.flows.presence as a
`presence` event carrying the case's current list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from carebird.auth.models import Agent
from carebird.cases.models import Case
from carebird.db.base import Base, utcnow
from carebird.errors import InvalidInput, NotFound

PRESENCE_TTL = timedelta(seconds=20)
State = Literal["viewing", "typing"]
STATES: tuple[str, ...] = ("viewing", "typing")


class Presence(Base):
    __tablename__ = "presence"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(8))
    seen_at: Mapped[datetime] = mapped_column(index=True)


@dataclass(frozen=True, slots=True)
class PresenceEntry:
    agent_id: int
    name: str
    initials: str
    state: str
    seen_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "name": self.name,
            "initials": self.initials,
            "state": self.state,
            "seen_at": self.seen_at.isoformat(),
        }


def _current(session: Session, case_id: int, now: datetime) -> dict[int, Presence]:
    rows = session.scalars(
        select(Presence).where(Presence.case_id == case_id, Presence.seen_at > now - PRESENCE_TTL)
    )
    return {r.agent_id: r for r in rows}


def who_is_here(
    session: Session,
    *,
    case_id: int,
    exclude_agent_id: int | None = None,
    now: datetime | None = None,
) -> list[PresenceEntry]:
    """The agents on the case page now (typing first), optionally without the asking one."""
    now = now or utcnow()
    stmt = (
        select(Presence, Agent.name, Agent.initials)
        .join(Agent, Agent.id == Presence.agent_id)
        .where(Presence.case_id == case_id, Presence.seen_at > now - PRESENCE_TTL)
    )
    entries = [
        PresenceEntry(p.agent_id, name, initials, p.state, p.seen_at)
        for p, name, initials in session.execute(stmt)
        if p.agent_id != exclude_agent_id
    ]
    return sorted(entries, key=lambda e: (e.state != "typing", e.name, e.agent_id))


def presence_payload(session: Session, case_id: int, now: datetime) -> dict[str, Any]:
    """What a `presence` event carries: the case and everyone on it now."""
    agents = [e.as_dict() for e in who_is_here(session, case_id=case_id, now=now)]
    return {"case_id": case_id, "agents": agents}


def _upsert(session: Session, row: dict[str, Any]) -> None:
    dialect = session.get_bind().dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(Presence).values(row)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["case_id", "agent_id"],
            set_={"state": stmt.excluded.state, "seen_at": stmt.excluded.seen_at},
        )
    )


@dataclass(frozen=True, slots=True)
class Heartbeat:
    others: list[PresenceEntry]  # who else is on the case
    changed: bool  # the picture changed (arrival, state change, expiry): tell the pages


def heartbeat(
    session: Session, *, case_id: int, agent_id: int, state: str, now: datetime
) -> Heartbeat:
    """Record that the agent is on the case (`viewing` or `typing`); say who else is, and
    whether the case's picture changed (carebird.flows.presence announces it)."""
    if state not in STATES:
        raise InvalidInput(f"unknown presence state {state!r}: one of {', '.join(STATES)}")
    if session.get(Case, case_id) is None:
        raise NotFound(f"case {case_id} not found")
    expired = _expire(session, now, case_id=case_id)
    before = _current(session, case_id, now).get(agent_id)
    changed = bool(expired) or before is None or before.state != state
    _upsert(session, {"case_id": case_id, "agent_id": agent_id, "state": state, "seen_at": now})
    session.expire_all()  # the upsert bypassed the identity map
    others = who_is_here(session, case_id=case_id, exclude_agent_id=agent_id, now=now)
    return Heartbeat(others, changed)


def leave(session: Session, *, case_id: int, agent_id: int) -> bool:
    """The agent closed the case page: gone at once rather than after the TTL (True if they
    were there)."""
    gone = session.execute(
        delete(Presence).where(Presence.case_id == case_id, Presence.agent_id == agent_id)
    )
    return bool(gone.rowcount)  # type: ignore[attr-defined]


def _expire(session: Session, now: datetime, *, case_id: int | None = None) -> set[int]:
    stale = select(Presence.case_id).where(Presence.seen_at <= now - PRESENCE_TTL)
    if case_id is not None:
        stale = stale.where(Presence.case_id == case_id)
    cases = set(session.scalars(stale.distinct()))
    if cases:
        cond = [Presence.seen_at <= now - PRESENCE_TTL, Presence.case_id.in_(cases)]
        session.execute(delete(Presence).where(*cond))
    return cases


def expire_presence(session: Session, *, now: datetime) -> set[int]:
    """Drop entries past their TTL everywhere; the cases whose pages must be told."""
    return _expire(session, now)


def present_on(
    session: Session, case_ids: Iterable[int], *, now: datetime | None = None
) -> dict[int, list[int]]:
    """Agent ids on each of these cases now (the inbox shows who is on which row)."""
    now = now or utcnow()
    ids = list(case_ids)
    out: dict[int, list[int]] = {}
    if not ids:
        return out
    stmt = select(Presence.case_id, Presence.agent_id).where(
        Presence.case_id.in_(ids), Presence.seen_at > now - PRESENCE_TTL
    )
    for case_id, agent_id in session.execute(stmt.order_by(Presence.agent_id)):
        out.setdefault(case_id, []).append(agent_id)
    return out
