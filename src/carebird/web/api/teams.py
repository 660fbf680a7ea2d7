"""Teams (admins set them up: members, lead, assignment mode, cap) and agents' statuses (an
agent sets their own, a supervisor anyone's). The same functions as the Teams page."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Response
from fastapi import status as http
from pydantic import BaseModel, ConfigDict, Field

from carebird.cases import teams
from carebird.flows import teams as flows
from carebird.web.deps import Admin, AgentRole, DbSession, Routing, Supervisor
from carebird.web.params import Id, IdField

router = APIRouter(prefix="/api", tags=["teams"])
Mode = Literal["manual", "round_robin", "least_loaded"]
Status = Literal["available", "away", "offline"]


class MemberPublic(BaseModel):
    id: int
    name: str
    email: str
    status: str
    status_changed_at: datetime | None
    open_cases: int = Field(description="active cases assigned to them")


class TeamPublic(BaseModel):
    id: int
    name: str
    lead_id: int | None
    assignment: str
    max_open_per_agent: int | None = Field(description="null: no cap")
    members: list[MemberPublic]
    waiting: int = Field(description="active cases with the team, unassigned")


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    lead_id: IdField | None = None
    assignment: Mode = "manual"
    max_open_per_agent: int | None = Field(default=None, ge=1, le=teams.MAX_CAP)


class TeamUpdate(BaseModel):
    """Only the fields sent change; null clears the lead or the cap."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    lead_id: IdField | None = None
    assignment: Mode | None = None
    max_open_per_agent: int | None = Field(default=None, ge=1, le=teams.MAX_CAP)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status


class StatusResult(BaseModel):
    agent_id: int
    status: str
    cases: list[int] = Field(description="cases handed back or out because of the change")


def _public(view: teams.TeamView) -> TeamPublic:
    t = view.team
    return TeamPublic(
        id=t.id,
        name=t.name,
        lead_id=t.lead_id,
        assignment=t.assignment,
        max_open_per_agent=t.max_open_per_agent,
        waiting=view.waiting,
        members=[
            MemberPublic(
                id=a.id, name=a.name, email=a.email, status=a.status,
                status_changed_at=a.status_changed_at, open_cases=view.loads.get(a.id, 0),
            )
            for a in view.members
        ],
    )  # fmt: skip


def _one(session: DbSession, team_id: int) -> TeamPublic:
    return next(_public(v) for v in teams.list_teams(session) if v.team.id == team_id)


@router.get("/teams", response_model=list[TeamPublic])
def list_teams(agent: AgentRole, session: DbSession) -> list[TeamPublic]:
    """Every team with its members, their statuses and loads."""
    return [_public(v) for v in teams.list_teams(session)]


@router.post("/teams", response_model=TeamPublic, status_code=http.HTTP_201_CREATED)
def create_team(body: TeamCreate, agent: Admin, session: DbSession) -> TeamPublic:
    team = teams.create_team(session, name=body.name)
    flows.update_team(session, team.id, body.model_dump(exclude={"name"}))
    return _one(session, team.id)


@router.patch("/teams/{team_id}", response_model=TeamPublic)
def update_team(team_id: Id, body: TeamUpdate, agent: Admin, session: DbSession) -> TeamPublic:
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "assignment"):
        if key in changes and changes[key] is None:
            del changes[key]
    flows.update_team(session, team_id, changes)
    return _one(session, team_id)


@router.delete("/teams/{team_id}", status_code=http.HTTP_204_NO_CONTENT)
def delete_team(team_id: Id, agent: Admin, session: DbSession, setup: Routing) -> Response:
    """Only a team nobody belongs to, that no case, rule or setting names."""
    declared = setup.teams + tuple(r.spec.then.team for r in setup.rules if r.spec.then.team)
    teams.delete_team(session, team_id, declared=declared)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.put("/teams/{team_id}/members/{agent_id}", response_model=TeamPublic)
def add_member(team_id: Id, agent_id: Id, agent: Admin, session: DbSession) -> TeamPublic:
    """Put an agent in the team (they leave their previous one)."""
    flows.add_member(session, team_id, agent_id)
    return _one(session, team_id)


@router.delete("/teams/{team_id}/members/{agent_id}", response_model=TeamPublic)
def remove_member(team_id: Id, agent_id: Id, agent: Admin, session: DbSession) -> TeamPublic:
    teams.remove_member(session, team_id, agent_id)
    return _one(session, team_id)


@router.put("/agents/me/status", response_model=StatusResult)
def set_my_status(body: StatusChange, agent: AgentRole, session: DbSession) -> StatusResult:
    """Available, away or offline: away and offline hand back the cases awaiting an answer."""
    moved = flows.set_status(session, actor=agent, agent_id=agent.id, status=body.status)
    return StatusResult(agent_id=agent.id, status=body.status, cases=moved)


@router.put("/agents/{agent_id}/status", response_model=StatusResult)
def set_status(
    agent_id: Id, body: StatusChange, agent: Supervisor, session: DbSession
) -> StatusResult:
    moved = flows.set_status(session, actor=agent, agent_id=agent_id, status=body.status)
    return StatusResult(agent_id=agent_id, status=body.status, cases=moved)
