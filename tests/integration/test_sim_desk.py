"""The simulated desk end to end: traffic in, a reply through the API out, the customer answers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from carebird.cases.models import Case
from carebird.config import Settings
from carebird.db.database import Database
from carebird.flows.intake import drain
from carebird.flows.replies import send_pending
from carebird.ingest.models import Message
from carebird.ingest.sim.network import SimulatedNetwork
from carebird.jobs.runner import register_accounts
from carebird.web.app import create_app
from tests.factories import TestClient, agent_with_token, bearer, intake_for

WINDOW = timedelta(days=7)


def test_reply_through_the_api_gets_a_simulated_answer(db: Database, settings: Settings) -> None:
    sim = SimulatedNetwork(seed=11, limit_total=300)
    register_accounts(db, sim)
    first = drain(db, sim, intake=intake_for())
    assert first.stored >= 300 and first.new_cases
    with db.session() as s:
        public_cases = s.scalars(
            select(Message.case_id)
            .where(Message.direction == "in", Message.kind == "mention")
            .group_by(Message.case_id)
            .order_by(Message.case_id)
            .limit(12)
        ).all()
        cases_before = s.scalar(select(func.count()).select_from(Case))
    _, token = agent_with_token(db, role="agent")
    with TestClient(create_app(settings, db=db)) as client:
        for case_id in public_cases:
            r = client.post(
                f"/api/cases/{case_id}/replies",
                headers=bearer(token),
                json={
                    "text": "Bonjour, nous regardons cela. ^AB",
                    "idempotency_key": f"reply-key-{case_id}",
                },
            )
            assert r.status_code == 202, r.text
            again = client.post(
                f"/api/cases/{case_id}/replies",
                headers=bearer(token),
                json={
                    "text": "Bonjour, nous regardons cela. ^AB",
                    "idempotency_key": f"reply-key-{case_id}",
                },
            )
            assert again.json()["id"] == r.json()["id"]  # the same key queues one reply
    assert send_pending(db, {"sim": sim}, intake=intake_for()) == len(public_cases)
    assert send_pending(db, {"sim": sim}, intake=intake_for()) == 0  # sent at most once

    second = drain(db, sim, intake=intake_for())
    assert second.duplicates >= len(public_cases)  # our echoes came back and were ignored
    with db.session() as s:
        ours = s.execute(
            select(Message.case_id, Message.external_id).where(Message.direction == "out")
        ).all()
        assert {c for c, _ in ours} == set(public_cases)  # one reply per case, in its case
        answers = s.execute(
            select(Message.case_id, Message.in_reply_to_id).where(
                Message.direction == "in", Message.in_reply_to_id.in_([e for _, e in ours])
            )
        ).all()
        assert s.scalar(select(func.count()).select_from(Case)) == cases_before + len(
            {c for c in second.new_cases}
        )
    by_reply = {e: c for c, e in ours}
    assert answers, "no simulated customer answered"
    for case_id, replied_to in answers:
        assert by_reply[replied_to] == case_id  # each answer joined the case it answers
