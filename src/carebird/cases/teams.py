"""Teams and their members, as admins set them up (the API, the Teams page and the settings'
`[[teams]]` call these), and an agent's status (available, away, offline).

Changes that can free a member for the team's waiting cases (a member added, the mode or cap
changed, an agent back) hand those cases out; an agent going away hands back their cases whose
customer waits on us (carebird.cases.assignment). Each function returns the cases it changed,
for the flow to announce (carebird.flows.teams).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carebird.auth.models import Agent, Team
from carebird.auth.roles import has_role
from carebird.cases import assignment
from carebird.cases.models import Case
from carebird.cases.routing import TeamSpec, desk_rules
from carebird.db.base import utcnow
from carebird.errors import Conflict, Forbidden, InvalidInput, NotFound

log = logging.getLogger(__name__)
MAX_CAP = 1000
SETTINGS = frozenset({"name", "lead_id", "assignment", "max_open_per_agent"})


@dataclass(frozen=True, slots=True)
class TeamView:
    team: Team
    members: list[Agent]
    lead: Agent | None
    loads: dict[int, int]  # active cases assigned, by member
    waiting: int  # active cases with the team, unassigned


def get_team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"team {team_id} not found")
    return team


def list_teams(session: Session) -> list[TeamView]:
    teams = list(session.scalars(select(Team).order_by(Team.name, Team.id)))
    members: dict[int, list[Agent]] = {}
    for agent in session.scalars(
        select(Agent).where(Agent.team_id.is_not(None)).order_by(Agent.name, Agent.id)
    ):
        members.setdefault(agent.team_id or 0, []).append(agent)
    loads = assignment.loads(session, [a.id for ms in members.values() for a in ms])
    waiting = {
        team_id: n
        for team_id, n in session.execute(
            select(Case.team_id, func.count())
            .where(Case.assignee_id.is_(None), Case.status.in_(assignment.OPEN_STATUSES))
            .group_by(Case.team_id)
        ).tuples()
    }
    return [
        TeamView(
            t,
            members.get(t.id, []),
            session.get(Agent, t.lead_id) if t.lead_id else None,
            {a.id: loads.get(a.id, 0) for a in members.get(t.id, [])},
            waiting.get(t.id, 0),
        )
        for t in teams
    ]


def _name(session: Session, raw: str, *, team_id: int | None = None) -> str:
    name = " ".join(str(raw).split())
    if not 0 < len(name) <= 120:
        raise InvalidInput("a team needs a name (1 to 120 characters)")
    # lower() on both sides: SQLite folds ASCII only, and must compare like with like.
    other = session.scalar(select(Team.id).where(func.lower(Team.name) == func.lower(name)))
    if other is not None and other != team_id:
        raise Conflict(f"a team named {name!r} already exists")
    return name


def _save(session: Session, team: Team) -> None:
    """Write a team: of two admins giving one name at once (create or rename), the unique
    name lets one win and tells the other (409)."""
    try:
        with session.begin_nested():
            session.add(team)
            session.flush()
    except IntegrityError:
        raise Conflict(f"a team named {team.name!r} already exists") from None


def create_team(session: Session, *, name: str) -> Team:
    team = Team(name=_name(session, name), created_at=utcnow())
    _save(session, team)
    return team


def _check(session: Session, key: str, value: Any) -> Any:
    if key == "assignment" and value not in assignment.MODES:
        raise InvalidInput(f"assignment: one of {', '.join(assignment.MODES)}")
    whole = isinstance(value, int) and not isinstance(value, bool)
    if key == "max_open_per_agent" and value is not None and not (whole and 1 <= value <= MAX_CAP):
        raise InvalidInput(f"max_open_per_agent: a whole number from 1 to {MAX_CAP}, or none")
    if key == "lead_id" and value is not None:
        lead = session.get(Agent, value)
        if lead is None or not lead.active:
            raise InvalidInput(f"lead: agent {value} does not exist or is inactive")
    return value


def update_team(session: Session, team_id: int, changes: Mapping[str, Any]) -> list[int]:
    """Change the keys given (name, lead_id, assignment, max_open_per_agent; None clears the
    lead or the cap); the waiting cases then handed out."""
    unknown = set(changes) - SETTINGS
    if unknown:
        raise InvalidInput(f"unknown fields: {sorted(unknown)}")
    get_team(session, team_id)
    # Locked first, as an assignment locks it: never held while waiting for a lower team.
    team = assignment.lock_team(session, team_id) or get_team(session, team_id)
    checked = {k: _check(session, k, v) for k, v in changes.items() if k != "name"}
    if "name" in changes:
        checked["name"] = _name(session, changes["name"], team_id=team_id)
    for key, value in checked.items():
        setattr(team, key, value)
    _save(session, team)
    return assignment.fill_team(session, team_id)


def delete_team(session: Session, team_id: int, *, declared: tuple[str, ...] = ()) -> None:
    """Delete a team nobody belongs to and no case or rule names."""
    team = get_team(session, team_id)
    if session.scalar(select(func.count()).where(Agent.team_id == team_id)):
        raise Conflict(f"team {team.name!r} still has members")
    if session.scalar(select(func.count()).where(Case.team_id == team_id)):
        raise Conflict(f"cases belong to team {team.name!r}: it stays for their history")
    named = {r.spec.then.team.lower() for r in desk_rules(session) if r.spec.then.team}
    if team.name.lower() in named | {d.lower() for d in declared}:
        raise Conflict(f"team {team.name!r} is named by a routing rule or the settings")
    session.delete(team)
    session.flush()


def _agent(session: Session, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id} not found")
    return agent


def add_member(session: Session, team_id: int, agent_id: int) -> list[int]:
    """Put the agent in the team (an agent belongs to one team: they leave their other one)."""
    get_team(session, team_id)
    agent = _agent(session, agent_id)
    if not agent.active:
        raise InvalidInput(f"agent {agent_id} is inactive")
    agent.team_id = team_id
    session.flush()
    return assignment.fill_team(session, team_id)


def remove_member(session: Session, team_id: int, agent_id: int) -> None:
    """Take the agent out of the team (their cases stay theirs)."""
    get_team(session, team_id)
    agent = _agent(session, agent_id)
    if agent.team_id != team_id:
        raise NotFound(f"agent {agent_id} is not in team {team_id}")
    agent.team_id = None
    session.flush()


def set_status(session: Session, *, actor: Agent, agent_id: int, status: str) -> list[int]:
    """An agent's own status, or anyone's for a supervisor or admin; the cases changed (handed
    back when the agent goes away or offline, handed out when they are available again)."""
    if status not in assignment.STATUSES:
        raise InvalidInput(f"status: one of {', '.join(assignment.STATUSES)}")
    if agent_id != actor.id and not has_role(actor, "supervisor"):
        raise Forbidden("only a supervisor or an admin sets another agent's status")
    agent = _agent(session, agent_id)
    if agent.status == status:
        return []
    agent.status, agent.status_changed_at = status, utcnow()
    session.flush()
    if status != "available":
        return assignment.hand_back(session, agent_id, reason=status)
    return assignment.fill_team(session, agent.team_id) if agent.team_id else []


def apply_declared(session: Session, specs: Iterable[TeamSpec]) -> None:
    """The settings `[[teams]]` gives (lead, assignment, max_open_per_agent), at each start:
    the file wins over the desk for what it names (the teams exist: `ensure_teams`)."""
    for spec in specs:
        team = session.scalar(select(Team).where(func.lower(Team.name) == spec.name.lower()))
        if team is None:
            continue
        changes: dict[str, Any] = {}
        if spec.assignment is not None:
            changes["assignment"] = spec.assignment
        if spec.max_open_per_agent is not None:
            changes["max_open_per_agent"] = spec.max_open_per_agent
        if spec.lead is not None:
            lead = session.scalar(
                select(Agent.id).where(
                    func.lower(Agent.email) == spec.lead.lower(), Agent.active.is_(True)
                )
            )
            if lead is None:
                log.warning("teams: %s: no active agent %s to lead it", spec.name, spec.lead)
            else:
                changes["lead_id"] = lead
        if changes:
            update_team(session, team.id, changes)
