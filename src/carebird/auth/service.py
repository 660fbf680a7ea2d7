"""Agents, logins and tokens: every entry point (API, pages, CLI) calls these functions.

A token is `cb_` followed by 43 random URL-safe characters; only its SHA-256 digest is stored,
so a database leak yields no usable credential. Session tokens expire (12 h by default); API
tokens live until revoked unless given a lifetime.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.auth.models import Agent, ApiToken, Team
from carebird.auth.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    burn_verify,
    hash_password,
    needs_rehash,
    verify_password,
)
from carebird.auth.roles import Role, check_role
from carebird.auth.throttle import begin_attempt, end_attempt
from carebird.db.base import utcnow
from carebird.errors import AuthError, Conflict, InvalidInput, NotFound

TOKEN_PREFIX = "cb_"
SESSION_TTL = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)
TokenKind = Literal["api", "session"]
CREDENTIAL_KINDS = ("api", "session")


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or not domain or len(email) > 254 or any(c.isspace() for c in email):
        raise InvalidInput(f"not an e-mail address: {email[:80]!r}")
    return email


def initials_of(name: str) -> str:
    """'Marie Curie' → 'MC', 'Jean-Paul Sartre' → 'JS', 'Cher' → 'CH'."""
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[-1][0]).upper()


def check_password(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(f"a password needs {MIN_LENGTH} to {MAX_LENGTH} characters")


def create_agent(
    session: Session,
    *,
    email: str,
    name: str,
    password: str | None,
    role: str,
    initials: str | None = None,
    team_id: int | None = None,
    locale: str = "fr",
) -> Agent:
    email = normalise_email(email)
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("an agent needs a name")
    check_role(role)
    if password is not None:
        check_password(password)
    if team_id is not None and session.get(Team, team_id) is None:
        raise InvalidInput(f"team {team_id} does not exist")
    if session.scalar(select(Agent.id).where(Agent.email == email)) is not None:
        raise Conflict(f"an agent with e-mail {email} already exists")
    agent = Agent(
        email=email,
        name=name[:200],
        initials=(initials or initials_of(name)).strip()[:8] or initials_of(name),
        role=role,
        password_hash=hash_password(password) if password is not None else None,
        team_id=team_id,
        locale=locale if locale in ("fr", "en") else "fr",
        active=True,
    )
    session.add(agent)
    session.flush()
    return agent


def get_agent(session: Session, *, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id} not found")
    return agent


def list_agents(session: Session) -> list[Agent]:
    return list(session.scalars(select(Agent).order_by(Agent.name, Agent.id)))


def authenticate(session: Session, *, email: str, password: str) -> Agent:
    """The active agent with these credentials, else AuthError (same message, similar time)."""
    try:
        email = normalise_email(email)
    except InvalidInput:
        email = ""
    agent = session.scalar(select(Agent).where(Agent.email == email)) if email else None
    if agent is None or not agent.active or agent.password_hash is None:
        burn_verify(password)
        raise AuthError("wrong e-mail or password")
    if not verify_password(agent.password_hash, password):
        raise AuthError("wrong e-mail or password")
    if needs_rehash(agent.password_hash):
        agent.password_hash = hash_password(password)
    return agent


@dataclass(frozen=True, slots=True)
class SignedIn:
    agent: Agent
    token: str  # the session token's secret
    expires_at: datetime | None


def sign_in(
    session: Session, *, email: str, password: str, ip: str | None, token_name: str
) -> SignedIn:
    """Check credentials under the login throttle and open a session token for the agent.

    The session must have no transaction open: this commits its own. The attempt is counted
    (atomically with the lock check) and committed before Argon2 runs, with no connection held
    while it does; so parallel guesses at one e-mail check at most the throttle's threshold of
    passwords, and a failure counts though the request then fails. Raises LoginThrottled
    (no password checked) or AuthError (same message, similar time for an unknown e-mail).
    """
    try:
        address = normalise_email(email)
    except InvalidInput:
        address = ""
    with session.begin():
        attempt = begin_attempt(session, email=email, ip=ip)
        agent = session.scalar(select(Agent).where(Agent.email == address)) if address else None
    usable = agent is not None and agent.active and agent.password_hash is not None
    stored = agent.password_hash if agent is not None and usable else None
    if not verify_password(stored, password) or agent is None or not usable:
        raise AuthError("wrong e-mail or password")
    with session.begin():
        end_attempt(session, attempt)
        if needs_rehash(agent.password_hash or ""):
            agent.password_hash = hash_password(password)
        token = issue_token(session, agent=agent, kind="session", name=token_name)
        row = token_row(session, token=token)
        return SignedIn(agent=agent, token=token, expires_at=row.expires_at if row else None)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def issue_token(
    session: Session,
    *,
    agent: Agent,
    kind: TokenKind = "api",
    name: str = "",
    ttl: timedelta | None = None,
) -> str:
    """Store a new token for `agent` and return its secret (shown once, never stored)."""
    if kind not in ("api", "session"):
        raise InvalidInput(f"unknown token kind {kind!r}")
    if kind == "session" and ttl is None:
        ttl = SESSION_TTL
    if ttl is not None and ttl <= timedelta(0):
        raise InvalidInput("a token lifetime must be positive")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        ApiToken(
            agent_id=agent.id,
            kind=kind,
            name=name.strip()[:120],
            digest=token_digest(secret),
            created_at=now,
            expires_at=now + ttl if ttl is not None else None,
            revoked=False,
        )
    )
    session.flush()
    return secret


def token_row(session: Session, *, token: str) -> ApiToken | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return session.scalar(select(ApiToken).where(ApiToken.digest == token_digest(token)))


def resolve_token(session: Session, *, token: str) -> Agent:
    """The agent a live token belongs to; AuthError when unknown, expired, revoked or inactive.
    The token and its agent come from one statement: every signed-in request runs it."""
    found = None
    if token.startswith(TOKEN_PREFIX) and len(token) <= 200:
        stmt = select(ApiToken, Agent).join(Agent, Agent.id == ApiToken.agent_id)
        found = session.execute(stmt.where(ApiToken.digest == token_digest(token))).first()
    now = utcnow()
    if found is None:
        raise AuthError("invalid or expired credentials")
    row: ApiToken = found[0]
    agent: Agent = found[1]
    if row.kind not in CREDENTIAL_KINDS:  # never an invitation or reset link
        raise AuthError("invalid or expired credentials")
    if row.revoked or (row.expires_at is not None and row.expires_at <= now):
        raise AuthError("invalid or expired credentials")
    if not agent.active:
        raise AuthError("invalid or expired credentials")
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
    return agent


def revoke_token(session: Session, *, token: str) -> bool:
    """Revoke a token by its secret (logout); True when a live token was revoked."""
    row = token_row(session, token=token)
    if row is None or row.revoked:
        return False
    row.revoked = True
    return True


def revoke_token_id(session: Session, *, token_id: int, agent_id: int | None = None) -> None:
    """Revoke by id; with `agent_id`, only that agent's own token."""
    row = session.get(ApiToken, token_id)
    if row is None or (agent_id is not None and row.agent_id != agent_id):
        raise NotFound(f"token {token_id} not found")
    row.revoked = True


def ensure_admin(
    session: Session, *, email: str, password: str | None = None
) -> tuple[Agent, str | None]:
    """Make sure the desk has an admin; return it and the generated password if one was made."""
    admin = session.scalar(
        select(Agent).where(Agent.role == Role.ADMIN, Agent.active.is_(True)).order_by(Agent.id)
    )
    if admin is not None:
        return admin, None
    generated = None
    if password is None:
        password = generated = secrets.token_urlsafe(15)
    admin = create_agent(
        session, email=email, name="Administrator", password=password, role=Role.ADMIN
    )
    return admin, generated
