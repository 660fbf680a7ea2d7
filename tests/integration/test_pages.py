"""The pages, the API docs page, static files and the app's lifecycle, on both engines."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from carebird.app import create_app
from carebird.auth.service import create_agent
from carebird.config import Settings
from carebird.db.database import Database
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


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    app: FastAPI = create_app(settings, db=db)
    with TestClient(app) as c:
        yield c


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
    html = page.text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;&#34;" in html
    assert "Privé" in html and "Public" in html
    assert "script-src 'self'" in page.headers["content-security-policy"]
    inbox = client.get("/")
    assert inbox.status_code == 200 and "&lt;script&gt;" in inbox.text
    assert "<script>alert" not in inbox.text
    assert '<script src="/static/inbox.js" defer></script>' in inbox.text
    assert len(re.findall(r"<script", inbox.text)) == 1  # no inline script at all
    assert not EXTERNAL.search(inbox.text)
    assert client.get("/cases/9999").status_code == 404


def test_every_page_requires_login(client: TestClient) -> None:
    public = {"/login", "/healthz", "/static"}
    for route in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        if route.path.startswith("/api") or route.path in public or "GET" not in route.methods:
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
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None and client.cookies["carebird_csrf"] == csrf.group(1)
    creds = {"email": "ana@example.test", "password": PASSWORD, "next": "/cases/3"}
    forged = client.post("/login", data={**creds, "csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403 and "carebird_session" not in client.cookies
    wrong = client.post("/login", data={**creds, "password": "nope", "csrf_token": csrf.group(1)})
    assert wrong.status_code == 401 and "incorrect" in wrong.text
    ok = client.post("/login", data={**creds, "csrf_token": csrf.group(1)}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/cases/3"
    assert "carebird_session" in client.cookies
    assert client.get("/").status_code == 200
    evil_next = client.get("/login?next=//evil.example", follow_redirects=False)
    assert evil_next.headers["location"] == "/"
    assert (
        client.post(
            "/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False
        ).status_code
        == 303
    )
    assert client.get("/", follow_redirects=False).status_code == 303


def test_docs_static_and_health(client: TestClient, db: Database) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 404 and client.get("/openapi.json").status_code == 404
    _, token = agent_with_token(db, "viewer")
    schema = client.get("/api/openapi.json", headers=bearer(token)).json()
    assert "/api/cases/{case_id}" in schema["paths"] and "/login" not in schema["paths"]
    docs = client.get("/api/docs", headers=bearer(token))
    assert docs.status_code == 200 and "/api/cases/{case_id}/replies" in docs.text
    assert not EXTERNAL.search(docs.text)  # no CDN: nothing loaded from elsewhere
    script = client.get("/static/inbox.js")
    assert script.status_code == 200 and "textContent" in script.text
    assert not re.search(r"\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write", script.text)
    assert "/api/cases?sort=priority&limit=50" in script.text


def test_prod_cookies_are_secure_and_simulation_runs_with_the_app(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    @asynccontextmanager
    async def fake_background(s: Settings, d: Database) -> AsyncIterator[None]:
        seen.append("start")
        yield
        seen.append("stop")

    monkeypatch.setattr("carebird.app.background", fake_background)
    prod = settings.model_copy(update={"env": "prod", "simulate": True})
    with db.session() as s, s.begin():
        create_agent(s, email="p@example.test", name="Prod Admin", password=PASSWORD, role="admin")
    with TestClient(create_app(prod, db=db)) as client:
        assert seen == ["start"]
        ok = client.post("/api/auth/login", json={"email": "p@example.test", "password": PASSWORD})
        assert "Secure" in ok.headers["set-cookie"]
    assert seen == ["start", "stop"]
    with pytest.raises(ValueError):
        create_app(Settings(env="prod", database_url=settings.database_url), db=db)
