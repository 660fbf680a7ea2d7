"""Invitations, password links, roles, deactivation and API tokens, on both engines."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from carebird.auth import invitations, people, service
from carebird.auth.models import Agent, ApiToken
from carebird.auth.passwords import hash_password
from carebird.auth.throttle import LoginThrottled
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.errors import AuthError, Conflict, InvalidInput, NotFound
from carebird.mail import Mailer
from tests.support.smtp import SmtpCatcher

PASSWORD = "correct horse battery"
LINK = re.compile(r"http://desk\.test/password/(cb_[A-Za-z0-9_-]+)")


@pytest.fixture
def smtp() -> Iterator[SmtpCatcher]:
    with SmtpCatcher() as catcher:
        yield catcher


@pytest.fixture
def mailer(smtp: SmtpCatcher) -> Mailer:
    return Mailer(host="127.0.0.1", port=smtp.port, sender="desk@example.test")


def _admin(db: Database, email: str = "root@example.test") -> Agent:
    with db.session() as s, s.begin():
        admin = service.create_agent(s, email=email, name="Root Admin", password=None, role="admin")
        s.expunge(admin)
    return admin


def _invite(db: Database, mailer: Mailer, email: str = "nora@example.test") -> tuple[int, str]:
    admin = _admin(db, f"admin-{email}")
    with db.session() as s, s.begin():
        sent = invitations.invite(
            s,
            email=email,
            name="Nora Faure",
            role="agent",
            locale="en",
            invited_by=admin.name,
            mailer=mailer,
            public_url="http://desk.test/",
        )
        return sent.agent.id, sent.link.rpartition("/")[2]


def _sessions(db: Database, agent_id: int) -> list[ApiToken]:
    with db.session() as s:
        return list(s.scalars(select(ApiToken).where(ApiToken.agent_id == agent_id)))


def test_an_invited_person_cannot_sign_in_until_the_link_sets_a_password(
    db: Database, mailer: Mailer, smtp: SmtpCatcher
) -> None:
    agent_id, token = _invite(db, mailer)
    mail = smtp.wait_for(1)[0]
    assert mail.rcpt_tos == ["nora@example.test"]
    assert mail.message["Subject"] == "You are invited to the carebird customer care desk"
    found = LINK.search(mail.body)
    assert found is not None and found.group(1) == token
    assert "Root Admin invites you" in mail.body and "72 hours" in mail.body
    with db.session() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.agent_id == agent_id))
        assert row is not None and row.kind == "invite" and token not in row.digest
        assert row.expires_at is not None
        assert timedelta(hours=71) < row.expires_at - utcnow() <= timedelta(hours=72)
        with pytest.raises(AuthError):  # a link is never a credential
            service.resolve_token(s, token=token)
        with pytest.raises(AuthError):
            service.authenticate(s, email="nora@example.test", password=PASSWORD)
    with db.session() as s:
        agent = invitations.use_link(s, token=token, password=PASSWORD, ip="10.0.0.1")
    assert agent.id == agent_id
    with db.session() as s, s.begin():
        assert service.authenticate(s, email="nora@example.test", password=PASSWORD).id == agent_id


def test_a_link_works_once(db: Database, mailer: Mailer) -> None:
    _, token = _invite(db, mailer)
    with db.session() as s:
        invitations.use_link(s, token=token, password=PASSWORD, ip=None)
    with db.session() as s, pytest.raises(invitations.LinkRefused) as refused:
        invitations.use_link(s, token=token, password="another password", ip=None)
    assert refused.value.reason == "used" and refused.value.status_code == 410
    with db.session() as s, s.begin():  # the first password stands
        service.authenticate(s, email="nora@example.test", password=PASSWORD)


def test_an_expired_link_is_refused_and_sets_nothing(db: Database, mailer: Mailer) -> None:
    agent_id, token = _invite(db, mailer)
    with db.session() as s, s.begin():
        row = service.token_row(s, token=token)
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    with db.session() as s, pytest.raises(invitations.LinkRefused) as refused:
        invitations.check_link(s, token=token, ip=None)
    assert refused.value.reason == "expired"
    with db.session() as s, pytest.raises(invitations.LinkRefused) as refused:
        invitations.use_link(s, token=token, password=PASSWORD, ip=None)
    assert refused.value.reason == "expired"
    with db.session() as s:
        assert service.get_agent(s, agent_id=agent_id).password_hash is None


def test_a_short_password_leaves_the_link_usable(db: Database, mailer: Mailer) -> None:
    _, token = _invite(db, mailer)
    with db.session() as s, pytest.raises(InvalidInput):
        invitations.use_link(s, token=token, password="short", ip=None)
    with db.session() as s:
        invitations.use_link(s, token=token, password=PASSWORD, ip=None)


def test_two_requests_racing_on_one_link_set_one_password(db: Database, mailer: Mailer) -> None:
    agent_id, token = _invite(db, mailer)
    hashes = {name: hash_password(name) for name in ("first password", "second password")}
    start = threading.Barrier(len(hashes))
    outcomes: dict[str, str] = {}

    def use(name: str) -> None:
        with db.session() as s:
            start.wait()
            try:
                with s.begin():
                    invitations.consume_link(s, token=token, password_hash=hashes[name])
                outcomes[name] = "set"
            except invitations.LinkRefused as refused:
                outcomes[name] = refused.reason

    threads = [threading.Thread(target=use, args=(name,)) for name in hashes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes.values()) == ["set", "used"], outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome == "set")
    with db.session() as s:
        assert service.get_agent(s, agent_id=agent_id).password_hash == hashes[winner]


def test_a_new_link_retires_the_previous_one(
    db: Database, mailer: Mailer, smtp: SmtpCatcher
) -> None:
    agent_id, first = _invite(db, mailer)
    admin = _admin(db, "other-admin@example.test")
    with db.session() as s, s.begin():
        second = invitations.resend_invitation(
            s,
            agent_id=agent_id,
            invited_by=admin.name,
            mailer=mailer,
            public_url="http://desk.test",
        ).link.rpartition("/")[2]
    assert LINK.search(smtp.wait_for(2)[1].body).group(1) == second  # type: ignore[union-attr]
    with db.session() as s, pytest.raises(invitations.LinkRefused):
        invitations.check_link(s, token=first, ip=None)
    with db.session() as s:
        invitations.use_link(s, token=second, password=PASSWORD, ip=None)
    with db.session() as s, s.begin(), pytest.raises(Conflict):  # no longer invited
        invitations.resend_invitation(
            s,
            agent_id=agent_id,
            invited_by=admin.name,
            mailer=mailer,
            public_url="http://desk.test",
        )


def test_a_reset_link_sets_a_new_password_and_ends_the_sessions(
    db: Database, mailer: Mailer, smtp: SmtpCatcher
) -> None:
    with db.session() as s, s.begin():
        agent = service.create_agent(
            s, email="ben@example.test", name="Ben Carter", password=PASSWORD, role="agent"
        )
        agent_id = agent.id
        session_token = service.issue_token(s, agent=agent, kind="session")
        api_token = service.issue_token(s, agent=agent, kind="api", name="script")
        link = invitations.send_reset(
            s, agent_id=agent_id, mailer=mailer, public_url="http://desk.test"
        ).link
    assert (
        smtp.wait_for(1)[0].message["Subject"]
        == "Choisissez un nouveau mot de passe pour le desk carebird"
    )
    with db.session() as s, s.begin():  # the old password works until the link is used
        service.authenticate(s, email="ben@example.test", password=PASSWORD)
    with db.session() as s:
        invitations.use_link(s, token=link.rpartition("/")[2], password="a new password", ip=None)
    with db.session() as s, s.begin():
        with pytest.raises(AuthError):
            service.authenticate(s, email="ben@example.test", password=PASSWORD)
        service.authenticate(s, email="ben@example.test", password="a new password")
        with pytest.raises(AuthError):
            service.resolve_token(s, token=session_token)
        assert service.resolve_token(s, token=api_token).id == agent_id  # scripts keep going


def test_unknown_links_lock_the_address_like_failed_sign_ins(db: Database, mailer: Mailer) -> None:
    _, token = _invite(db, mailer)
    for _ in range(25):  # a real link, opened again and again, counts nothing
        with db.session() as s:
            invitations.check_link(s, token=token, ip="203.0.113.9")
    for n in range(20):
        with db.session() as s, pytest.raises(invitations.LinkRefused):
            invitations.check_link(s, token=f"cb_guess{n}", ip="203.0.113.9")
    with db.session() as s, pytest.raises(LoginThrottled):
        invitations.check_link(s, token="cb_guess-more", ip="203.0.113.9")
    with db.session() as s, pytest.raises(invitations.LinkRefused):
        invitations.check_link(s, token="cb_guess-more", ip="198.51.100.1")  # another address
    with db.session() as s, pytest.raises(LoginThrottled):  # the real link too, while locked
        invitations.check_link(s, token=token, ip="203.0.113.9")


def test_deactivation_revokes_every_session_and_token_at_once(db: Database) -> None:
    _admin(db)
    with db.session() as s, s.begin():
        agent = service.create_agent(
            s, email="ana@example.test", name="Ana Lefèvre", password=PASSWORD, role="agent"
        )
        agent_id = agent.id
        tokens = [
            service.issue_token(s, agent=agent, kind="session"),
            service.issue_token(s, agent=agent, kind="api", name="bot"),
        ]
    with db.session() as s, s.begin():
        people.set_active(s, agent_id=agent_id, active=False)
    assert all(t.revoked for t in _sessions(db, agent_id))
    with db.session() as s, s.begin():
        for token in tokens:
            with pytest.raises(AuthError):
                service.resolve_token(s, token=token)
        with pytest.raises(AuthError):
            service.authenticate(s, email="ana@example.test", password=PASSWORD)
        assert [p.state for p in people.list_people(s) if p.agent.id == agent_id] == ["inactive"]
    with db.session() as s, s.begin():
        people.set_active(s, agent_id=agent_id, active=True)
    with db.session() as s, s.begin():
        service.authenticate(s, email="ana@example.test", password=PASSWORD)
        with pytest.raises(AuthError):  # the old tokens stay revoked
            service.resolve_token(s, token=tokens[1])


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(db: Database) -> None:
    admin = _admin(db)
    for change in (
        lambda s: people.set_role(s, agent_id=admin.id, role="supervisor"),
        lambda s: people.set_active(s, agent_id=admin.id, active=False),
    ):
        with (
            db.session() as s,
            pytest.raises(Conflict, match="at least one active admin"),
            s.begin(),
        ):
            change(s)
    with db.session() as s, s.begin():
        other = service.create_agent(
            s, email="two@example.test", name="Two", password=None, role="admin"
        )
        other_id = other.id
        people.set_active(s, agent_id=other_id, active=False)  # an inactive admin does not count
    with db.session() as s, pytest.raises(Conflict), s.begin():
        people.set_role(s, agent_id=admin.id, role="viewer")
    with db.session() as s, s.begin():
        people.set_active(s, agent_id=other_id, active=True)
        people.set_role(s, agent_id=admin.id, role="viewer")
    with db.session() as s:
        assert service.get_agent(s, agent_id=admin.id).role == "viewer"
    with db.session() as s, pytest.raises(InvalidInput), s.begin():
        people.set_role(s, agent_id=other_id, role="god")
    with db.session() as s, pytest.raises(NotFound), s.begin():
        people.set_role(s, agent_id=999_999, role="agent")


def test_two_admins_demoting_each_other_at_once_leave_one(db: Database) -> None:
    ids = [_admin(db, f"a{n}@example.test").id for n in range(2)]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(agent_id: int) -> None:
        with db.session() as s:
            start.wait()
            try:
                with s.begin():
                    people.set_role(s, agent_id=agent_id, role="agent")
                outcomes.append("demoted")
            except Conflict:
                outcomes.append("refused")

    threads = [threading.Thread(target=demote, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["demoted", "refused"]
    with db.session() as s:
        assert [a.role for a in service.list_agents(s)].count("admin") == 1


def test_api_tokens_are_listed_without_secret_and_revoked_by_owner_or_admin(db: Database) -> None:
    admin = _admin(db)
    with db.session() as s, s.begin():
        ana = service.create_agent(
            s, email="ana@example.test", name="Ana", password=None, role="viewer"
        )
        ben = service.create_agent(
            s, email="ben@example.test", name="Ben", password=None, role="agent"
        )
        secrets_ = [service.issue_token(s, agent=ana, kind="api", name=n) for n in ("a1", "a2")]
        service.issue_token(s, agent=ana, kind="session")  # sessions are not listed
        service.issue_token(s, agent=ben, kind="api", name="b1")
        s.expunge_all()
    check: Callable[[int | None], list[str]]

    def check(agent_id: int | None) -> list[str]:
        with db.session() as s:
            return [t.name for t in people.list_tokens(s, agent_id=agent_id)]

    assert check(ana.id) == ["a1", "a2"] and check(None) == ["a1", "a2", "b1"]
    with db.session() as s:
        listed = people.list_tokens(s, agent_id=ana.id)
    assert not any(secret in repr(listed) for secret in secrets_)
    with db.session() as s, s.begin():
        people.revoke_api_token(s, actor=ana, token_id=listed[0].id)
    with db.session() as s, pytest.raises(NotFound), s.begin():  # not Ben's to revoke
        people.revoke_api_token(s, actor=ben, token_id=listed[1].id)
    with db.session() as s, s.begin():
        people.revoke_api_token(s, actor=admin, token_id=listed[1].id)
    assert check(ana.id) == []


def test_two_whole_link_uses_at_once_set_one_password(db: Database, mailer: Mailer) -> None:
    """Both requests pass the cheap check and hash their password; one consumes the link."""
    agent_id, token = _invite(db, mailer)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def use(password: str) -> None:
        with db.session() as s:
            start.wait()
            try:
                invitations.use_link(s, token=token, password=password, ip="192.0.2.7")
                outcomes[password] = "set"
            except invitations.LinkRefused as refused:
                outcomes[password] = refused.reason

    threads = [threading.Thread(target=use, args=(p,)) for p in ("password one", "password two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes.values()) == ["set", "used"], outcomes
    winner = next(p for p, outcome in outcomes.items() if outcome == "set")
    with db.session() as s, s.begin():
        assert service.authenticate(s, email="nora@example.test", password=winner).id == agent_id
