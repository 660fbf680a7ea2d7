"""Reply templates: CRUD by role, search, the default set, on SQLite and PostgreSQL."""

from __future__ import annotations

from carebird.db.database import Database
from carebird.reply.templates import DEFAULTS, search_templates, seed_default_templates
from tests.factories import TestClient, agent_with_token, bearer

DELAY = {
    "name": "Délai de réponse",
    "language": "fr",
    "body": "Bonjour {customer_name}, retour sous {expected_wait}.",
    "tags": ["délai", "accueil"],
}


def test_supervisors_write_agents_read(client: TestClient, db: Database) -> None:
    boss, agent, viewer = (
        bearer(agent_with_token(db, role)[1]) for role in ("supervisor", "agent", "viewer")
    )
    created = client.post("/api/templates", json=DELAY, headers=boss)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["variables"] == ["customer_name", "expected_wait"] and body["active"] is True
    assert body["tags"] == ["délai", "accueil"] and body["created_by"] is not None
    url = f"/api/templates/{body['id']}"
    assert client.get(url, headers=agent).json()["body"] == DELAY["body"]
    assert [t["id"] for t in client.get("/api/templates", headers=agent).json()] == [body["id"]]
    for method, path in (("POST", "/api/templates"), ("PATCH", url), ("DELETE", url)):
        denied = client.request(method, path, json=DELAY, headers=agent)
        assert denied.status_code == 403, (method, path)
    assert client.get("/api/templates", headers=viewer).status_code == 403

    patched = client.patch(url, json={"tags": ["délai"], "active": False}, headers=boss)
    assert patched.status_code == 200
    assert patched.json()["name"] == DELAY["name"]  # untouched fields stay
    assert patched.json()["tags"] == ["délai"] and patched.json()["active"] is False
    assert patched.json()["updated_at"] >= body["updated_at"]
    assert client.get("/api/templates", headers=agent).json() == []  # inactive: hidden
    listed = client.get("/api/templates?include_inactive=true", headers=agent).json()
    assert [t["id"] for t in listed] == [body["id"]]

    assert client.delete(url, headers=boss).status_code == 204
    assert client.get(url, headers=agent).status_code == 404
    assert client.delete(url, headers=boss).status_code == 404


def test_invalid_templates_are_refused_clearly(client: TestClient, db: Database) -> None:
    boss = bearer(agent_with_token(db, "supervisor")[1])
    assert client.post("/api/templates", json=DELAY, headers=boss).status_code == 201
    again = client.post("/api/templates", json=DELAY, headers=boss)
    assert again.status_code == 409 and again.json()["error"] == "Conflict"
    english = {**DELAY, "language": "en"}  # the same name in another language is another one
    assert client.post("/api/templates", json=english, headers=boss).status_code == 201
    bad = client.post(
        "/api/templates", json={**DELAY, "name": "x", "body": "Bonjour {prenom}"}, headers=boss
    )
    assert bad.status_code == 422 and "unknown variable {prenom}" in bad.json()["detail"]
    lone = client.post("/api/templates", json={**DELAY, "name": "y", "body": "a { b"}, headers=boss)
    assert lone.status_code == 422 and "lone '{'" in lone.json()["detail"]
    german = client.post("/api/templates", json={**DELAY, "language": "de"}, headers=boss)
    assert german.status_code == 422
    first = client.get("/api/templates?language=fr", headers=boss).json()[0]
    renamed = client.patch(
        f"/api/templates/{first['id']}", json={"language": "en"}, headers=boss
    )  # would collide with the English one
    assert renamed.status_code == 409
    emptied = client.patch(f"/api/templates/{first['id']}", json={"body": None}, headers=boss)
    assert emptied.status_code == 422


def test_search_by_text_tag_and_language(client: TestClient, db: Database) -> None:
    with db.session() as s, s.begin():
        assert seed_default_templates(s) == len(DEFAULTS) == 8
        assert seed_default_templates(s) == 0  # idempotent: the demo may call it every start
    agent = bearer(agent_with_token(db, "agent")[1])

    def names(query: str) -> list[str]:
        response = client.get(f"/api/templates{query}", headers=agent)
        assert response.status_code == 200, response.text
        return [t["name"] for t in response.json()]

    assert len(names("")) == 8
    assert names("?language=en&q=outage") == ["Known outage"]
    assert names("?q=INCIDENT&language=fr") == ["Incident connu"]
    assert names("?q=prive") == ["Passer en message privé"]  # accents optional
    assert names("?tag=PANNE") == ["Incident connu"]
    assert names("?tag=thanks") == ["Thanks"]
    assert names("?q=patience") == ["Incident connu", "Known outage"]
    assert names("?q=nothing+like+this") == []
    with db.session() as s:
        found = search_templates(s, q="message privé", language="fr")
        assert [t.name for t in found] == ["Passer en message privé"]
        assert "{dm_link}" in found[0].body
