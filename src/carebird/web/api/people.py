"""The desk's people (admins): invitations, roles, deactivation, password resets; and API
tokens (one's own for anyone, everyone's for admins). Same functions as the People page."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from carebird.auth import invitations, people
from carebird.auth.roles import Role, require
from carebird.auth.service import get_agent
from carebird.flows import teams as team_flows
from carebird.mail import Mailer
from carebird.web.api.schemas import AgentPublic, Strict
from carebird.web.deps import Admin, AppSettings, DbSession, Viewer
from carebird.web.params import Id, IdQuery

router = APIRouter(prefix="/api", tags=["people"])


class PersonPublic(AgentPublic):
    state: str  # active | invited | inactive


class Invite(Strict):
    email: str = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.AGENT
    locale: str = Field(default="fr", pattern="^(fr|en)$")


class PersonChange(Strict):
    role: Role | None = None
    active: bool | None = None


class TokenPublic(BaseModel):
    id: int
    agent_id: int
    agent_name: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


def _public(person: people.Person) -> PersonPublic:
    return PersonPublic.model_validate(
        {**AgentPublic.model_validate(person.agent).model_dump(), "state": person.state}
    )


def _one(agent_id: int, session: DbSession) -> PersonPublic:
    agent = get_agent(session, agent_id=agent_id)
    return _public(people.Person(agent=agent, state=people.person_state(agent)))


@router.get("/people", response_model=list[PersonPublic])
def list_people(agent: Admin, session: DbSession) -> list[PersonPublic]:
    return [_public(p) for p in people.list_people(session)]


@router.post("/people", response_model=PersonPublic, status_code=status.HTTP_201_CREATED)
def invite(body: Invite, agent: Admin, session: DbSession, settings: AppSettings) -> PersonPublic:
    """Create the person (no password yet) and e-mail them a link to choose one (72 h,
    once). 502 when the mail server refuses: then nobody is created."""
    sent = invitations.invite(
        session,
        email=body.email,
        name=body.name,
        role=body.role,
        locale=body.locale,
        invited_by=agent.name,
        mailer=Mailer.from_settings(settings),
        public_url=settings.public_url,
    )
    return _one(sent.agent.id, session)


@router.patch("/people/{agent_id}", response_model=PersonPublic)
def change(agent_id: Id, body: PersonChange, agent: Admin, session: DbSession) -> PersonPublic:
    """Change the role and/or deactivate (every session and token revoked) or reactivate;
    409 when the desk would be left without an active admin."""
    if body.role is not None:
        people.set_role(session, agent_id=agent_id, role=body.role)
    if body.active is not None:
        team_flows.set_active(session, agent_id=agent_id, active=body.active)
    return _one(agent_id, session)


@router.post("/people/{agent_id}/invitation", status_code=status.HTTP_204_NO_CONTENT)
def resend(agent_id: Id, agent: Admin, session: DbSession, settings: AppSettings) -> Response:
    """E-mail a fresh invitation link (the previous one stops working)."""
    invitations.resend_invitation(
        session,
        agent_id=agent_id,
        invited_by=agent.name,
        mailer=Mailer.from_settings(settings),
        public_url=settings.public_url,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/people/{agent_id}/password-reset", status_code=status.HTTP_204_NO_CONTENT)
def reset(agent_id: Id, agent: Admin, session: DbSession, settings: AppSettings) -> Response:
    """E-mail a single-use link to choose a new password (using it ends their sessions)."""
    invitations.send_reset(
        session,
        agent_id=agent_id,
        mailer=Mailer.from_settings(settings),
        public_url=settings.public_url,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/tokens", response_model=list[TokenPublic])
def list_tokens(
    agent: Viewer, session: DbSession, agent_id: IdQuery = None, all: bool = False
) -> list[TokenPublic]:
    """Your live API tokens (never their secret); admins: `agent_id=` or `all=true`."""
    owner: int | None = agent.id
    if all or (agent_id is not None and agent_id != agent.id):
        require(agent, Role.ADMIN)
        owner = None if all else agent_id
    rows = people.list_tokens(session, agent_id=owner)
    return [TokenPublic.model_validate(t, from_attributes=True) for t in rows]


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: Id, agent: Viewer, session: DbSession) -> Response:
    """Revoke an API token: your own, or anyone's as admin (404 otherwise)."""
    people.revoke_api_token(session, actor=agent, token_id=token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
