"""Managing the desk's agents: supervisors see them, admins create them."""

from __future__ import annotations

from fastapi import APIRouter, status

from carebird.auth import service
from carebird.web.api.schemas import AgentCreate, AgentPublic
from carebird.web.deps import Admin, DbSession, Supervisor

router = APIRouter(prefix="/api", tags=["agents"])


@router.get("/agents", response_model=list[AgentPublic])
def list_agents(agent: Supervisor, session: DbSession) -> list[AgentPublic]:
    return [AgentPublic.model_validate(a) for a in service.list_agents(session)]


@router.post("/agents", response_model=AgentPublic, status_code=status.HTTP_201_CREATED)
def create_agent(body: AgentCreate, agent: Admin, session: DbSession) -> AgentPublic:
    created = service.create_agent(session, **body.model_dump(mode="json"))
    return AgentPublic.model_validate(created)
