"""Managing the desk's people: roles, deactivation, API tokens (the People page, the API and
`carebird agents` call these).

The desk never stays without an active admin: a change that would remove the last one is
refused. Two admins demoting each other at once cannot both pass: every change first writes
the active admins' rows (row locks on PostgreSQL, the write lock on SQLite), so the second
change waits for the first and counts what it left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from carebird.auth.models import Agent, ApiToken
from carebird.auth.roles import Role, check_role, has_role
from carebird.auth.service import get_agent
from carebird.db.base import utcnow
from carebird.errors import Conflict, NotFound

LAST_ADMIN = "the desk needs at least one active admin: make another person admin first"


def _lock_admins(session: Session) -> None:
    session.execute(
        update(Agent)
        .where(Agent.role == Role.ADMIN, Agent.active.is_(True))
        .values(role=Agent.role)
        .execution_options(synchronize_session=False)
    )


def _check_admins_left(session: Session) -> None:
    session.flush()
    left = session.scalar(
        select(func.count()).where(Agent.role == Role.ADMIN, Agent.active.is_(True))
    )
    if not left:
        raise Conflict(LAST_ADMIN)


def find_agent(session: Session, *, email: str) -> Agent:
    """The agent with this e-mail address (any case), else NotFound."""
    agent = session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    if agent is None:
        raise NotFound(f"no agent with e-mail {email.strip()[:254]}")
    return agent


def set_role(session: Session, *, agent_id: int, role: str) -> Agent:
    """Give a person another role (refused when it would leave no active admin)."""
    new = check_role(role)
    _lock_admins(session)
    agent = get_agent(session, agent_id=agent_id)
    session.refresh(agent)
    agent.role = new.value
    _check_admins_left(session)
    return agent


def revoke_all(session: Session, *, agent_id: int, kinds: tuple[str, ...] | None = None) -> int:
    """Revoke every live token of the agent (of `kinds` only, when given); how many."""
    stmt = update(ApiToken).where(ApiToken.agent_id == agent_id, ApiToken.revoked.is_(False))
    if kinds is not None:
        stmt = stmt.where(ApiToken.kind.in_(kinds))
    done = session.execute(stmt.values(revoked=True).execution_options(synchronize_session=False))
    session.expire_all()
    return int(done.rowcount)  # type: ignore[attr-defined]


def set_active(session: Session, *, agent_id: int, active: bool) -> Agent:
    """Deactivate a person (every session, API token and link revoked at once: they can no
    longer sign in) or let them back in (their old tokens stay revoked)."""
    _lock_admins(session)
    agent = get_agent(session, agent_id=agent_id)
    session.refresh(agent)
    agent.active = active
    if not active:
        _check_admins_left(session)
        revoke_all(session, agent_id=agent_id)
        session.refresh(agent)
    return agent


@dataclass(frozen=True, slots=True)
class Person:
    agent: Agent
    state: str  # active | invited (no password yet) | inactive


def person_state(agent: Agent) -> str:
    if not agent.active:
        return "inactive"
    return "invited" if agent.password_hash is None else "active"


def list_people(session: Session) -> list[Person]:
    agents = session.scalars(select(Agent).order_by(Agent.name, Agent.id))
    return [Person(agent=a, state=person_state(a)) for a in agents]


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    agent_id: int
    agent_name: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


def list_tokens(session: Session, *, agent_id: int | None = None) -> list[TokenInfo]:
    """The live API tokens (of one agent, or everyone's): never their secret."""
    now = utcnow()
    stmt = (
        select(ApiToken, Agent.name)
        .join(Agent, Agent.id == ApiToken.agent_id)
        .where(
            ApiToken.kind == "api",
            ApiToken.revoked.is_(False),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now),
        )
        .order_by(Agent.name, ApiToken.created_at, ApiToken.id)
    )
    if agent_id is not None:
        stmt = stmt.where(ApiToken.agent_id == agent_id)
    return [
        TokenInfo(
            id=t.id,
            agent_id=t.agent_id,
            agent_name=name,
            name=t.name,
            created_at=t.created_at,
            last_used_at=t.last_used_at,
            expires_at=t.expires_at,
        )
        for t, name in session.execute(stmt).tuples()
    ]


def revoke_api_token(session: Session, *, actor: Agent, token_id: int) -> None:
    """Revoke an API token: one's own, or (admins) anyone's. Someone else's token is
    NotFound to a non-admin (no hint that it exists)."""
    row = session.get(ApiToken, token_id)
    if row is None or row.kind != "api":
        raise NotFound(f"token {token_id} not found")
    if row.agent_id != actor.id and not has_role(actor, Role.ADMIN):
        raise NotFound(f"token {token_id} not found")
    row.revoked = True
