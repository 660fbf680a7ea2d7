"""Incidents on both engines: a simulated burst grouped into one incident as it arrives, one
reply to all (one outbox row per case, in its own thread, at most once), closing resolves."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import func, select

from carebird.cases import incidents
from carebird.cases.models import Case, CaseEvent
from carebird.config import Settings
from carebird.db.database import Database
from carebird.flows.intake import drain
from carebird.ingest.models import Message, NetworkAccount
from carebird.ingest.sim.network import SimulatedNetwork
from carebird.jobs.runner import register_accounts
from carebird.reply.models import OutboxItem
from carebird.web.app import create_app
from tests.factories import TestClient, agent_with_token, bearer, intake_for

SEED, MESSAGES = 11, 3000


def _burst(db: Database) -> incidents.IncidentRow:
    """The detected incident most of whose messages the simulator says report one incident."""
    sim = SimulatedNetwork(seed=SEED, limit_total=MESSAGES)
    register_accounts(db, sim)
    drain(db, sim, intake=intake_for())
    with db.session() as s:
        truth = {
            ext: (raw.get("sim") or {}).get("incident")
            for ext, raw in s.execute(select(Message.external_id, Message.raw))
        }
        rows = incidents.list_incidents(s, limit=1000)
    best = max(rows, key=lambda r: Counter(truth[e] for e in r.external_ids if truth[e]).total())
    return best


def test_a_simulated_burst_becomes_one_incident_answered_once_per_case_then_closed(
    db: Database, settings: Settings
) -> None:
    row = _burst(db)
    with db.session() as s:
        truth = dict(s.execute(select(Message.external_id, Message.raw)).tuples().all())
    reported = Counter((truth[e].get("sim") or {}).get("incident") for e in row.external_ids)
    top, n = reported.most_common(1)[0]
    assert top is not None and n >= 5 and row.count >= 5
    assert n >= 0.8 * sum(reported.values())  # the incident is about one cause
    _, token = agent_with_token(db, role="agent")
    with TestClient(create_app(settings, db=db)) as client:
        h = bearer(token)
        text = "Bonjour {customer_name}, la panne est connue, nous revenons vers vous."
        preview = client.post(f"/api/incidents/{row.id}/reply/preview", headers=h,
                              json={"text": text})  # fmt: skip
        assert preview.status_code == 200, preview.text
        assert preview.json()["cases"] == row.count and preview.json()["cost"] >= 0
        for _ in range(2):  # the same send twice (two clicks): each case answered once
            r = client.post(f"/api/incidents/{row.id}/reply", headers=h, json={"text": text})
            assert r.status_code == 202, r.text
        with db.session() as s:
            per_case = Counter(
                s.scalars(select(OutboxItem.case_id).where(OutboxItem.case_id.in_(row.case_ids)))
            )
            assert set(per_case) == set(row.case_ids) and set(per_case.values()) == {1}
            for item in s.scalars(select(OutboxItem).where(OutboxItem.case_id.in_(row.case_ids))):
                # in its own thread: answering the case's own inbound message
                own = s.scalars(
                    select(Message.external_id).where(Message.case_id == item.case_id)
                ).all()
                assert item.private or item.in_reply_to_id in own
                customer = s.get_one(Case, item.case_id).customer_id
                assert "{customer_name}" not in item.text and customer
        with db.session() as s, s.begin():  # surveys on: closing resolves as the desk does
            for account in s.scalars(select(NetworkAccount)):
                account.options = {**account.options, "survey": {"enabled": True}}
        closed = client.post(f"/api/incidents/{row.id}/close", headers=h, json={})
        assert closed.status_code == 200, closed.text
        assert closed.json()["status"] == "closed"
        again = client.post(f"/api/incidents/{row.id}/close", headers=h, json={})
        assert again.status_code == 409
    with db.session() as s:
        statuses = set(s.scalars(select(Case.status).where(Case.id.in_(row.case_ids))))
        assert statuses <= {"resolved", "closed"}
        joined = s.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.kind == "incident", CaseEvent.case_id.in_(row.case_ids))
        )
        assert joined == row.count
        # Each case was offered its survey on resolution (skipped: the replies are only queued).
        surveyed = set(
            s.scalars(
                select(CaseEvent.case_id).where(
                    CaseEvent.kind == "survey_skipped", CaseEvent.case_id.in_(row.case_ids)
                )
            )
        )
        assert surveyed == set(row.case_ids)


def test_made_merged_split_by_hand_and_a_case_in_one_incident_only(
    db: Database, settings: Settings
) -> None:
    sim = SimulatedNetwork(seed=3, limit_total=60)
    register_accounts(db, sim)
    drain(
        db,
        sim,
        intake=intake_for(),
    )
    with db.session() as s:
        free = s.scalars(
            select(Case.id).where(Case.id.not_in(select(incidents.IncidentCase.case_id)))
            .order_by(Case.id).limit(6)
        ).all()  # fmt: skip
    a, b, c, d, e, f = free
    _, token = agent_with_token(db, role="agent")
    hostile = "<script>alert(1)</script> panne"
    with TestClient(create_app(settings, db=db)) as client:
        h = bearer(token)
        one = client.post("/api/incidents", headers=h, json={"title": hostile, "case_ids": [a, b]})
        assert one.status_code == 201, one.text
        two = client.post("/api/incidents", headers=h, json={"title": "Box", "case_ids": [c, d]})
        clash = client.post("/api/incidents", headers=h, json={"title": "x", "case_ids": [a, e]})
        assert clash.status_code == 409  # a case is in one incident at most
        bad = client.post("/api/incidents", headers=h, json={"title": " ", "case_ids": [e]})
        assert bad.status_code == 422
        i1, i2 = one.json()["id"], two.json()["id"]
        merged = client.post(f"/api/incidents/{i2}/merge", headers=h, json={"into_id": i1})
        assert merged.status_code == 200 and merged.json()["case_ids"] == sorted([a, b, c, d])
        assert client.get(f"/api/incidents/{i2}", headers=h).json()["status"] == "closed"
        split = client.post(f"/api/incidents/{i1}/split", headers=h,
                            json={"case_ids": [c, d], "title": "Box again"})  # fmt: skip
        assert split.status_code == 200, split.text
        assert split.json()["new"]["case_ids"] == sorted([c, d])
        out = client.post(f"/api/incidents/{i1}/split", headers=h, json={"case_ids": [b]})
        assert out.json()["incident"]["case_ids"] == [a]
        added = client.post(f"/api/incidents/{i1}/cases", headers=h, json={"case_ids": [f, b]})
        assert added.json()["case_ids"] == sorted([a, b, f])
        page = client.get(f"/incidents/{i1}", headers=h)
        assert page.status_code == 200
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        inbox = client.get("/", headers=h)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in inbox.text
        assert "<script>alert(1)" not in inbox.text
        assert client.get("/api/incidents/999999", headers=h).status_code == 404


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_incidents_list_json_from_the_cli(db_url: str, db: Database, tmp_path: object) -> None:
    from pathlib import Path

    from tests.support.processes import run_cli

    with db.session() as s, s.begin():
        s.execute(select(1))
    sim = SimulatedNetwork(seed=SEED, limit_total=MESSAGES)
    register_accounts(db, sim)
    drain(db, sim, intake=intake_for())
    import json

    out = json.loads(run_cli({"CAREBIRD_DATABASE_URL": db_url}, Path(str(tmp_path)),
                             "incidents", "list", "--json"))  # fmt: skip
    assert out and {"id", "title", "status", "started_at", "case_ids", "external_ids"} <= set(
        out[0]
    )
    assert all(r["external_ids"] and r["case_ids"] for r in out)


def test_cli_merges_and_closes_incidents(db_url: str, db: Database) -> None:
    from click.testing import CliRunner

    from carebird.auth.service import create_agent
    from carebird.cli.main import cli

    sim = SimulatedNetwork(seed=3, limit_total=40)
    register_accounts(db, sim)
    drain(db, sim, intake=intake_for())
    with db.session() as s, s.begin():
        ids = s.scalars(select(Case.id).order_by(Case.id).limit(4)).all()
        one = incidents.create_incident(s, title="A", case_ids=ids[:2], actor_id=None).id
        two = incidents.create_incident(s, title="B", case_ids=ids[2:], actor_id=None).id
        create_agent(s, email="cli@example.test", name="Cli", password="x" * 12, role="agent")

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--database", db_url, *args])
        assert result.exit_code == 0, result.output
        return result.output

    run("incidents", "merge", str(two), str(one))
    run("incidents", "close", str(one), "--agent-email", "cli@example.test",
        "--final-message", "Réparé, merci !")  # fmt: skip
    listed = {r["id"]: r for r in json.loads(run("incidents", "list", "--json"))}
    assert listed[one]["status"] == "closed" and listed[one]["case_ids"] == sorted(ids)
    assert listed[two]["status"] == "closed" and listed[two]["case_ids"] == []
    with db.session() as s:
        assert set(s.scalars(select(Case.status).where(Case.id.in_(ids)))) == {"resolved"}
        finals = s.scalars(
            select(OutboxItem.case_id).where(OutboxItem.idempotency_key.like(f"inc{one}:final:%"))
        ).all()
    assert sorted(finals) == sorted(ids)


def test_eval_incidents_cli_prints_the_figures() -> None:
    from click.testing import CliRunner

    from carebird.cli.main import cli
    from tests.support.shared import shared_data

    data = shared_data("free-mobile-tweets-fr/free_tweet_export.csv").parents[1]
    result = CliRunner().invoke(
        cli, ["eval", "incidents", "--data", str(data), "--messages", "3000", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert {"precision", "recall", "pair_precision", "pair_recall"} <= set(out["free_mobile"])
    assert out["simulator"]["simulated_messages"] == 3000
