"""Bulk actions: each case logged like a single change, failures reported per case, events
published once; through the service and `POST /api/cases/bulk`, on both engines."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from carebird.auth.models import Team
from carebird.cases.models import Case, CaseEvent
from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.cases.service import case_tags, change_status
from carebird.config import Settings
from carebird.db.database import Database
from carebird.errors import InvalidInput
from carebird.flows import casework
from carebird.live.events import events_after, latest_event_id
from carebird.understand.models_db import Label
from carebird.web.app import create_app
from tests.factories import TestClient, agent_with_token, bearer, case_of, customer, ingest, item

# The flow, as the API calls it: the service, then the live events.
bulk_apply = functools.partial(casework.bulk_apply, weights=DEFAULT_WEIGHTS)


def three_cases(db: Database) -> list[int]:
    ingest(
        db,
        [
            item(customer(n), f"problème numéro {n}", minutes=n, external_id=f"b{n}")
            for n in (1, 2, 3)
        ],
    )
    return [case_of(db, f"b{n}") for n in (1, 2, 3)]


def kinds(db: Database, case_id: int) -> list[str]:
    with db.session() as s:
        stmt = select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        return list(s.scalars(stmt))


def test_resolve_with_a_partial_failure(db: Database) -> None:
    ids = three_cases(db)
    agent, _ = agent_with_token(db)
    with db.session() as s, s.begin():
        change_status(s, case_id=ids[2], status="closed", actor_id=agent.id)
        start = latest_event_id(s)
    with db.session() as s, s.begin():
        out = bulk_apply(
            s,
            case_ids=[ids[0], ids[1], ids[2], 999_999, ids[0]],
            action="resolve",
            actor_id=agent.id,
        )
    assert [(o.case_id, o.ok, o.error) for o in out] == [
        (ids[0], True, None),
        (ids[1], True, None),
        (ids[2], False, "InvalidTransition"),  # a closed case cannot be resolved
        (999_999, False, "NotFound"),
    ]
    with db.session() as s:
        statuses = dict(s.execute(select(Case.id, Case.status).where(Case.id.in_(ids))).all())
        published = events_after(s, start)
    assert statuses == {ids[0]: "resolved", ids[1]: "resolved", ids[2]: "closed"}
    assert kinds(db, ids[0])[-1] == "status" and kinds(db, ids[2])[-1] == "status"
    assert [(e.kind, e.case_id) for e in published] == [
        ("case.updated", ids[0]),
        ("case.updated", ids[1]),
    ]
    assert published[0].payload["status"] == "resolved"
    with db.session() as s, s.begin():  # already resolved: fine, nothing changes
        again = bulk_apply(s, case_ids=[ids[0]], action="resolve", actor_id=agent.id)
    assert (again[0].ok, again[0].changed) == (True, False)


def test_assign_tag_and_not_a_support_request(db: Database) -> None:
    ids = three_cases(db)
    agent, _ = agent_with_token(db)
    with db.session() as s, s.begin():
        team = Team(name="Paiements")
        s.add(team)
        s.flush()
        team_id = team.id
    with db.session() as s, s.begin():
        assigned = bulk_apply(
            s,
            case_ids=ids[:2],
            action="assign",
            actor_id=agent.id,
            assignee_id=agent.id,
            team_id=team_id,
            fields=frozenset({"assignee_id", "team_id"}),
        )
        tagged = bulk_apply(
            s,
            case_ids=ids,
            action="tag",
            actor_id=agent.id,
            tags_add=["Panne "],
        )
        noise = bulk_apply(s, case_ids=[ids[2]], action="not_support", actor_id=agent.id)
    assert all(o.ok and o.changed for o in assigned + tagged + noise)
    with db.session() as s:
        cases = {c.id: c for c in s.scalars(select(Case).where(Case.id.in_(ids)))}
        assert [(cases[i].assignee_id, cases[i].team_id) for i in ids] == [
            (agent.id, team_id),
            (agent.id, team_id),
            (None, None),
        ]
        assert all(case_tags(s, i) == ["panne"] for i in ids)
        assert cases[ids[2]].category == "other" and cases[ids[2]].category_source == "agent"
        labels = s.scalars(select(Label.label).where(Label.task == "category")).all()
        assert labels == ["other"]  # kept for retraining
    assert {"assigned", "team", "tag_added"} <= set(kinds(db, ids[0]))
    assert "category" in kinds(db, ids[2])
    with db.session() as s, s.begin():  # unassign: an explicit null
        cleared = bulk_apply(
            s,
            case_ids=[ids[0]],
            action="assign",
            actor_id=agent.id,
            assignee_id=None,
            fields=frozenset({"assignee_id"}),
        )
        assert cleared[0].changed and s.get(Case, ids[0]).assignee_id is None  # type: ignore[union-attr]
        assert s.get(Case, ids[0]).team_id == team_id  # type: ignore[union-attr]
        bad_agent = bulk_apply(
            s,
            case_ids=[ids[1]],
            action="assign",
            actor_id=agent.id,
            assignee_id=424242,
            fields=frozenset({"assignee_id"}),
        )
        assert (bad_agent[0].ok, bad_agent[0].error) == (False, "InvalidInput")
        for bad in (
            {"action": "explode"},
            {"action": "assign"},
            {"action": "tag"},
        ):
            with pytest.raises(InvalidInput):
                bulk_apply(s, case_ids=ids, actor_id=agent.id, **bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            bulk_apply(s, case_ids=[], action="resolve", actor_id=agent.id)


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    app: FastAPI = create_app(settings, db=db)
    with TestClient(app) as c:
        yield c


def test_bulk_api(client: TestClient, db: Database) -> None:
    ids = three_cases(db)
    agent, token = agent_with_token(db)
    body = {"case_ids": [*ids, 888_888], "action": "assign", "assignee_id": agent.id}
    done = client.post("/api/cases/bulk", json=body, headers=bearer(token))
    assert done.status_code == 200, done.text
    result = done.json()
    assert (result["succeeded"], result["failed"]) == (3, 1)
    assert result["results"][-1] == {
        "case_id": 888_888,
        "ok": False,
        "changed": False,
        "error": "NotFound",
        "detail": "case 888888 not found",
    }
    with db.session() as s:
        assert {c.assignee_id for c in s.scalars(select(Case).where(Case.id.in_(ids)))} == {
            agent.id
        }
    tag = client.post(
        "/api/cases/bulk",
        json={"case_ids": ids, "action": "tag", "tags_add": ["x" * 65]},
        headers=bearer(token),
    )
    assert tag.json()["failed"] == 3 and tag.json()["results"][0]["error"] == "InvalidInput"
    assert (
        client.post(
            "/api/cases/bulk", json={"case_ids": [], "action": "resolve"}, headers=bearer(token)
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/cases/bulk",
            json={"case_ids": ids, "action": "resolve", "color": "red"},
            headers=bearer(token),
        ).status_code
        == 422
    )
    _, viewer = agent_with_token(db, "viewer")
    refused = client.post(
        "/api/cases/bulk", json={"case_ids": ids, "action": "resolve"}, headers=bearer(viewer)
    )
    assert refused.status_code == 403
