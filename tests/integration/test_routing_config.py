"""Routing from the user's side: the configuration example of the README, exactly as written,
through the `carebird` command; the rules API with its dry run; a corrected category routed
again (both engines)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import select

from carebird.auth.models import Team
from carebird.cases.models import Case, CaseEvent
from carebird.config import Settings
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.web.app import create_app
from tests.factories import (
    T0,
    TestClient,
    agent_with_token,
    bearer,
    case_of,
    customer,
    ingest,
    item,
)
from tests.support.processes import Carebird, run_cli, wait_for

EXAMPLE = """\
opening_hours = "Mon-Sun 00:00-24:00"
timezone = "UTC"
[[teams]]
name = "Escalations"
[[routing.rules]]
name = "English complaints to escalations"
when = { category = "complaint", language = "en" }
then = { team = "Escalations" }
[[sla.policies]]
name = "Complaints within the hour"
when = { category = "complaint" }
first_response_minutes = 60
"""

HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
ROWS = [
    ("1", "anna", "@Brand my parcel never arrived, this is a disgrace, I want a refund now"),
    ("2", "marc", "@Brand mon colis n'est jamais arrivé, c'est scandaleux, remboursez-moi"),
    ("3", "tom", "@Brand hi, what are your opening hours on Saturday?"),
]
COMPLAINT_EN = ROWS[0][2]


def test_the_configuration_example_routes_an_imported_history(
    settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "carebird.toml").write_text(EXAMPLE)  # read from the working directory
    csv_file = tmp_path / "history.csv"
    csv_file.write_text(
        HEADER
        + "".join(
            f'{tid},{who},True,Tue Oct 31 2{n}:10:47 +0000 2017,"{text}",,\n'
            for n, (tid, who, text) in enumerate(ROWS)
        )
        + "4,Brand,False,Tue Oct 31 21:40:47 +0000 2017,@marc on s'en occupe,,2\n"
    )
    env = {
        "CAREBIRD_DATABASE_URL": settings.database_url,
        "CAREBIRD_SECRET_KEY": settings.secret_key,
        # Cases no policy covers: 20 minutes (the example's policy covers complaints).
        "CAREBIRD_SLA_FIRST_RESPONSE_MINUTES": "20",
    }
    run_cli(env, tmp_path, "import", str(csv_file), "--json")
    rows = [
        json.loads(line)
        for line in run_cli(env, tmp_path, "cases", "export", "--format", "jsonl").splitlines()
    ]
    by_customer = {r["customer"]: r for r in rows}
    assert set(by_customer) == {"anna", "marc", "tom"}
    assert by_customer["anna"]["category"] == "complaint"
    assert by_customer["anna"]["language"] == "en"
    assert by_customer["anna"]["team"] == "Escalations"
    assert by_customer["marc"]["category"] == "complaint"
    assert by_customer["marc"]["language"] == "fr" and by_customer["marc"]["team"] is None
    assert by_customer["tom"]["team"] is None and by_customer["tom"]["assignee"] is None
    deadlines = {
        who: (r["first_response_due_at"], r["first_response_breached"])
        for who, r in by_customer.items()
    }
    assert deadlines == {
        "anna": ("2017-10-31T21:10:47+00:00", True),  # a complaint: 60 min, never answered
        "marc": ("2017-10-31T22:10:47+00:00", False),  # a complaint answered after 30 min
        "tom": ("2017-10-31T22:30:47+00:00", True),  # not a complaint: the 20-minute default
    }
    csv_out = run_cli(env, tmp_path, "cases", "export", "--format", "csv")
    assert csv_out.splitlines()[0].split(",")[5:9] == ["category", "language", "team", "assignee"]


def _client(settings: Settings, db: Database, **update: object) -> TestClient:
    app: FastAPI = create_app(settings.model_copy(update=update), db=db)
    return TestClient(app)


def test_rules_api_dry_run_and_a_corrected_category(settings: Settings, db: Database) -> None:
    yesterday = (utcnow() - T0).total_seconds() / 60 - 24 * 60  # the dry run looks back
    ingest(db, [item(customer(1), COMPLAINT_EN, minutes=yesterday, external_id="en")])
    case_id = case_of(db, "en")
    _, boss = agent_with_token(db, "supervisor")
    _, agent = agent_with_token(db, "agent")
    declared = {
        "teams": [{"name": "Escalations"}, {"name": "Questions"}],
        "routing": {"rules": [{"name": "file rule", "when": {"network": "mastodon"},
                               "then": {"team": "Escalations"}}]},
    }  # fmt: skip
    with _client(settings, db, **declared) as client:
        assert client.get("/api/routing/rules", headers=bearer(agent)).status_code == 403
        rule = {
            "name": "Questions team",
            "when": {"category": "question", "keywords": ["parcel"]},
            "then": {"team": "Questions", "tags": ["routed"]},
        }
        dry = client.post(
            "/api/routing/dry-run", json={"rule": rule, "days": 7}, headers=bearer(boss)
        )
        assert dry.status_code == 200, dry.text
        assert dry.json()["matched"] == 0  # not a question (yet)
        made = client.post("/api/routing/rules", json=rule, headers=bearer(boss))
        assert made.status_code == 201, made.text
        listed = client.get("/api/routing/rules", headers=bearer(boss)).json()
        assert [(r["source"], r["rule"]["name"]) for r in listed] == [
            ("file", "file rule"),
            ("desk", "Questions team"),
        ]
        bad = client.post(
            "/api/routing/rules", json={**rule, "when": {"regex": "("}}, headers=bearer(boss)
        )
        assert bad.status_code == 422
        # An agent corrects the category: the rules run again and route the case.
        fixed = client.patch(
            f"/api/cases/{case_id}", json={"category": "question"}, headers=bearer(agent)
        )
        assert fixed.status_code == 200, fixed.text
        assert fixed.json()["case"]["tags"] == ["routed"], fixed.json()
        with db.session() as s:
            team = s.scalar(
                select(Team.name).join(Case, Case.team_id == Team.id).where(Case.id == case_id)
            )
            routed = s.scalar(
                select(CaseEvent.new).where(
                    CaseEvent.case_id == case_id, CaseEvent.kind == "routed"
                )
            )
        assert team == "Questions" and routed == "Questions team"
        again = client.post(
            "/api/routing/dry-run", json={"rule": rule, "days": 7}, headers=bearer(boss)
        )
        assert again.json()["matched"] == 1 and again.json()["cases"][0]["case_id"] == case_id
        rule_id = made.json()["id"]
        changed = client.put(
            f"/api/routing/rules/{rule_id}", json={**rule, "enabled": False}, headers=bearer(boss)
        )
        assert changed.status_code == 200 and changed.json()["rule"]["enabled"] is False
        gone = client.delete(f"/api/routing/rules/{rule_id}", headers=bearer(boss))
        assert gone.status_code == 204
        assert (
            client.delete(f"/api/routing/rules/{rule_id}", headers=bearer(boss)).status_code == 404
        )


def test_serve_writes_the_breach_of_a_deadline_and_the_inbox_shows_it(tmp_path: Path) -> None:
    """`carebird serve` (no simulation; the embedded runner on SQLite) runs the deadline
    watcher: an imported complaint left unanswered gets its `sla_breached` event."""
    (tmp_path / "carebird.toml").write_text(EXAMPLE)
    csv_file = tmp_path / "history.csv"
    csv_file.write_text(HEADER + f'1,anna,True,Tue Oct 31 20:10:47 +0000 2017,"{COMPLAINT_EN}",,\n')
    db_url = f"sqlite:///{tmp_path / 'desk.db'}"
    env = {
        "CAREBIRD_DATABASE_URL": db_url,
        "CAREBIRD_SECRET_KEY": "a-test-secret-key-that-is-long-enough-0123",
        "CAREBIRD_ADMIN_EMAIL": "admin@carebird.test",
        "CAREBIRD_ADMIN_PASSWORD": "a-long-admin-password-1",
    }
    run_cli(env, tmp_path, "import", str(csv_file), "--json")
    db = Database(db_url)
    try:
        with db.session() as s:
            case_id = s.scalar(select(Case.id))
        server = Carebird("serve", env=env, workdir=tmp_path).wait_healthy()
        try:

            def breached() -> str | None:
                with db.session() as s:
                    return s.scalar(
                        select(CaseEvent.new).where(
                            CaseEvent.case_id == case_id, CaseEvent.kind == "sla_breached"
                        )
                    )

            assert wait_for("the breach event", breached, timeout=30) == (
                "2017-10-31T21:10:47+00:00"  # the example's policy: complaints within the hour
            )
            token = run_cli(env, tmp_path, "tokens", "create", "--email", "admin@carebird.test")
            status, page = server.call("GET", "/api/inbox", token.strip().split()[-1])
            assert status == 200 and page["items"][0]["breached"] is True
        finally:
            server.stop()
        assert "Traceback" not in server.output(), server.output()
    finally:
        db.dispose()
