"""The People page, the password link page and the People API through the app, on both engines:
an admin invites someone, the mail arrives on a real SMTP server, the link sets a password
once; roles, deactivation, resets and API tokens by role."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from carebird.auth.models import Agent, ApiToken
from carebird.auth.service import create_agent, issue_token
from carebird.config import Settings
from carebird.db.database import Database
from carebird.web.app import create_app
from tests.factories import TestClient, agent_with_token, bearer
from tests.support.smtp import SmtpCatcher, free_port

PASSWORD = "correct horse battery"
LINK = re.compile(r"http://testserver/password/(cb_[A-Za-z0-9_-]+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def smtp() -> Iterator[SmtpCatcher]:
    with SmtpCatcher() as catcher:
        yield catcher


@pytest.fixture
def app(settings: Settings, db: Database, smtp: SmtpCatcher) -> FastAPI:
    mail = {"smtp_port": smtp.port, "public_url": "http://testserver", "mail_from": "d@x.test"}
    return create_app(settings.model_copy(update=mail), db=db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found is not None
    return found.group(1)


def signed_in(client: TestClient, db: Database, email: str, role: str) -> str:
    with db.session() as s, s.begin():
        create_agent(s, email=email, name=email.split("@")[0].title(), password=PASSWORD, role=role)
    csrf = csrf_of(client.get("/login").text)
    done = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    return csrf


def link_of(smtp: SmtpCatcher, n: int) -> str:
    found = LINK.search(smtp.wait_for(n)[n - 1].body)
    assert found is not None
    return found.group(1)


def test_an_admin_invites_on_the_page_and_the_link_sets_a_password_once(
    client: TestClient, db: Database, smtp: SmtpCatcher
) -> None:
    csrf = signed_in(client, db, "root@example.test", "admin")
    page = client.get("/people")
    assert page.status_code == 200 and 'href="/people" aria-current="page"' in page.text
    form = {"email": "nora@example.test", "name": "<b>Nora</b>", "role": "agent", "locale": "fr"}
    sent = client.post("/people/invite", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/people?done=invited"
    listed = client.get("/people?done=invited").text
    assert "L’invitation est envoyée" in listed or "L'invitation est envoyée" in listed
    assert "&lt;b&gt;Nora&lt;/b&gt;" in listed and "<b>Nora" not in listed
    assert 'class="person state-invited" data-email="nora@example.test"' in listed
    mail = smtp.wait_for(1)[0]
    assert mail.message["Subject"] == "Vous êtes invité·e sur le desk de relation client carebird"
    token = link_of(smtp, 1)

    again = client.post("/people/invite", data={**form, "csrf_token": csrf})
    assert again.status_code == 409 and "Quelqu" in again.text  # already has this address

    stranger = TestClient(client.app)
    opened = stranger.get(f"/password/{token}")
    assert opened.status_code == 200 and "nora@example.test" in opened.text
    assert "&lt;b&gt;Nora&lt;/b&gt;" in opened.text and "<b>Nora" not in opened.text
    assert opened.headers["cache-control"] == "no-store"
    assert opened.headers["referrer-policy"] == "no-referrer"
    link_csrf = csrf_of(opened.text)
    differ = stranger.post(
        f"/password/{token}",
        data={"password": PASSWORD, "confirm": "something else", "csrf_token": link_csrf},
    )
    assert differ.status_code == 422 and "diffèrent" in differ.text
    short = stranger.post(
        f"/password/{token}",
        data={"password": "short", "confirm": "short", "csrf_token": link_csrf},
    )
    assert short.status_code == 422
    forged = stranger.post(
        f"/password/{token}", data={"password": PASSWORD, "confirm": PASSWORD, "csrf_token": "x"}
    )
    assert forged.status_code == 403
    body = {"password": PASSWORD, "confirm": PASSWORD, "csrf_token": link_csrf}
    done = stranger.post(f"/password/{token}", data=body)
    assert done.status_code == 200 and 'href="/login"' in done.text
    reused = stranger.post(f"/password/{token}", data={**body, "password": "x" * 9})
    assert reused.status_code == 410 and "déjà été utilisé" in reused.text
    assert stranger.get(f"/password/{token}").status_code == 410
    assert stranger.get("/password/cb_nothing-like-it").status_code == 404
    login = stranger.post(
        "/api/auth/login", json={"email": "nora@example.test", "password": PASSWORD}
    )
    assert login.status_code == 200 and login.json()["agent"]["role"] == "agent"


def test_the_page_changes_roles_resets_deactivates_and_guards_the_last_admin(
    client: TestClient, db: Database, smtp: SmtpCatcher
) -> None:
    csrf = signed_in(client, db, "root@example.test", "admin")
    ana, ana_token = agent_with_token(db, "agent", email="ana@example.test")
    with db.session() as s:
        root = s.scalar(select(Agent.id).where(Agent.email == "root@example.test"))

    def post(path: str, **data: str) -> tuple[int, str]:
        response = client.post(path, data={**data, "csrf_token": csrf}, follow_redirects=False)
        return response.status_code, response.headers.get("location", response.text)

    assert post(f"/people/{ana.id}/role", role="supervisor") == (303, "/people?done=role")
    status, text = post(f"/people/{root}/role", role="agent")
    assert status == 409 and "au moins un admin actif" in text
    status, text = post(f"/people/{root}/deactivate")
    assert status == 409
    assert post(f"/people/{ana.id}/reset") == (303, "/people?done=reset")
    assert smtp.wait_for(1)[0].rcpt_tos == ["ana@example.test"]
    assert post(f"/people/{root}/resend")[0] == 409  # root is not waiting for an invitation
    assert client.get("/api/me", headers=bearer(ana_token)).status_code == 200
    assert post(f"/people/{ana.id}/deactivate") == (303, "/people?done=deactivated")
    assert client.get("/api/me", headers=bearer(ana_token)).status_code == 401
    assert post(f"/people/{ana.id}/reactivate") == (303, "/people?done=reactivated")
    assert client.get("/api/me", headers=bearer(ana_token)).status_code == 401  # stays revoked
    with db.session() as s:
        roles = {row.email: row.role for row in s.execute(select(Agent.email, Agent.role))}
    assert roles == {"root@example.test": "admin", "ana@example.test": "supervisor"}
    assert post("/people/999999/role", role="agent")[0] == 404
    assert post(f"/people/{ana.id}/role", role="god")[0] == 422


def test_the_people_api_by_role(client: TestClient, db: Database, smtp: SmtpCatcher) -> None:
    admin, token = agent_with_token(db, "admin")
    _, viewer_token = agent_with_token(db, "viewer")
    assert client.get("/api/people", headers=bearer(viewer_token)).status_code == 403
    made = client.post(
        "/api/people",
        json={"email": "Zoe@Example.test", "name": "Zoé Petit", "role": "viewer", "locale": "en"},
        headers=bearer(token),
    )
    assert made.status_code == 201, made.text
    zoe = made.json()
    assert (zoe["email"], zoe["state"], zoe["role"]) == ("zoe@example.test", "invited", "viewer")
    assert "password" not in made.text and link_of(smtp, 1) not in made.text
    bad = client.post(
        "/api/people", json={"email": "nope", "name": "X", "role": "agent"}, headers=bearer(token)
    )
    assert bad.status_code == 422
    again = client.post(f"/api/people/{zoe['id']}/invitation", headers=bearer(token))
    assert again.status_code == 204 and link_of(smtp, 2) != link_of(smtp, 1)
    changed = client.patch(
        f"/api/people/{zoe['id']}", json={"role": "agent", "active": False}, headers=bearer(token)
    )
    assert changed.status_code == 200 and changed.json()["state"] == "inactive"
    last = client.patch(f"/api/people/{admin.id}", json={"active": False}, headers=bearer(token))
    assert last.status_code == 409 and last.json()["error"] == "Conflict"
    assert client.patch("/api/people/424242", json={}, headers=bearer(token)).status_code == 404
    everyone = client.get("/api/people", headers=bearer(token)).json()
    assert {p["email"] for p in everyone} >= {"zoe@example.test", admin.email}


def test_an_invitation_the_mail_server_refuses_creates_nobody(
    settings: Settings, db: Database
) -> None:
    dead = {"smtp_port": free_port(), "public_url": "http://testserver"}
    _, token = agent_with_token(db, "admin")
    with TestClient(create_app(settings.model_copy(update=dead), db=db)) as client:
        sent = client.post(
            "/api/people", json={"email": "x@example.test", "name": "X"}, headers=bearer(token)
        )
        assert sent.status_code == 502 and sent.json()["error"] == "MailError"
        csrf = signed_in(client, db, "root@example.test", "admin")
        form = {"email": "y@example.test", "name": "Y", "role": "agent", "csrf_token": csrf}
        page = client.post("/people/invite", data=form)
        assert page.status_code == 502 and "n'a pas pu être envoyé" in page.text
        assert 'value="y@example.test"' in page.text  # the form is kept
    with db.session() as s:
        for email in ("x@example.test", "y@example.test"):
            assert s.scalar(select(Agent.id).where(Agent.email == email)) is None


def test_api_tokens_one_owns_and_an_admin_sees(client: TestClient, db: Database) -> None:
    ana, ana_token = agent_with_token(db, "viewer")
    _, ben_token = agent_with_token(db, "agent")
    _, admin_token = agent_with_token(db, "admin")
    with db.session() as s, s.begin():
        agent = s.get(Agent, ana.id)
        assert agent is not None
        extra = issue_token(s, agent=agent, kind="api", name="report")
    own = client.get("/api/tokens", headers=bearer(ana_token)).json()
    assert sorted(t["name"] for t in own) == ["report", "tests"]
    assert all(extra not in str(t) and ana_token not in str(t) for t in own)
    assert (
        client.get(f"/api/tokens?agent_id={ana.id}", headers=bearer(ben_token)).status_code == 403
    )
    assert client.get("/api/tokens?all=true", headers=bearer(ben_token)).status_code == 403
    seen = client.get(f"/api/tokens?agent_id={ana.id}", headers=bearer(admin_token)).json()
    assert [t["id"] for t in seen] == [t["id"] for t in own]
    report = next(t["id"] for t in own if t["name"] == "report")
    assert client.delete(f"/api/tokens/{report}", headers=bearer(ben_token)).status_code == 404
    assert client.delete(f"/api/tokens/{report}", headers=bearer(ana_token)).status_code == 204
    assert client.get("/api/me", headers=bearer(extra)).status_code == 401
    first = next(t["id"] for t in own if t["name"] == "tests")
    assert client.delete(f"/api/tokens/{first}", headers=bearer(admin_token)).status_code == 204
    assert client.get("/api/me", headers=bearer(ana_token)).status_code == 401


def test_the_tokens_page_shows_a_new_secret_once(client: TestClient, db: Database) -> None:
    csrf = signed_in(client, db, "vic@example.test", "viewer")
    made = client.post("/tokens/new", data={"name": "<i>ci</i>", "csrf_token": csrf})
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    secret = re.search(r'<code class="secret">(cb_[A-Za-z0-9_-]+)</code>', made.text)
    assert secret is not None and "&lt;i&gt;ci&lt;/i&gt;" in made.text
    assert client.get("/api/me", headers=bearer(secret.group(1))).status_code == 200
    listing = client.get("/tokens").text
    assert secret.group(1) not in listing and "&lt;i&gt;ci&lt;/i&gt;" in listing
    with db.session() as s:
        token_id = s.scalar(select(ApiToken.id).where(ApiToken.name == "<i>ci</i>"))
    revoked = client.post(
        f"/tokens/{token_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert client.get("/api/me", headers=bearer(secret.group(1))).status_code == 401
    assert client.get("/people", follow_redirects=False).status_code == 403  # admins only


def test_the_cli_invites_changes_roles_resets_and_deactivates(
    db_url: str, db: Database, smtp: SmtpCatcher
) -> None:
    from click.testing import CliRunner

    from carebird.cli.main import cli

    env = {"CAREBIRD_SMTP_PORT": str(smtp.port), "CAREBIRD_PUBLIC_URL": "http://testserver"}

    def run(*args: str, ok: bool = True) -> str:
        result = CliRunner().invoke(cli, ["--database", db_url, *args], env=env)
        assert (result.exit_code == 0) is ok, result.output
        return result.output + str(result.exception or "")  # `carebird` prints the error

    out = run("agents", "invite", "--email", "Lea@example.test", "--name", "Léa", "--locale", "en")
    assert "invited agent" in out and "lea@example.test (agent)" in out
    assert "carebird invites you" in smtp.wait_for(1)[0].body
    assert "lea@example.test\tagent\tinvited" in run("agents", "list")
    run("agents", "resend-invitation", "lea@example.test")
    assert link_of(smtp, 2) != link_of(smtp, 1)
    assert "is now admin" in run("agents", "role", "lea@example.test", "admin")
    assert "at least one active admin" in run("agents", "deactivate", "lea@example.test", ok=False)
    _, token = agent_with_token(db, "admin")
    assert "deactivated" in run("agents", "deactivate", "lea@example.test")
    assert "lea@example.test\tadmin\tinactive" in run("agents", "list")
    assert "reactivate them first" in run("agents", "reset-password", "lea@example.test", ok=False)
    assert "active again" in run("agents", "reactivate", "lea@example.test")
    assert "e-mailed" in run("agents", "reset-password", "lea@example.test")
    assert smtp.wait_for(3)[2].message["Subject"] == "Choose a new password for the carebird desk"
    assert "no agent" in run("agents", "role", "nobody@example.test", "agent", ok=False)
    assert token


def test_guessing_links_locks_the_address_without_hashing_anything(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carebird.auth import invitations

    hashed: list[str] = []
    monkeypatch.setattr(invitations, "hash_password", lambda p: hashed.append(p) or "x")
    body = {"password": PASSWORD, "confirm": PASSWORD}
    csrf = csrf_of(client.get("/login").text)
    for n in range(20):
        guess = client.post(f"/password/cb_guess{n}", data={**body, "csrf_token": csrf})
        assert guess.status_code == 404 and "n’existe pas" in guess.text
    locked = client.get("/password/cb_guess-again")
    assert locked.status_code == 429 and "Trop de tentatives" in locked.text
    assert client.post("/password/cb_x", data={**body, "csrf_token": csrf}).status_code == 429
    assert hashed == []
