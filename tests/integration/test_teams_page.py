"""The Teams page (admins) and the header's status form, on both engines: plain forms through
the same functions as the API, refused input shown on the page, names escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from carebird.auth.models import Agent, Team
from carebird.config import Settings
from carebird.db.database import Database
from carebird.web.app import create_app
from tests.factories import TestClient, agent_with_token


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db=db)) as c:
        yield c


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def team(db: Database, name: str) -> Team:
    with db.session() as s:
        found = s.scalar(select(Team).where(Team.name == name))
    assert found is not None
    return found


def test_an_admin_sets_up_a_team_on_the_page(client: TestClient, db: Database) -> None:
    admin, token = agent_with_token(db, "admin", name="Ada Admin")
    ana, _ = agent_with_token(db, "agent", name="Ana <i>Agent</i>")
    client.cookies.set("carebird_session", token)
    page = client.get("/teams")
    assert page.status_code == 200 and "Aucune équipe pour l'instant." in page.text
    csrf = csrf_of(page.text)

    made = client.post("/teams", data={"csrf_token": csrf, "name": "<b>Billing</b>"},
                       follow_redirects=False)  # fmt: skip
    assert made.status_code == 303 and made.headers["location"] == "/teams?done=created"
    again = client.post("/teams", data={"csrf_token": csrf, "name": "<B>billing</B>"})
    assert again.status_code == 409 and "already exists" in again.text
    forged = client.post("/teams", data={"csrf_token": "forged", "name": "Other"})
    assert forged.status_code == 403
    tid = team(db, "<b>Billing</b>").id

    shown = client.get("/teams?done=created").text
    assert "L&#39;équipe est créée." in shown or "L'équipe est créée." in shown
    assert "&lt;b&gt;Billing&lt;/b&gt;" in shown and "<b>Billing</b>" not in shown
    assert "Ana &lt;i&gt;Agent&lt;/i&gt;" in shown and "<i>Agent</i>" not in shown

    add = client.post(f"/teams/{tid}/add", data={"csrf_token": csrf, "agent_id": str(ana.id)},
                      follow_redirects=False)  # fmt: skip
    assert add.status_code == 303
    bad = client.post(
        f"/teams/{tid}/settings",
        data={"csrf_token": csrf, "name": "Billing", "assignment": "round_robin",
              "max_open_per_agent": "zero", "lead_id": ""},
    )  # fmt: skip
    assert bad.status_code == 422 and "cap: a whole number" in bad.text
    assert team(db, "<b>Billing</b>").assignment == "manual"  # nothing half done
    ok = client.post(
        f"/teams/{tid}/settings",
        data={"csrf_token": csrf, "name": "Billing", "assignment": "least_loaded",
              "max_open_per_agent": "4", "lead_id": str(admin.id)},
        follow_redirects=False,
    )  # fmt: skip
    assert ok.status_code == 303
    saved = team(db, "Billing")
    assert (saved.assignment, saved.max_open_per_agent, saved.lead_id) == (
        "least_loaded", 4, admin.id,
    )  # fmt: skip

    away = client.post(f"/agents/{ana.id}/status",
                       data={"csrf_token": csrf, "status": "away", "next": "/teams?done=status"},
                       follow_redirects=False)  # fmt: skip
    assert away.status_code == 303 and away.headers["location"] == "/teams?done=status"
    listed = client.get("/teams").text
    assert f'data-email="{ana.email}" data-status="away"' in listed
    busy = client.post(f"/teams/{tid}/delete", data={"csrf_token": csrf})
    assert busy.status_code == 409 and "still has members" in busy.text
    client.post(f"/teams/{tid}/remove", data={"csrf_token": csrf, "agent_id": str(ana.id)})
    gone = client.post(f"/teams/{tid}/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert gone.status_code == 303
    with db.session() as s:
        assert s.get(Team, tid) is None


def test_the_header_sets_my_status_and_only_admins_see_teams(
    client: TestClient, db: Database
) -> None:
    ana, token = agent_with_token(db, "agent")
    other, _ = agent_with_token(db, "agent")
    _, sup = agent_with_token(db, "supervisor")
    _, viewer = agent_with_token(db, "viewer")
    client.cookies.set("carebird_session", token)
    inbox = client.get("/").text
    assert 'action="/agents/me/status"' in inbox and 'href="/teams"' not in inbox
    csrf = csrf_of(inbox)
    r = client.post("/agents/me/status", data={"csrf_token": csrf, "status": "offline",
                                               "next": "https://evil.example/"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert client.post("/agents/me/status", data={"csrf_token": csrf, "status": "gone"}
                       ).status_code == 422  # fmt: skip
    other_status = client.post(f"/agents/{other.id}/status",
                               data={"csrf_token": csrf, "status": "away"})  # fmt: skip
    assert other_status.status_code == 403
    with db.session() as s:
        assert s.get_one(Agent, ana.id).status == "offline"
        assert s.get_one(Agent, other.id).status == "available"
    assert 'data-status="offline"' in client.get("/").text
    client.cookies.set("carebird_session", sup)
    assert client.get("/teams").status_code == 403
    client.cookies.set("carebird_session", viewer)
    assert 'action="/agents/me/status"' not in client.get("/").text
