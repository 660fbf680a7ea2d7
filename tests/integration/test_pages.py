"""The pages, the API docs page, static files and the app's lifecycle, on both engines."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import select

from carebird.auth import throttle
from carebird.auth.models import Agent
from carebird.auth.service import create_agent
from carebird.config import Settings
from carebird.db.database import Database
from carebird.web.app import create_app
from tests.factories import (
    TestClient,
    agent_with_token,
    bearer,
    case_of,
    customer,
    ingest,
    item,
    private,
)

PASSWORD = "correct horse battery"
EXTERNAL = re.compile(r'(src|href|action)="(https?:)?//')  # anything loaded from elsewhere
SCRIPTS = re.compile(r"<script\b[^>]*>")
WORDS = re.compile(r'<body data-words="([^"]*)"')


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    app: FastAPI = create_app(settings, db=db)
    with TestClient(app) as c:
        yield c


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def words_of(page: str) -> dict[str, object]:
    found = WORDS.search(page)
    assert found is not None
    words: dict[str, object] = json.loads(html.unescape(found.group(1)))
    return words


def test_case_page_escapes_customer_text(client: TestClient, db: Database) -> None:
    evil = customer(1)
    texts = ["<script>alert(1)</script>", '<img src=x onerror=alert(1)>"']
    ingest(
        db,
        [
            item(evil, texts[0], external_id="x1"),
            private(evil, texts[1], minutes=1, external_id="x2"),
        ],
    )
    case_id = case_of(db, "x1")
    _, token = agent_with_token(db, "viewer")
    client.cookies.set("carebird_session", token)
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    body = page.text
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body  # the subject, server-rendered
    # The conversation travels to case.js as JSON in an attribute, escaped once.
    found = re.search(r'data-detail="([^"]*)"', body)
    assert found is not None
    detail = json.loads(html.unescape(found.group(1)))
    assert [m["text"] for m in detail["messages"]] == texts
    assert [m["is_private"] for m in detail["messages"]] == [False, True]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert [s for s in SCRIPTS.findall(body)] == [
        '<script src="/static/common.js" defer>',
        '<script src="/static/case.js" defer>',
        '<script src="/static/case_panels.js" defer>',
    ]  # no inline script; a viewer gets no composer
    assert not EXTERNAL.search(body)
    inbox = client.get("/")
    assert inbox.status_code == 200 and "<script>alert" not in inbox.text
    assert SCRIPTS.findall(inbox.text) == [
        '<script src="/static/common.js" defer>',
        '<script src="/static/inbox.js" defer>',
    ]
    assert not EXTERNAL.search(inbox.text)
    assert client.get("/cases/9999").status_code == 404


def test_an_agent_gets_the_composer_and_pickers(client: TestClient, db: Database) -> None:
    ingest(db, [item(customer(2), "my train is late", external_id="c1")])
    case_id = case_of(db, "c1")
    agent, token = agent_with_token(db, "agent", name="Ana Lyse")
    client.cookies.set("carebird_session", token)
    body = client.get(f"/cases/{case_id}").text
    assert '<script src="/static/composer.js" defer>' in body
    assert 'id="composer"' in body and 'id="send"' in body
    assert f'<option value="{agent.id}">Ana Lyse</option>' in body  # assign to an agent
    assert 'id="forward-email"' not in body  # new outside owners: supervisors only
    inbox = client.get("/").text
    assert 'data-bulk="resolve"' in inbox and 'data-can-write="true"' in inbox


def test_every_page_requires_login(client: TestClient) -> None:
    public = {"/login", "/healthz", "/static"}
    for route in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        if route.path.startswith("/api") or route.path in public or "GET" not in route.methods:
            continue
        # Signed links authenticate by their token (outside owners, password links, surveys);
        # /public/ pages need no login by design.
        if route.path.startswith(("/outside", "/password/", "/survey/", "/public/")):
            continue
        if route.path.startswith("/help/"):  # each account's public help page: for anyone
            continue
        if route.path == "/metrics":  # a scraper, not a person: a token or 401, no redirect
            assert client.get("/metrics", follow_redirects=False).status_code == 401
            continue
        page = client.get(route.path.replace("{case_id}", "1"), follow_redirects=False)
        assert page.status_code == 303, route.path
        assert page.headers["location"].startswith("/login?next=")


def test_pages_require_login_and_the_form_is_csrf_protected(
    client: TestClient, db: Database
) -> None:
    redirect = client.get("/", follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"] == "/login?next=/"
    deep = client.get("/cases/3", follow_redirects=False)
    assert deep.headers["location"] == "/login?next=/cases/3"
    with db.session() as s, s.begin():
        create_agent(s, email="ana@example.test", name="Ana", password=PASSWORD, role="viewer")
    form = client.get("/login")
    assert form.status_code == 200
    csrf = csrf_of(form.text)
    assert client.cookies["carebird_csrf"] == csrf
    creds = {"email": "ana@example.test", "password": PASSWORD, "next": "/cases/3"}
    forged = client.post("/login", data={**creds, "csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403 and "carebird_session" not in client.cookies
    wrong = client.post("/login", data={**creds, "password": "nope", "csrf_token": csrf})
    assert wrong.status_code == 401 and "Adresse e-mail ou mot de passe incorrect." in wrong.text
    ok = client.post("/login", data={**creds, "csrf_token": csrf}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/cases/3"
    assert "carebird_session" in client.cookies
    assert client.get("/").status_code == 200
    evil_next = client.get("/login?next=//evil.example", follow_redirects=False)
    assert evil_next.headers["location"] == "/"
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_login_page_throttles_guessing(client: TestClient, db: Database) -> None:
    with db.session() as s, s.begin():
        create_agent(s, email="bo@example.test", name="Bo", password=PASSWORD, role="agent")
    csrf = csrf_of(client.get("/login").text)
    guess = {"email": "Bo@Example.test", "password": "wrong guess", "csrf_token": csrf}
    for _ in range(4):
        assert client.post("/login", data=guess).status_code == 401
    fifth = client.post("/login", data=guess)
    assert fifth.status_code == 401  # the fifth failure itself is judged, then locks
    locked = client.post("/login", data={**guess, "password": PASSWORD}, follow_redirects=False)
    assert locked.status_code == 429 and "carebird_session" not in client.cookies
    assert "Trop d’échecs de connexion. Réessayez dans 1 minute." in locked.text
    other = {"email": "nobody@example.test", "password": "x" * 8, "csrf_token": csrf}
    assert client.post("/login", data=other).status_code == 401  # others are not locked out
    with db.session() as s, s.begin():  # the minute passes
        for row in s.scalars(select(throttle.LoginThrottle)):
            row.locked_until = None
    ok = client.post("/login", data={**guess, "password": PASSWORD}, follow_redirects=False)
    assert ok.status_code == 303
    with db.session() as s:
        assert throttle.failures(s, kind="email", value="bo@example.test") == 0
        assert throttle.failures(s, kind="ip", value="testclient") == 6


def test_language_and_time_zone_per_agent(client: TestClient, db: Database) -> None:
    ingest(db, [item(customer(3), "bonjour", external_id="t1")])  # 2026-03-02 09:00 UTC
    case_id = case_of(db, "t1")
    agent, token = agent_with_token(db, "agent")
    client.cookies.set("carebird_session", token)
    french = client.get(f"/cases/{case_id}").text
    assert '<html lang="fr">' in french and "Boîte de réception" in french
    assert "Réponse publique" in french and "Notes internes" in french
    words = words_of(french)
    assert words["locale"] == "fr" and words["zone"] == "Europe/Paris"
    assert words["pattern"] == "dd/MM/yyyy HH:mm"
    messages = words["messages"]
    assert isinstance(messages, dict) and messages["Send publicly"] == "Envoyer en public"
    assert words["statuses"] == {  # type: ignore[comparison-overlap]
        "new": "Nouveau",
        "open": "Ouvert",
        "waiting_customer": "En attente du client",
        "waiting_third_party": "En attente d’un tiers",
        "resolved": "Résolu",
        "closed": "Fermé",
    }
    prefs = client.get("/preferences").text
    csrf = csrf_of(prefs)
    assert "option selected>Europe/Paris</option>" in prefs
    no_token = client.post("/preferences", data={"locale": "en"}, follow_redirects=False)
    assert no_token.status_code == 403
    bad = client.post("/preferences", data={"locale": "de", "csrf_token": csrf})
    assert bad.status_code == 422
    bad_zone = client.post("/preferences", data={"timezone": "Mars/Base", "csrf_token": csrf})
    assert bad_zone.status_code == 422
    switch = client.post(
        "/preferences",
        data={"locale": "en", "csrf_token": csrf, "next": f"/cases/{case_id}"},
        follow_redirects=False,
    )
    assert switch.status_code == 303 and switch.headers["location"] == f"/cases/{case_id}"
    english = client.get(f"/cases/{case_id}").text
    assert '<html lang="en">' in english and "Internal notes" in english
    assert "Boîte de réception" not in english
    assert words_of(english)["messages"]["Send publicly"] == "Send publicly"  # type: ignore[index]
    zone = client.post(
        "/preferences",
        data={"timezone": "America/Montreal", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert zone.status_code == 303
    with db.session() as s:
        stored = s.scalars(select(Agent).where(Agent.id == agent.id)).one()
        assert (stored.locale, stored.timezone) == ("en", "America/Montreal")
    assert words_of(client.get("/").text)["zone"] == "America/Montreal"


def test_docs_static_and_health(client: TestClient, db: Database) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 404 and client.get("/openapi.json").status_code == 404
    _, token = agent_with_token(db, "viewer")
    schema = client.get("/api/openapi.json", headers=bearer(token)).json()
    assert "/api/cases/{case_id}" in schema["paths"] and "/login" not in schema["paths"]
    docs = client.get("/api/docs", headers=bearer(token))
    assert docs.status_code == 200 and "/api/cases/{case_id}/replies" in docs.text
    assert "Authorization: Bearer &lt;token&gt;" in docs.text
    assert not EXTERNAL.search(docs.text)  # no CDN: nothing loaded from elsewhere
    for name in ("common.js", "inbox.js", "case.js", "case_panels.js", "composer.js"):
        script = client.get(f"/static/{name}")
        assert script.status_code == 200, name
        # Data never becomes markup: no HTML sinks anywhere in the pages' scripts.
        assert not re.search(
            r"\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write|\beval\(", script.text
        ), name
    assert "textContent" in client.get("/static/common.js").text
    assert "/api/inbox?" in client.get("/static/inbox.js").text
    assert "/api/events/stream" in client.get("/static/common.js").text


def test_prod_cookies_are_secure_and_background_work_runs_with_the_app(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    @asynccontextmanager
    async def fake_background(s: Settings, d: Database) -> AsyncIterator[None]:
        seen.append("start")
        yield
        seen.append("stop")

    monkeypatch.setattr("carebird.web.app.serve_background", fake_background)
    prod = settings.model_copy(update={"env": "prod", "public_url": "https://desk.example"})
    with db.session() as s, s.begin():
        create_agent(s, email="p@example.test", name="Prod Admin", password=PASSWORD, role="admin")
    with TestClient(create_app(prod, db=db)):
        assert seen == []  # web only (`serve --no-worker`, the tests' own apps)
    with TestClient(create_app(prod, db=db, background_work=True)) as client:
        assert seen == ["start"]
        ok = client.post("/api/auth/login", json={"email": "p@example.test", "password": PASSWORD})
        assert "Secure" in ok.headers["set-cookie"]
    assert seen == ["start", "stop"]
    with pytest.raises(ValueError):
        create_app(Settings(env="prod", database_url=settings.database_url), db=db)
