"""Team set-up and agents' statuses that move cases: the cases handed out or back are
announced to open inboxes, and a status change is announced itself (`agent.status`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from carebird.auth import people
from carebird.auth.models import Agent
from carebird.cases import teams
from carebird.cases.assignment import hand_back
from carebird.flows.announce import announce_cases
from carebird.live.events import AgentStatus, publish


def update_team(session: Session, team_id: int, changes: Mapping[str, Any]) -> list[int]:
    moved = teams.update_team(session, team_id, changes)
    announce_cases(session, moved)
    return moved


def add_member(session: Session, team_id: int, agent_id: int) -> list[int]:
    moved = teams.add_member(session, team_id, agent_id)
    announce_cases(session, moved)
    return moved


def set_status(session: Session, *, actor: Agent, agent_id: int, status: str) -> list[int]:
    """See `carebird.cases.teams.set_status`; announces the change and the cases moved."""
    before = session.get(Agent, agent_id)
    old = before.status if before is not None else None
    moved = teams.set_status(session, actor=actor, agent_id=agent_id, status=status)
    agent = session.get_one(Agent, agent_id)
    announce_cases(session, moved)
    if agent.status == old:
        return moved
    publish(
        session,
        AgentStatus(
            {
                "agent_id": agent.id,
                "status": agent.status,
                "team_id": agent.team_id,
                "by": actor.id,
                "cases": moved,
            }
        ),
    )
    return moved


def set_active(session: Session, *, agent_id: int, active: bool) -> Agent:
    """See `carebird.auth.people.set_active`; someone leaving the desk also hands back every
    active case assigned to them (a deactivated assignee could answer none of them)."""
    agent = people.set_active(session, agent_id=agent_id, active=active)
    if not active:
        announce_cases(session, hand_back(session, agent_id, reason="deactivated",
                                          only_waiting=False))  # fmt: skip
    return agent
