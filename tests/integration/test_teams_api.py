"""The teams' API (admins) and agents' statuses (an agent their own, a supervisor anyone's),
on both engines: a team set up through it hands a routed case to a member."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from carebird.auth.models import Team
from carebird.cases.models import Case
from carebird.cases.routing import RoutingSetup
from carebird.cases.service import assign
from carebird.cli.desk import prepare_desk
from carebird.config import Settings
from carebird.db.database import Database
from carebird.errors import InvalidInput
from tests.factories import TestClient, agent_with_token, bearer, case_of, customer, ingest, item


def test_an_admin_sets_up_a_team_and_cases_follow_statuses(
    client: TestClient, db: Database
) -> None:
    _, admin = agent_with_token(db, "admin")
    a, a_token = agent_with_token(db, "agent", name="Ana Agent")
    b, _ = agent_with_token(db, "agent", name="Ben Agent")
    sup, sup_token = agent_with_token(db, "supervisor")
    h = bearer(admin)

    made = client.post("/api/teams", json={"name": "  Billing  team "}, headers=h)
    assert made.status_code == 201, made.text
    team = made.json()
    assert (team["name"], team["assignment"], team["members"]) == ("Billing team", "manual", [])
    tid = team["id"]
    dup = client.post("/api/teams", json={"name": "billing TEAM"}, headers=h)
    assert dup.status_code == 409 and "already exists" in dup.json()["detail"]
    # A name outside ASCII twice (SQLite's lower() folds ASCII only): a 409, never a 500.
    assert client.post("/api/teams", json={"name": "Équipe É"}, headers=h).status_code == 201
    dup = client.post("/api/teams", json={"name": "Équipe É"}, headers=h)
    assert dup.status_code == 409, dup.text
    bad = client.patch(f"/api/teams/{tid}", json={"assignment": "random"}, headers=h)
    assert bad.status_code == 422
    bad = client.patch(f"/api/teams/{tid}", json={"max_open_per_agent": 0}, headers=h)
    assert bad.status_code == 422
    assert client.patch(f"/api/teams/{tid}", json={"lead_id": 999}, headers=h).status_code == 422

    for agent in (a, b):
        r = client.put(f"/api/teams/{tid}/members/{agent.id}", headers=h)
        assert r.status_code == 200, r.text
    r = client.patch(
        f"/api/teams/{tid}",
        json={"assignment": "round_robin", "max_open_per_agent": 5, "lead_id": sup.id},
        headers=h,
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["assignment"], got["max_open_per_agent"], got["lead_id"]) == (
        "round_robin", 5, sup.id,
    )  # fmt: skip
    assert [(m["name"], m["status"]) for m in got["members"]] == [
        ("Ana Agent", "available"), ("Ben Agent", "available"),
    ]  # fmt: skip
    r = client.patch(f"/api/teams/{tid}", json={"max_open_per_agent": None}, headers=h)
    assert r.json()["max_open_per_agent"] is None and r.json()["lead_id"] == sup.id

    # Ana goes away: a case moved to the team goes to Ben.
    r = client.put("/api/agents/me/status", json={"status": "away"}, headers=bearer(a_token))
    assert r.json() == {"agent_id": a.id, "status": "away", "cases": []}
    assert client.put(
        f"/api/agents/{b.id}/status", json={"status": "away"}, headers=bearer(a_token)
    ).status_code == 403  # fmt: skip
    bad = client.put("/api/agents/me/status", json={"status": "asleep"}, headers=bearer(a_token))
    assert bad.status_code == 422
    ingest(db, [item(customer(1), "my parcel is lost", external_id="c1")])
    case_id = case_of(db, "c1")
    r = client.patch(f"/api/cases/{case_id}", json={"team_id": tid}, headers=bearer(a_token))
    assert r.status_code == 200 and r.json()["case"]["assignee_id"] == b.id, r.text
    # A supervisor sends Ben offline: his unanswered case goes back to Ana once she is back.
    r = client.put(f"/api/agents/{b.id}/status", json={"status": "offline"},
                   headers=bearer(sup_token))  # fmt: skip
    assert r.json()["cases"] == [case_id]
    with db.session() as s:
        assert s.scalar(select(Case.assignee_id).where(Case.id == case_id)) is None
    r = client.put("/api/agents/me/status", json={"status": "available"}, headers=bearer(a_token))
    assert r.json()["cases"] == [case_id]
    listed = client.get("/api/teams", headers=bearer(a_token)).json()
    mine = next(t for t in listed if t["id"] == tid)
    assert {m["name"]: (m["status"], m["open_cases"]) for m in mine["members"]} == {
        "Ana Agent": ("available", 1), "Ben Agent": ("offline", 0),
    }  # fmt: skip

    # Deleting: refused while it has members or cases; an empty team goes.
    r = client.delete(f"/api/teams/{tid}", headers=h)
    assert r.status_code == 409 and "members" in r.json()["detail"]
    for agent in (a, b):
        assert client.delete(f"/api/teams/{tid}/members/{agent.id}", headers=h).status_code == 200
    r = client.delete(f"/api/teams/{tid}", headers=h)
    assert r.status_code == 409 and "cases" in r.json()["detail"]
    empty = client.post("/api/teams", json={"name": "Empty"}, headers=h).json()["id"]
    assert client.delete(f"/api/teams/{empty}", headers=h).status_code == 204
    assert client.delete(f"/api/teams/{empty}", headers=h).status_code == 404
    assert client.patch("/api/teams/4242", json={"name": "x"}, headers=h).status_code == 404
    with db.session() as s, s.begin():  # the case stays with the team: still not deletable
        assign(s, case_id=case_id, agent_id=None, team_id=tid, actor_id=None)


def test_the_settings_declare_a_teams_lead_mode_and_cap(settings: Settings, db: Database) -> None:
    lead, _ = agent_with_token(db, "supervisor", email="lea@example.test")
    declared = [
        {"name": "Escalations", "lead": "LEA@example.test", "assignment": "least_loaded",
         "max_open_per_agent": 4},
        {"name": "Questions", "lead": "nobody@example.test"},
    ]  # fmt: skip
    prepare_desk(db, settings.model_copy(update={"teams": declared}), ("Escalations", "Questions"))
    with db.session() as s:
        got = {
            t.name: (t.lead_id, t.assignment, t.max_open_per_agent) for t in s.scalars(select(Team))
        }
    assert got == {"Escalations": (lead.id, "least_loaded", 4), "Questions": (None, "manual", None)}
    for bad in ({"name": "X", "assignment": "random"}, {"name": "X", "max_open_per_agent": 0},
                {"name": ""}, {"lead": "a@b.c"}):  # fmt: skip
        with pytest.raises(InvalidInput, match=r"teams\[0\]"):
            RoutingSetup.from_config({}, [bad])
