"""Passwords, agents, tokens and roles, on both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from carebird.auth import service
from carebird.auth.models import Agent, ApiToken
from carebird.auth.passwords import hash_password, needs_rehash, verify_password
from carebird.auth.roles import has_role, require
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.errors import AuthError, Conflict, Forbidden, InvalidInput


def test_password_hashing_round_trip() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$") and "correct" not in hashed
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "wrong horse battery")
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")
    assert not needs_rehash(hashed)
    weak = "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$ZmFrZWhhc2hmYWtlaGFzaA"
    assert needs_rehash(weak)


@pytest.mark.parametrize(
    ("name", "initials"),
    [("Marie Curie", "MC"), ("Jean-Paul Sartre", "JS"), ("Cher", "CH"), ("  ", "?")],
)
def test_initials(name: str, initials: str) -> None:
    assert service.initials_of(name) == initials


def test_create_agent_and_login(db: Database) -> None:
    with db.session() as s, s.begin():
        agent = service.create_agent(
            s,
            email=" Marie@Example.TEST ",
            name="Marie Curie",
            password="radium-1898",
            role="admin",
        )
        assert (agent.email, agent.initials, agent.role) == ("marie@example.test", "MC", "admin")
        assert agent.password_hash and "radium" not in agent.password_hash
    with db.session() as s, s.begin():
        assert service.authenticate(s, email="MARIE@example.test", password="radium-1898").id == (
            agent.id
        )
        with pytest.raises(AuthError):
            service.authenticate(s, email="marie@example.test", password="polonium-1898")
        with pytest.raises(AuthError):
            service.authenticate(s, email="nobody@example.test", password="radium-1898")
        with pytest.raises(Conflict):
            service.create_agent(
                s, email="marie@example.test", name="Other", password=None, role="agent"
            )


def test_create_agent_refuses_bad_input(db: Database) -> None:
    with db.session() as s, s.begin():
        with pytest.raises(InvalidInput):
            service.create_agent(s, email="x@y.z", name="X", password=None, role="god")
        with pytest.raises(InvalidInput):
            service.create_agent(s, email="not-an-email", name="X", password=None, role="agent")
        with pytest.raises(InvalidInput):
            service.create_agent(s, email="x@y.z", name="X", password="short", role="agent")
        with pytest.raises(InvalidInput):
            service.create_agent(s, email="x@y.z", name="X", password=None, role="agent", team_id=9)
        agent = service.create_agent(
            s, email="p@y.z", name="Pierre Curie", password=None, role="agent", initials="PiC"
        )
        assert agent.initials == "PiC"


def _agent(db: Database, role: str = "agent") -> Agent:
    with db.session() as s, s.begin():
        return service.create_agent(
            s, email=f"{role}@example.test", name=f"A {role}", password=None, role=role
        )


def test_tokens_are_stored_as_digests_and_resolve(db: Database) -> None:
    agent = _agent(db)
    with db.session() as s, s.begin():
        api = service.issue_token(s, agent=agent, kind="api", name="ci")
        sess = service.issue_token(s, agent=agent, kind="session")
    assert api.startswith("cb_") and api != sess
    with db.session() as s, s.begin():
        rows = {r.kind: r for r in s.scalars(select(ApiToken))}
        assert all(api not in (r.digest, r.name) and len(r.digest) == 64 for r in rows.values())
        assert rows["api"].expires_at is None
        assert rows["session"].expires_at is not None
        lifetime = rows["session"].expires_at - rows["session"].created_at
        assert lifetime == timedelta(hours=12)
        assert service.resolve_token(s, token=api).id == agent.id
        assert service.resolve_token(s, token=sess).id == agent.id
        for bad in ("", "cb_unknown", "nonsense", api + "x"):
            with pytest.raises(AuthError):
                service.resolve_token(s, token=bad)


def test_expired_revoked_and_inactive_tokens_are_refused(db: Database) -> None:
    agent = _agent(db)
    with db.session() as s, s.begin():
        expired = service.issue_token(s, agent=agent, ttl=timedelta(minutes=5))
        revoked = service.issue_token(s, agent=agent)
        live = service.issue_token(s, agent=agent)
        row = service.token_row(s, token=expired)
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        assert service.revoke_token(s, token=revoked)
        assert not service.revoke_token(s, token=revoked)
    with db.session() as s, s.begin():
        for token in (expired, revoked):
            with pytest.raises(AuthError):
                service.resolve_token(s, token=token)
        service.resolve_token(s, token=live)
        s.get(Agent, agent.id).active = False  # type: ignore[union-attr]
    with db.session() as s, s.begin(), pytest.raises(AuthError):
        service.resolve_token(s, token=live)


def test_last_used_is_touched_at_most_once_a_minute(db: Database) -> None:
    agent = _agent(db)
    with db.session() as s, s.begin():
        token = service.issue_token(s, agent=agent)
    with db.session() as s, s.begin():
        service.resolve_token(s, token=token)
    with db.session() as s:
        first = s.scalar(select(ApiToken.last_used_at))
    assert first is not None
    with db.session() as s, s.begin():
        service.resolve_token(s, token=token)
    with db.session() as s:
        assert s.scalar(select(ApiToken.last_used_at)) == first
    with db.session() as s, s.begin():
        s.scalars(select(ApiToken)).one().last_used_at = first - timedelta(minutes=2)
    with db.session() as s, s.begin():
        service.resolve_token(s, token=token)
    with db.session() as s:
        assert s.scalar(select(ApiToken.last_used_at)) > first  # type: ignore[operator]


def test_ensure_admin_creates_the_first_admin_once(db: Database) -> None:
    with db.session() as s, s.begin():
        admin, password = service.ensure_admin(s, email="boss@example.test", password=None)
        assert admin.role == "admin" and password and len(password) >= 16
    with db.session() as s, s.begin():
        assert service.authenticate(s, email="boss@example.test", password=password).id == admin.id
        again, none = service.ensure_admin(s, email="boss@example.test", password=None)
        assert (again.id, none) == (admin.id, None)


def test_roles_rank() -> None:
    viewer, supervisor = Agent(role="viewer"), Agent(role="supervisor")
    assert has_role(supervisor, "agent") and has_role(supervisor, "viewer")
    assert not has_role(viewer, "agent") and not has_role(supervisor, "admin")
    require(supervisor, "supervisor")
    with pytest.raises(Forbidden):
        require(viewer, "agent")
    with pytest.raises(InvalidInput):
        require(viewer, "superhero")
