"""Concurrent requests with one idempotency key queue one reply, on both engines.

A real server (uvicorn on loopback) and parallel clients: the requests really overlap, so the
unique key, not a read before the insert, decides which one queues the reply.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from carebird.cases.models import CaseEvent
from carebird.db.database import Database
from carebird.reply.models import OutboxItem
from tests.factories import agent_with_token, bearer, case_of, customer, ingest, item
from tests.integration.test_live_stream import serve

PARALLEL = 12


def send_together(base: str, path: str, token: str, body: dict[str, Any]) -> list[httpx.Response]:
    start = threading.Barrier(PARALLEL)
    responses: list[httpx.Response] = []
    limits = httpx.Limits(max_connections=PARALLEL)
    with httpx.Client(base_url=base, timeout=60, limits=limits) as client:
        # Used once: the token's "last used" is fresh, so the requests write nothing before
        # queueing (a first use would update the token's row and serialise them on its lock).
        assert client.get("/api/me", headers=bearer(token)).status_code == 200

        def post() -> None:
            start.wait()
            responses.append(client.post(path, json=body, headers=bearer(token)))

        threads = [threading.Thread(target=post) for _ in range(PARALLEL)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert len(responses) == PARALLEL
    return responses


def test_parallel_identical_replies_queue_one(app: FastAPI, db: Database) -> None:
    ingest(db, [item(customer(1), "help", external_id="race1")])
    case_id = case_of(db, "race1")
    _, token = agent_with_token(db, "agent")
    body = {"text": "On s'en occupe !", "idempotency_key": "race-key-0001"}
    with serve(app) as base:
        responses = send_together(base, f"/api/cases/{case_id}/replies", token, body)
    assert Counter(r.status_code for r in responses) == {202: PARALLEL}, [
        r.text for r in responses if r.status_code != 202
    ]
    assert len({r.json()["id"] for r in responses}) == 1
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 1
        queued = s.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind == "reply_queued")
        )
        assert queued == 1


def test_parallel_identical_threads_queue_each_part_once(app: FastAPI, db: Database) -> None:
    ingest(db, [item(customer(2), "help", external_id="race2")])
    case_id = case_of(db, "race2")
    _, token = agent_with_token(db, "agent")
    long = " ".join(f"Étape {n} : nous vérifions votre dossier avec soin." for n in range(12))
    body = {"text": long, "idempotency_key": "race-key-0002"}
    with serve(app) as base:
        responses = send_together(base, f"/api/cases/{case_id}/replies", token, body)
    assert {r.status_code for r in responses} == {202}, [r.text for r in responses]
    parts = {r.json()["parts"] for r in responses}
    assert len(parts) == 1 and parts.pop() > 1
    with db.session() as s:
        rows = s.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
        assert len(rows) == responses[0].json()["parts"]
        assert [r.follows_id for r in rows] == [None, *(r.id for r in rows[:-1])]
