"""Presence on a case (heartbeats, expiry, events) and the collision rule, on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from carebird.cases.presence import PRESENCE_TTL, who_is_here
from carebird.config import Settings
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.errors import InvalidInput, NotFound
from carebird.flows.presence import expire_presence, heartbeat, leave
from carebird.ingest.models import Message
from carebird.live.events import events_after, latest_event_id
from carebird.reply.collision import StaleComposer, check_reply_allowed, latest_message_id
from carebird.reply.models import OutboxItem
from carebird.reply.outbox import queue_reply
from carebird.web.app import create_app
from tests.factories import BRAND, TestClient, agent_with_token, bearer, case_of, customer, item
from tests.integration.test_live_events import ingest_live


def one_case(db: Database, ext: str = "p1", who: int = 1) -> int:
    ingest_live(db, [item(customer(who), "ma commande est bloquée", external_id=ext)])
    return case_of(db, ext)


def presence_events(db: Database, after: int) -> list[list[tuple[int, str]]]:
    with db.session() as s:
        found = [e for e in events_after(s, after) if e.kind == "presence"]
    return [[(a["agent_id"], a["state"]) for a in e.payload["agents"]] for e in found]


def test_presence_lists_others_publishes_changes_and_expires(db: Database) -> None:
    case_id = one_case(db)
    marie, _ = agent_with_token(db, "agent", name="Marie Curie")
    paul, _ = agent_with_token(db, "agent", name="Paul Langevin")
    with db.session() as s:
        start = latest_event_id(s)
    t = utcnow()
    with db.session() as s, s.begin():
        assert heartbeat(s, case_id=case_id, agent_id=marie.id, state="viewing", now=t) == []
    with db.session() as s, s.begin():
        others = heartbeat(s, case_id=case_id, agent_id=paul.id, state="typing", now=t)
    assert [(o.name, o.state) for o in others] == [("Marie Curie", "viewing")]
    with db.session() as s, s.begin():  # the same again: nothing new to tell
        heartbeat(s, case_id=case_id, agent_id=marie.id, state="viewing", now=t)
        here = who_is_here(s, case_id=case_id, exclude_agent_id=marie.id, now=t)
    assert [(h.agent_id, h.state) for h in here] == [(paul.id, "typing")]
    assert presence_events(db, start) == [
        [(marie.id, "viewing")],
        [(paul.id, "typing"), (marie.id, "viewing")],  # typing first
    ]
    # Paul's page stops sending heartbeats: gone after the TTL, and the pages are told.
    later = t + PRESENCE_TTL + timedelta(seconds=1)
    with db.session() as s:
        assert who_is_here(s, case_id=case_id, now=later) == []  # expired for readers at once
        mark = latest_event_id(s)
    with db.session() as s, s.begin():
        heartbeat(s, case_id=case_id, agent_id=marie.id, state="viewing", now=later)
    assert presence_events(db, mark) == [[(marie.id, "viewing")]]
    with db.session() as s, s.begin():
        leave(s, case_id=case_id, agent_id=marie.id)
        assert who_is_here(s, case_id=case_id, now=later) == []
    with db.session() as s, s.begin():
        mark = latest_event_id(s)
        heartbeat(s, case_id=case_id, agent_id=paul.id, state="viewing", now=later)
        gone = expire_presence(s, now=later + PRESENCE_TTL + timedelta(seconds=1))
    assert gone == {case_id}
    assert presence_events(db, mark) == [[(paul.id, "viewing")], []]
    with db.session() as s, pytest.raises(InvalidInput):
        heartbeat(s, case_id=case_id, agent_id=paul.id, state="dancing")
    with db.session() as s, pytest.raises(NotFound):
        heartbeat(s, case_id=999_999, agent_id=paul.id, state="viewing")


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    app: FastAPI = create_app(settings, db=db)
    with TestClient(app) as c:
        yield c


def test_presence_api_and_roles(client: TestClient, db: Database) -> None:
    case_id = one_case(db)
    viewer, viewer_token = agent_with_token(db, "viewer")
    agent, agent_token = agent_with_token(db, "agent", name="Ada Lovelace")
    url = f"/api/cases/{case_id}/presence"
    seen = client.post(url, json={"state": "viewing"}, headers=bearer(viewer_token))
    assert seen.status_code == 200 and seen.json() == {"case_id": case_id, "agents": []}
    typing = client.post(url, json={"state": "typing"}, headers=bearer(viewer_token))
    assert typing.status_code == 403  # a viewer may look, not compose
    typed = client.post(url, json={"state": "typing"}, headers=bearer(agent_token)).json()
    assert [a["agent_id"] for a in typed["agents"]] == [viewer.id]
    listed = client.get(url, headers=bearer(viewer_token)).json()["agents"]
    assert [(a["name"], a["state"], a["initials"]) for a in listed] == [
        ("Ada Lovelace", "typing", "AL")
    ]
    left = client.post(url, json={"state": "left"}, headers=bearer(agent_token))
    assert left.status_code == 200
    assert client.get(url, headers=bearer(viewer_token)).json()["agents"] == []
    assert client.post(url, json={"state": "x"}, headers=bearer(agent_token)).status_code == 422
    missing = client.post(
        "/api/cases/999999/presence", json={"state": "viewing"}, headers=bearer(agent_token)
    )
    assert missing.status_code == 404
    assert agent.id != viewer.id


def test_collision_refuses_until_the_agent_has_seen_the_other_reply(db: Database) -> None:
    case_id = one_case(db, "c1")
    marie, _ = agent_with_token(db, "agent", name="Marie Curie")
    paul, _ = agent_with_token(db, "agent", name="Paul Langevin")
    with db.session() as s:
        seen = latest_message_id(s, case_id)
        assert seen is not None
        check_reply_allowed(s, case_id=case_id, agent_id=marie.id, seen_message_id=seen)
    # Paul replies while Marie's composer is open: queued, not posted yet.
    with db.session() as s, s.begin():
        queue_reply(s, case_id=case_id, text="On s'en occupe", agent_id=paul.id)
    with db.session() as s, pytest.raises(StaleComposer) as refused:
        check_reply_allowed(s, case_id=case_id, agent_id=marie.id, seen_message_id=seen)
    assert refused.value.status_code == 409 and "Paul Langevin" in str(refused.value)
    assert [(r.agent_id, r.message_id is None) for r in refused.value.replies] == [(paul.id, True)]
    with db.session() as s:  # Paul's own composer is not blocked by his own reply
        check_reply_allowed(s, case_id=case_id, agent_id=paul.id, seen_message_id=seen)
    # The reply is posted (as the outbox does once the network took it).
    with db.session() as s, s.begin():
        out = s.scalars(select(OutboxItem)).one()
        out.status, out.external_id = "sent", "posted-1"
    ingest_live(
        db, [item(BRAND, "On s'en occupe", minutes=5, in_reply_to_id="c1", external_id="posted-1")]
    )
    with db.session() as s, pytest.raises(StaleComposer) as again:
        check_reply_allowed(s, case_id=case_id, agent_id=marie.id, seen_message_id=seen)
    posted = again.value.replies
    assert [(r.agent_id, r.agent_name) for r in posted] == [(paul.id, "Paul Langevin")]
    assert again.value.latest_message_id == posted[0].message_id
    # Marie re-reads the case: her composer now has the newest message, and she may send.
    with db.session() as s:
        check_reply_allowed(
            s, case_id=case_id, agent_id=marie.id, seen_message_id=again.value.latest_message_id
        )
        check_reply_allowed(s, case_id=case_id, agent_id=marie.id, seen_message_id=None)


def test_a_reply_from_the_brands_own_app_also_blocks(db: Database) -> None:
    case_id = one_case(db, "b1")
    marie, _ = agent_with_token(db, "agent")
    with db.session() as s:
        seen = latest_message_id(s, case_id)
        assert seen is not None
    ingest_live(db, [item(BRAND, "Typed in the app", minutes=2, in_reply_to_id="b1")])
    with db.session() as s, pytest.raises(StaleComposer) as refused:
        check_reply_allowed(s, case_id=case_id, agent_id=marie.id, seen_message_id=seen)
    assert refused.value.replies[0].agent_id is None
    assert "the brand's app" in str(refused.value)
    # A customer's new message is not a reply: it does not block.
    ingest_live(db, [item(customer(1), "merci", minutes=3, external_id="b2")])
    newest = case_of(db, "b2")
    assert newest == case_id
    with db.session() as s:
        latest = s.scalar(select(Message.id).where(Message.external_id == "b2"))
        check_reply_allowed(s, case_id=case_id, agent_id=marie.id, seen_message_id=latest)
        other_case = one_case(db, "zz", who=7)
        with pytest.raises(NotFound):
            check_reply_allowed(s, case_id=other_case, agent_id=marie.id, seen_message_id=latest)
