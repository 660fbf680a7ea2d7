"""Who and which teams the pages' pickers offer (assign to an agent or a team): names only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.auth.models import Agent, Team


@dataclass(frozen=True, slots=True)
class Choice:
    id: int
    name: str


def active_agents(session: Session) -> list[Choice]:
    rows = session.execute(
        select(Agent.id, Agent.name)
        .where(Agent.active.is_(True), Agent.role != "viewer")
        .order_by(Agent.name, Agent.id)
    )
    return [Choice(id=i, name=n) for i, n in rows]


def teams(session: Session) -> list[Choice]:
    rows = session.execute(select(Team.id, Team.name).order_by(Team.name, Team.id))
    return [Choice(id=i, name=n) for i, n in rows]
