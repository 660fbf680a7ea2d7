"""The JSON API through FastAPI's TestClient, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import select

from carebird.auth.service import create_agent, token_row
from carebird.cases.models import CaseEvent
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.reply.models import OutboxItem
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
from tests.support.roles import (
    ROLES_ACKNOWLEDGEMENTS,
    ROLES_CASEWORK,
    ROLES_COMPOSER,
    ROLES_INCIDENTS,
    ROLES_KNOWLEDGE,
    ROLES_LIVE,
    ROLES_METRICS,
    ROLES_PEOPLE,
    ROLES_ROUTING,
    ROLES_SATISFACTION,
    ROLES_SYSTEM,
    ROLES_TEAMS,
    ROLES_WORKSPACE,
)

PASSWORD = "correct horse battery"

# The least role each API route needs; a route missing here fails `test_every_route_is_listed`.
API_ROLES: dict[tuple[str, str], str | None] = {
    ("POST", "/api/auth/login"): None,
    ("POST", "/api/auth/logout"): "viewer",
    ("GET", "/api/me"): "viewer",
    ("POST", "/api/tokens"): "viewer",
    ("GET", "/api/cases"): "viewer",
    ("GET", "/api/cases/{case_id}"): "viewer",
    ("PATCH", "/api/cases/{case_id}"): "agent",
    ("POST", "/api/cases/{case_id}/replies"): "agent",
    ("POST", "/api/cases/{case_id}/replies/estimate"): "agent",
    ("GET", "/api/accounts"): "supervisor",
    ("POST", "/api/accounts"): "admin",
    ("PATCH", "/api/accounts/{account_id}"): "admin",
    ("POST", "/api/accounts/bluesky"): "admin",
    ("POST", "/api/accounts/{account_id}/disconnect"): "admin",
    ("GET", "/api/accounts/{account_id}/usage"): "supervisor",
    ("GET", "/api/sources/health"): "supervisor",
    ("GET", "/api/messages"): "viewer",
    ("GET", "/api/agents"): "supervisor",
    ("POST", "/api/agents"): "admin",
    ("GET", "/api/openapi.json"): "viewer",
    ("GET", "/api/docs"): "viewer",
}
# Each workspace module lists its own routes beside its tests (one writer per file).
for _extra in (
    ROLES_COMPOSER, ROLES_LIVE, ROLES_CASEWORK, ROLES_WORKSPACE, ROLES_SYSTEM, ROLES_ROUTING,
    ROLES_ACKNOWLEDGEMENTS, ROLES_TEAMS, ROLES_PEOPLE, ROLES_SATISFACTION, ROLES_METRICS,
    ROLES_KNOWLEDGE, ROLES_INCIDENTS,
):  # fmt: skip
    API_ROLES.update(_extra)
BELOW = {"agent": "viewer", "supervisor": "agent", "admin": "supervisor"}


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if route.path and route.path.startswith("/api") and route.methods
        for method in route.methods
        if method != "HEAD"
    )


def url(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "1", path)


def test_every_route_is_listed(app: FastAPI) -> None:
    assert api_routes(app) == sorted(API_ROLES)


def test_every_api_route_refuses_anonymous(app: FastAPI, client: TestClient) -> None:
    for method, path in api_routes(app):
        if API_ROLES[(method, path)] is None:
            continue
        response = client.request(method, url(path), json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"] == "AuthError"
        bad = client.request(method, url(path), json={}, headers=bearer("cb_forged"))
        assert bad.status_code == 401, (method, path)


def test_every_api_route_enforces_its_role(app: FastAPI, client: TestClient, db: Database) -> None:
    tokens = {role: agent_with_token(db, role)[1] for role in ("viewer", "agent", "supervisor")}
    for method, path in api_routes(app):
        needed = API_ROLES[(method, path)]
        if needed is None or needed == "viewer":
            continue
        response = client.request(method, url(path), json={}, headers=bearer(tokens[BELOW[needed]]))
        assert response.status_code == 403, (method, path, response.text)
        assert response.json() == {"error": "Forbidden", "detail": f"this needs the {needed} role"}


def test_login_session_cookie_and_logout(client: TestClient, db: Database) -> None:
    with db.session() as s, s.begin():
        create_agent(
            s, email="marie@example.test", name="Marie Curie", password=PASSWORD, role="agent"
        )
    bad = client.post("/api/auth/login", json={"email": "marie@example.test", "password": "nope"})
    assert bad.status_code == 401 and bad.json()["error"] == "AuthError"
    assert "carebird_session" not in client.cookies
    ok = client.post("/api/auth/login", json={"email": "MARIE@example.test", "password": PASSWORD})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["token"].startswith("cb_") and body["agent"]["initials"] == "MC"
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Secure" not in cookie
    assert client.cookies["carebird_session"] == body["token"]
    assert client.get("/api/me").json()["email"] == "marie@example.test"  # by cookie
    # A cookie-authenticated write needs the CSRF header; a bearer one does not.
    assert client.post("/api/tokens", json={}).status_code == 403
    csrf = {"X-CSRF-Token": client.cookies["carebird_csrf"]}
    assert client.post("/api/tokens", json={"name": "ci"}, headers=csrf).status_code == 201
    assert client.post("/api/auth/logout", headers=csrf).status_code == 204
    assert client.get("/api/me", headers=bearer(body["token"])).status_code == 401


def test_tokens_expired_and_revoked_are_refused(client: TestClient, db: Database) -> None:
    agent, token = agent_with_token(db, "viewer")
    assert client.get("/api/me", headers=bearer(token)).json()["id"] == agent.id
    created = client.post("/api/tokens", json={"name": "bot", "ttl_days": 1}, headers=bearer(token))
    assert created.status_code == 201
    second = created.json()["token"]
    assert client.get("/api/me", headers=bearer(second)).status_code == 200
    with db.session() as s, s.begin():
        row = token_row(s, token=second)
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        first = token_row(s, token=token)
        assert first is not None
        first.revoked = True
    for t in (token, second):
        response = client.get("/api/me", headers=bearer(t))
        assert response.status_code == 401 and response.json()["error"] == "AuthError"


def test_tokens_for_others_need_admin(client: TestClient, db: Database) -> None:
    agent, token = agent_with_token(db, "supervisor")
    admin, admin_token = agent_with_token(db, "admin")
    body = {"agent_id": admin.id}
    assert client.post("/api/tokens", json=body, headers=bearer(token)).status_code == 403
    made = client.post("/api/tokens", json={"agent_id": agent.id}, headers=bearer(admin_token))
    assert made.status_code == 201 and made.json()["agent_id"] == agent.id
    assert client.get("/api/me", headers=bearer(made.json()["token"])).json()["id"] == agent.id


def test_agents_admin(client: TestClient, db: Database) -> None:
    _, admin = agent_with_token(db, "admin")
    new = {"email": "Pierre@Example.test", "name": "Pierre Curie", "password": PASSWORD}
    made = client.post("/api/agents", json={**new, "role": "supervisor"}, headers=bearer(admin))
    assert made.status_code == 201, made.text
    assert made.json()["email"] == "pierre@example.test" and "password_hash" not in made.json()
    assert client.post("/api/agents", json=new, headers=bearer(admin)).status_code == 409
    bad_role = {**new, "email": "x@example.test", "role": "god"}
    assert client.post("/api/agents", json=bad_role, headers=bearer(admin)).status_code == 422
    listed = client.get("/api/agents", headers=bearer(admin)).json()
    assert "pierre@example.test" in [a["email"] for a in listed]


def seed_cases(db: Database) -> list[int]:
    ingest(
        db,
        [
            item(customer(n), f"order {n} is late", minutes=n, external_id=f"s{n}")
            for n in range(1, 6)
        ],
    )
    ingest(db, [item(customer(9), "toot", minutes=30, network="mastodon", external_id="s9")])
    return [case_of(db, f"s{n}") for n in (1, 2, 3, 4, 5, 9)]


def test_list_filter_paginate(client: TestClient, db: Database) -> None:
    ids = seed_cases(db)
    _, token = agent_with_token(db, "viewer")
    h = bearer(token)
    page = client.get("/api/cases", params={"limit": 4, "sort": "activity"}, headers=h).json()
    assert page["total"] == 6 and [c["id"] for c in page["items"]] == ids[::-1][:4]
    rest = client.get(
        "/api/cases", params={"limit": 4, "sort": "activity", "cursor": page["next"]}, headers=h
    ).json()
    assert [c["id"] for c in rest["items"]] == ids[::-1][4:] and rest["next"] is None
    by_offset = client.get(
        "/api/cases", params={"limit": 4, "sort": "activity", "offset": 4}, headers=h
    ).json()
    assert by_offset["items"] == rest["items"]
    masto = client.get("/api/cases", params={"network": "mastodon"}, headers=h).json()
    assert [c["customer_handle"] for c in masto["items"]] == ["customer9"]
    assert client.get("/api/cases?q=ORDER 3", headers=h).json()["items"][0]["id"] == ids[2]
    assert client.get("/api/cases?status=open,resolved", headers=h).json()["total"] == 0
    assert client.get("/api/cases?status=new&status=open", headers=h).json()["total"] == 6
    assert (
        client.get("/api/cases?sort=created&limit=1", headers=h).json()["items"][0]["id"] == ids[-1]
    )
    assert client.get("/api/cases?sort=bogus", headers=h).status_code == 422
    assert client.get("/api/cases?limit=500", headers=h).status_code == 422
    assert client.get("/api/cases?cursor=zzz", headers=h).status_code == 422
    messages = client.get("/api/messages", params={"limit": 2}, headers=h).json()
    assert messages["total"] == 6 and messages["next"] == "2"
    assert (
        client.get(f"/api/messages?case_id={ids[0]}", headers=h).json()["items"][0]["text"]
        == "order 1 is late"
    )


def test_detail_patch_and_events(client: TestClient, db: Database) -> None:
    ingest(db, [item(customer(1), "where is my parcel?", external_id="p1")])
    ingest(db, [private(customer(1), "order 42", minutes=3, external_id="p2")])
    case_id = case_of(db, "p1")
    agent, token = agent_with_token(db, "agent")
    h = bearer(token)
    detail = client.get(f"/api/cases/{case_id}", headers=h).json()
    assert [m["is_private"] for m in detail["messages"]] == [False, True]
    assert detail["customer"]["handle"] == "customer1" and detail["events"][0]["kind"] == "created"
    assert client.get("/api/cases/9999", headers=h).status_code == 404

    def event_count() -> int:
        with db.session() as s:
            return len(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).all())

    before = event_count()
    refused = client.patch(
        f"/api/cases/{case_id}", json={"status": "new", "tags_add": ["x"]}, headers=h
    )
    assert refused.status_code == 409 and refused.json()["error"] == "InvalidTransition"
    assert event_count() == before
    assert (
        client.patch(f"/api/cases/{case_id}", json={"status": "zzz"}, headers=h).status_code == 422
    )
    assert (
        client.patch(f"/api/cases/{case_id}", json={"color": "red"}, headers=h).status_code == 422
    )

    changed = client.patch(
        f"/api/cases/{case_id}",
        json={"status": "open", "assignee_id": agent.id, "tags_add": [" VIP ", "refund"]},
        headers=h,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["case"]["status"] == "open" and body["case"]["assignee_id"] == agent.id
    assert body["case"]["tags"] == ["refund", "vip"]
    new_events = body["events"][before:]
    assert {(e["kind"], e["actor_id"], e["actor_name"]) for e in new_events} == {
        ("status", agent.id, agent.name),
        ("assigned", agent.id, agent.name),
        ("tag_added", agent.id, agent.name),
    }
    removed = client.patch(f"/api/cases/{case_id}", json={"tags_remove": ["vip"]}, headers=h).json()
    assert removed["case"]["tags"] == ["refund"] and removed["case"]["assignee_id"] == agent.id
    assert removed["events"][-1]["kind"] == "tag_removed" and removed["events"][-1]["old"] == "vip"
    unassigned = client.patch(f"/api/cases/{case_id}", json={"assignee_id": None}, headers=h).json()
    assert unassigned["case"]["assignee_id"] is None and unassigned["case"]["status"] == "open"


def test_reply_is_queued(client: TestClient, db: Database) -> None:
    ingest(db, [item(customer(1), "help", external_id="r1")])
    case_id = case_of(db, "r1")
    agent, token = agent_with_token(db, "agent")
    body = {"text": "On s'en occupe !", "idempotency_key": "key-12345"}
    first = client.post(f"/api/cases/{case_id}/replies", json=body, headers=bearer(token))
    assert first.status_code == 202, first.text
    out = first.json()
    assert (out["status"], out["in_reply_to_id"], out["created_by"]) == ("pending", "r1", agent.id)
    again = client.post(f"/api/cases/{case_id}/replies", json=body, headers=bearer(token))
    assert again.json()["id"] == out["id"]
    with db.session() as s:
        rows = s.scalars(select(OutboxItem)).all()
        # Signed with the agent's initials, as the composer showed it.
        signed = body["text"] + " ^AN"
        assert [(r.id, r.text, r.private) for r in rows] == [(out["id"], signed, False)]
        kinds = s.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)).all()
        assert "reply_queued" in kinds
    empty = client.post(f"/api/cases/{case_id}/replies", json={"text": " "}, headers=bearer(token))
    assert empty.status_code == 422
    missing = client.post("/api/cases/999/replies", json={"text": "hi"}, headers=bearer(token))
    assert missing.status_code == 404


def test_api_login_is_throttled_after_repeated_failures(client: TestClient, db: Database) -> None:
    with db.session() as s, s.begin():
        create_agent(s, email="lock@example.test", name="Lock Out", password=PASSWORD, role="agent")
    wrong = {"email": "lock@example.test", "password": "not the password"}
    codes = [client.post("/api/auth/login", json=wrong).status_code for _ in range(6)]
    assert codes[:4] == [401] * 4 and codes[-1] == 429
    locked = client.post("/api/auth/login", json={**wrong, "password": PASSWORD})
    assert locked.status_code == 429  # even the right password waits for the lock to end
    assert int(locked.headers["Retry-After"]) >= 1
    other = client.post("/api/auth/login", json={"email": "x@example.test", "password": "nope"})
    assert other.status_code == 401  # another e-mail is not locked
