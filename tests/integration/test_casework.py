"""The case-work API: notes, the customer's profile, the timeline, merge and split, the outside
owners' directory (both engines). Anonymous and below-role access to every route is checked by
tests/integration/test_api.py from tests/support/roles/casework.py."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from carebird.auth.models import Agent
from carebird.cases.service import change_status
from carebird.db.database import Database
from carebird.ingest.models import Message
from carebird.reply.models import OutboxItem
from carebird.web.api import casework
from tests.factories import (
    BRAND,
    T0,
    TestClient,
    agent_with_token,
    bearer,
    case_of,
    customer,
    ingest,
    item,
    private,
)
from tests.support.roles.casework import ROLES_CASEWORK

DAY = 24 * 60


def h(db: Database, role: str = "agent", **kw: str) -> dict[str, str]:
    return bearer(agent_with_token(db, role, **kw)[1])


def test_notes_api(client: TestClient, db: Database) -> None:
    ingest(db, [item(customer(1), "my parcel is lost", external_id="n1")])
    case_id = case_of(db, "n1")
    url = f"/api/cases/{case_id}/notes"
    made = client.post(url, json={"body": "called the depot"}, headers=h(db, name="Ana Lopez"))
    assert made.status_code == 201, made.text
    assert made.json()["author_name"] == "Ana Lopez" and made.json()["body"] == "called the depot"
    listed = client.get(url, headers=h(db, "viewer")).json()
    assert [(n["body"], n["author_name"]) for n in listed] == [("called the depot", "Ana Lopez")]
    assert client.post(url, json={"body": ""}, headers=h(db)).status_code == 422
    assert client.post(url, json={"body": "x", "extra": 1}, headers=h(db)).status_code == 422
    assert client.get("/api/cases/999/notes", headers=h(db, "viewer")).status_code == 404
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 0  # never sent


def test_customer_profile(client: TestClient, db: Database) -> None:
    fan = customer(1, followers=48_000, verified=True)
    ingest(db, [item(fan, "first problem", external_id="p1")])
    first = case_of(db, "p1")
    with db.session() as s, s.begin():
        change_status(s, case_id=first, status="resolved", actor_id=None)
        change_status(s, case_id=first, status="closed", actor_id=None)
    ingest(db, [item(fan, "second problem", minutes=60, external_id="p2")])
    ingest(db, [item(customer(2), "someone else", minutes=61, external_id="p3")])
    current = case_of(db, "p2")
    got = client.get(f"/api/cases/{current}/customer", headers=h(db, "viewer"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["identity"] == {
        "id": body["identity"]["id"],
        "network": "x",
        "handle": "customer1",
        "display_name": "Customer 1",
        "external_id": "u1",
        "followers": 48_000,
        "verified": True,
    }
    assert [(c["id"], c["status"], c["subject"]) for c in body["previous_cases"]] == [
        (first, "closed", "first problem")
    ]
    assert body["previous_cases"][0]["resolved_at"] is not None
    assert body["counts"] == {"cases": 2, "active": 1, "resolved": 1, "messages": 2}
    assert client.get("/api/cases/999/customer", headers=h(db, "viewer")).status_code == 404


def test_timeline_in_time_order_with_labels_in_the_agents_language(
    client: TestClient, db: Database
) -> None:
    ingest(
        db,
        [
            item(customer(1), "my parcel is lost", external_id="t1"),
            private(customer(1), "my order 12345678", minutes=2, external_id="t2"),
            item(BRAND, "checking", minutes=3, in_reply_to_id="t1", external_id="t3"),
        ],
    )
    case_id = case_of(db, "t1")
    agent, token = agent_with_token(db, "agent")
    client.post(f"/api/cases/{case_id}/notes", json={"body": "depot"}, headers=bearer(token))
    client.patch(f"/api/cases/{case_id}", json={"tags_add": ["colis"]}, headers=bearer(token))
    items = client.get(f"/api/cases/{case_id}/timeline", headers=bearer(token)).json()
    kinds = [i["kind"] for i in items]
    assert kinds[:5] == [
        "message.in.public",
        "event.created",
        "message.in.private",
        "message.out.public",
        "event.status",
    ]
    assert kinds[5:] == ["note", "event.tag_added"]  # the note's own event is the note item
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    assert items[0]["label"] == "Message public du client"  # agents default to French
    assert items[5]["text"] == "depot" and items[5]["actor_id"] == agent.id
    english = bearer(agent_with_token(db, "viewer")[1])
    with db.session() as s, s.begin():
        s.query(Agent).filter(Agent.role == "viewer").update({"locale": "en"})
    items = client.get(f"/api/cases/{case_id}/timeline", headers=english).json()
    assert items[2]["label"] == "Customer's private message"
    assert client.get("/api/cases/999/timeline", headers=english).status_code == 404


def two_cases(db: Database, other: int = 1) -> tuple[int, int]:
    ingest(db, [item(customer(1), "my parcel is lost", external_id="a1")])
    a = case_of(db, "a1")
    with db.session() as s, s.begin():
        change_status(s, case_id=a, status="closed", actor_id=None)
    ingest(db, [item(customer(other), "still nothing", minutes=DAY, external_id="b1")])
    return a, case_of(db, "b1")


def test_merge_api(client: TestClient, db: Database) -> None:
    a, b = two_cases(db)
    merged = client.post(f"/api/cases/{a}/merge", json={"other_id": b}, headers=h(db))
    assert merged.status_code == 200, merged.text
    detail = merged.json()
    assert detail["case"]["id"] == a and detail["case"]["message_count"] == 2
    assert [m["external_id"] for m in detail["messages"]] == ["a1", "b1"]
    assert detail["events"][-1]["kind"] == "merged"
    other = client.get(f"/api/cases/{b}", headers=h(db, "viewer")).json()
    assert other["case"]["status"] == "closed" and other["messages"] == []
    again = client.post(f"/api/cases/{a}/merge", json={"other_id": b}, headers=h(db))
    assert again.status_code == 409


def test_merging_other_customers_is_forced_by_a_supervisor(
    client: TestClient, db: Database
) -> None:
    a, b = two_cases(db, other=2)
    url = f"/api/cases/{a}/merge"
    refused = client.post(url, json={"other_id": b}, headers=h(db))
    assert refused.status_code == 409 and "supervisor" in refused.json()["detail"]
    forced = client.post(url, json={"other_id": b, "force": True}, headers=h(db))
    assert forced.status_code == 403
    ok = client.post(url, json={"other_id": b, "force": True}, headers=h(db, "supervisor"))
    assert ok.status_code == 200 and ok.json()["case"]["message_count"] == 2


def test_split_api(client: TestClient, db: Database) -> None:
    ingest(
        db,
        [
            item(customer(1), "my parcel is lost", external_id="s1"),
            item(customer(1), "and my invoice is wrong", minutes=10, external_id="s2"),
        ],
    )
    case_id = case_of(db, "s1")
    with db.session() as s:
        second = s.scalar(select(Message.id).where(Message.external_id == "s2"))
    url = f"/api/cases/{case_id}/split"
    done = client.post(url, json={"message_ids": [second]}, headers=h(db))
    assert done.status_code == 201, done.text
    body = done.json()
    new = body["new_case"]
    assert [m["external_id"] for m in body["case"]["messages"]] == ["s1"]
    assert [m["external_id"] for m in new["messages"]] == ["s2"]
    assert new["case"]["customer_handle"] == "customer1"
    assert new["case"]["created_at"].startswith((T0 + timedelta(minutes=10)).isoformat()[:19])
    assert new["events"][-1]["kind"] == "split_from"
    assert client.post(url, json={"message_ids": []}, headers=h(db)).status_code == 422
    lone = client.post(url, json={"message_ids": [second]}, headers=h(db))
    assert lone.status_code == 422  # no longer in this case


def test_outside_owners_directory(client: TestClient, db: Database) -> None:
    boss = h(db, "supervisor")
    body = {"name": " Paul  Dépôt ", "email": "Paul@Transport.test", "language": "en"}
    made = client.post("/api/outside-owners", json=body, headers=boss)
    assert made.status_code == 201, made.text
    owner = made.json()
    assert (owner["name"], owner["email"], owner["language"]) == (
        "Paul Dépôt",
        "paul@transport.test",
        "en",
    )
    assert owner["active"] is True and owner["organisation"] == ""
    dup = client.post("/api/outside-owners", json={**body, "name": "Other"}, headers=boss)
    assert dup.status_code == 409
    for bad in (
        {"name": "X", "email": "not-an-address"},
        {"name": "X", "email": "a@b.test\r\nBcc: evil@x.test"},
        {"name": "X", "email": "x@y.test", "language": "de"},
    ):
        assert client.post("/api/outside-owners", json=bad, headers=boss).status_code == 422
    url = f"/api/outside-owners/{owner['id']}"
    patched = client.patch(url, json={"organisation": "Transports"}, headers=boss)
    assert patched.status_code == 200 and patched.json()["organisation"] == "Transports"
    assert patched.json()["name"] == "Paul Dépôt"  # untouched
    agent = h(db)
    assert [o["id"] for o in client.get("/api/outside-owners", headers=agent).json()] == [
        owner["id"]
    ]
    assert client.delete(url, headers=boss).status_code == 204
    assert client.get("/api/outside-owners", headers=agent).json() == []
    everyone = client.get("/api/outside-owners?include_inactive=true", headers=agent).json()
    assert [o["active"] for o in everyone] == [False]
    assert client.patch("/api/outside-owners/999", json={}, headers=boss).status_code == 404


def test_forwards_of_an_unknown_case(client: TestClient, db: Database) -> None:
    assert client.get("/api/cases/999/forwards", headers=h(db, "viewer")).status_code == 404
    assert client.post("/api/forwards/999/revoke", headers=h(db)).status_code == 404


def test_every_casework_route_is_mapped() -> None:
    mine = {
        (method, getattr(route, "path", ""))
        for route in casework.router.routes
        for method in getattr(route, "methods", ())
    }
    assert mine == set(ROLES_CASEWORK)
