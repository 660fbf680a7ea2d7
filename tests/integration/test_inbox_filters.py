"""The agent's inbox: each filter, full-text search, badges, waiting time and deadlines, on
both engines, through the query function and through `GET /api/inbox`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from carebird.auth.models import Team
from carebird.cases.inbox import InboxFilters, inbox
from carebird.cases.search import reindex_all
from carebird.cases.service import change_status, correct_category, update_case
from carebird.cases.sla import SlaPolicy, SlaSetup
from carebird.config import Settings
from carebird.db.database import Database
from carebird.errors import InvalidInput
from carebird.ingest.models import NetworkAccount
from carebird.web.app import create_app
from tests.factories import (
    BRAND,
    T0,
    TestClient,
    agent_with_token,
    bearer,
    case_of,
    customer,
    item,
)
from tests.integration.test_live_events import ingest_live

SLA = SlaSetup(SlaPolicy.parse("Mon-Sat 08:00-22:00", "Europe/Paris", first_response_minutes=60))


@dataclass
class Desk:
    me: int
    other: int
    team: int
    fr: int  # French complaint on x, mine, in the team, tagged
    en: int  # English on x, assigned to the other agent
    masto: int  # English on mastodon, unassigned, corrected to praise
    answered: int  # answered by the brand: nobody waits
    resolved: int


def build(db: Database) -> Desk:
    me, _ = agent_with_token(db, "agent", name="Marie Curie")
    other, _ = agent_with_token(db, "agent", name="Paul Langevin")
    ingest_live(
        db,
        [
            item(
                customer(1),
                "Mon colis n'est jamais arrivé, je veux un remboursement immédiat",
                external_id="fr",
            ),
            item(
                customer(2),
                "My parcel never arrived and the tracking page is broken",
                minutes=1,
                external_id="en",
            ),
            item(
                customer(4),
                "Where can I see my order? I would like to add a crème brûlée",
                minutes=3,
                external_id="ans",
            ),
            item(customer(5), "the app keeps crashing on login", minutes=4, external_id="res"),
        ],
    )
    ingest_live(
        db,
        [
            item(
                customer(3),
                "Thanks for the quick help with my refund yesterday",
                minutes=2,
                network="mastodon",
                external_id="ma",
            )
        ],
    )
    ingest_live(db, [item(BRAND, "on regarde", minutes=10, in_reply_to_id="ans")])
    ids = {k: case_of(db, k) for k in ("fr", "en", "ma", "ans", "res")}
    with db.session() as s, s.begin():
        team = Team(name="Livraison")
        s.add(team)
        s.flush()
        update_case(
            s,
            case_id=ids["fr"],
            changes={"assignee_id": me.id, "team_id": team.id, "tags_add": ["vip"]},
            actor_id=me.id,
        )
        update_case(s, case_id=ids["en"], changes={"assignee_id": other.id}, actor_id=me.id)
        correct_category(s, case_id=ids["ma"], category="praise", actor_id=me.id)
        change_status(s, case_id=ids["res"], status="resolved", actor_id=me.id)
        team_id = team.id
    return Desk(me.id, other.id, team_id, ids["fr"], ids["en"], ids["ma"], ids["ans"], ids["res"])


def found(db: Database, desk: Desk, **filters: object) -> set[int]:
    with db.session() as s:
        page = inbox(s, filters=InboxFilters(**filters), agent_id=desk.me, limit=200)  # type: ignore[arg-type]
    assert page.total == len(page.items)
    return {r.id for r in page.items}


def test_each_filter(db: Database) -> None:
    d = build(db)
    active = {d.fr, d.en, d.masto, d.answered}
    assert found(db, d) == active  # the resolved case is out of the inbox by default
    assert found(db, d, status=["resolved"]) == {d.resolved}
    assert found(db, d, status=["new", "open", "resolved"]) == active | {d.resolved}
    assert found(db, d, mine=True) == {d.fr}
    assert found(db, d, unassigned=True) == {d.masto, d.answered}
    assert found(db, d, assignee_id=d.other) == {d.en}
    assert found(db, d, team_id=d.team) == {d.fr}
    assert found(db, d, category=["praise"]) == {d.masto}
    assert found(db, d, language="fr") == {d.fr}
    assert found(db, d, language="EN") == {d.en, d.masto, d.answered}
    assert found(db, d, network="mastodon") == {d.masto}
    with db.session() as s:
        masto_account = s.scalar(
            select(NetworkAccount.id).where(NetworkAccount.network == "mastodon")
        )
    assert found(db, d, account_id=masto_account) == {d.masto}
    assert found(db, d, tag=" VIP ") == {d.fr}
    assert found(db, d, network="x", unassigned=True) == {d.answered}
    with db.session() as s, pytest.raises(InvalidInput):
        inbox(s, filters=InboxFilters(mine=True, unassigned=True), agent_id=d.me)


def test_search_over_the_messages(db: Database) -> None:
    d = build(db)
    assert found(db, d, search="remboursement") == {d.fr}
    assert found(db, d, search="REMBOURS") == {d.fr}  # a word prefix, any case
    assert found(db, d, search="arrive") == {d.fr, d.en}  # arrivé and arrived
    assert found(db, d, search="creme brulee") == {d.answered}  # accents folded
    assert found(db, d, search="parcel broken") == {d.en}  # every word must match
    assert found(db, d, search="parcel refund") == set()
    assert found(db, d, search="on regarde") == {d.answered}  # our reply is searchable too
    assert found(db, d, search="customer3") == {d.masto}  # the customer's handle
    assert found(db, d, search="crashing", status=["resolved"]) == {d.resolved}
    assert found(db, d, search="refund", network="mastodon") == {d.masto}
    assert found(db, d, search="zzzz") == set()
    assert found(db, d, search="parc") == {d.en}
    assert found(db, d, search="pa") == set()  # two letters: a whole word, not a prefix
    with db.session() as s, s.begin():  # an upgraded desk rebuilds the index once
        s.execute(text("DELETE FROM case_search"))
        assert reindex_all(s, batch=2) == 5
    assert found(db, d, search="remboursement") == {d.fr}
    assert found(db, d, language="fr") == {d.fr}
    assert found(db, d, search="%_") == set()  # no word: a literal substring of the subject


def test_rows_carry_badges_waiting_time_and_deadline(db: Database) -> None:
    d = build(db)
    now = T0 + timedelta(minutes=30)  # Monday 2 March, 10:30 in Paris
    with db.session() as s:
        page = inbox(s, agent_id=d.me, sla=SLA, now=now, limit=200)
    rows = {r.id: r for r in page.items}
    fr = rows[d.fr]
    assert (fr.language, fr.network, fr.account_handle, fr.tags) == (
        "fr",
        "x",
        "Brand_SAV",
        ["vip"],
    )
    assert fr.category == "complaint" and fr.assignee_id == d.me
    assert fr.waiting_since == T0 and fr.waiting_seconds == 30 * 60
    assert fr.due_at == T0 + timedelta(hours=1) and not fr.breached
    assert rows[d.masto].category == "praise" and rows[d.masto].network == "mastodon"
    answered = rows[d.answered]
    assert answered.waiting_since is None and answered.due_at is None
    late = T0 + timedelta(hours=2)
    with db.session() as s:
        again = {r.id: r for r in inbox(s, agent_id=d.me, sla=SLA, now=late).items}
    assert again[d.fr].breached and again[d.en].breached
    with db.session() as s:
        resolved = inbox(s, filters=InboxFilters(status=["resolved"]), sla=SLA, now=late).items
    assert resolved[0].due_at is None and resolved[0].waiting_seconds is None


def test_priority_order_and_cursor_pages(db: Database) -> None:
    d = build(db)
    with db.session() as s:
        first = inbox(s, agent_id=d.me, limit=2)
        second = inbox(s, agent_id=d.me, limit=2, cursor=first.next)
    rows = first.items + second.items
    assert first.total == 4 and second.next is None
    assert [r.priority for r in rows] == sorted((r.priority for r in rows), reverse=True)
    assert {r.id for r in rows} == {d.fr, d.en, d.masto, d.answered}
    with db.session() as s:
        capped = inbox(s, agent_id=d.me, limit=2, count_cap=3)
        exact = inbox(s, agent_id=d.me, limit=2, count_cap=4)
    assert (capped.total, capped.total_capped, len(capped.items)) == (3, True, 2)
    assert (exact.total, exact.total_capped) == (4, False)


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    app: FastAPI = create_app(settings, db=db)
    with TestClient(app) as c:
        yield c


def test_inbox_api(client: TestClient, db: Database) -> None:
    d = build(db)
    _, token = agent_with_token(db, "viewer")
    h = bearer(token)
    page = client.get("/api/inbox", headers=h).json()
    assert page["total"] == 4 and len(page["items"]) == 4 and page["total_capped"] is False
    row = next(r for r in page["items"] if r["id"] == d.fr)
    assert row["language"] == "fr" and row["account_handle"] == "Brand_SAV"
    assert row["due_at"] is not None and row["breached"] is True  # T0 is long past
    assert row["waiting_seconds"] > 0 and row["priority_text"]
    assert "opening_message_id" not in row
    assert [r["id"] for r in client.get("/api/inbox?q=colis", headers=h).json()["items"]] == [d.fr]
    both = client.get("/api/inbox?category=praise,complaint&network=x", headers=h).json()
    assert {r["id"] for r in both["items"]} == {d.fr, d.en}  # both complaints on x
    assert client.get("/api/inbox?status=resolved", headers=h).json()["total"] == 1
    assert client.get("/api/inbox?sort=bogus", headers=h).status_code == 422
    # "mine" is the asking agent's: a viewer has none.
    assert client.get("/api/inbox?mine=true", headers=h).json()["total"] == 0
    two = client.get("/api/inbox", params={"limit": 2}, headers=h).json()
    rest = client.get("/api/inbox", params={"limit": 2, "cursor": two["next"]}, headers=h).json()
    assert len({r["id"] for r in two["items"] + rest["items"]}) == 4


def test_a_later_message_in_a_case_is_searchable(client: TestClient, db: Database) -> None:
    from tests.factories import agent_with_token, bearer, case_of, customer, ingest, item

    first = item(customer(901), "my order is late", external_id="s-1")
    ingest(db, [first])
    ingest(
        db,
        [
            item(
                customer(901),
                "still waiting, zeppelin tracking",
                minutes=5,
                in_reply_to_id="s-1",
                external_id="s-2",
            )
        ],
    )
    _, token = agent_with_token(db, "viewer")
    found = client.get("/api/inbox?q=zeppelin", headers=bearer(token)).json()
    assert [row["id"] for row in found["items"]] == [case_of(db, "s-1")]
    assert client.get("/api/inbox?q=zeppelins", headers=bearer(token)).json()["items"] == []


def test_the_inbox_deadline_follows_the_sla_policy_covering_each_case(
    settings: Settings, db: Database
) -> None:
    """`[[sla.policies]]`: French cases within 15 minutes, the rest within the default hour."""
    d = build(db)
    sla = {"policies": [{"name": "French", "when": {"language": "fr"},
                         "first_response_minutes": 15}]}  # fmt: skip
    update = {"sla": sla, "opening_hours": "Mon-Sun 00:00-24:00", "timezone": "UTC"}
    _, token = agent_with_token(db, "viewer")
    with TestClient(create_app(settings.model_copy(update=update), db=db)) as client:
        rows = {r["id"]: r for r in client.get("/api/inbox", headers=bearer(token)).json()["items"]}
    due = {k: datetime.fromisoformat(rows[getattr(d, k)]["due_at"]) for k in ("fr", "en")}
    assert due["fr"] == T0 + timedelta(minutes=15)  # its policy
    assert due["en"] == T0 + timedelta(minutes=1, hours=1)  # the default, from its message
