"""Suggestions on a desk, on SQLite and PostgreSQL: past replies, templates and articles ranked
for a case with their reasons and variables; the agent's choice and edits recorded and counted;
templates proposed from answers typed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from carebird.cases.models import Case
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.insights.wait_store import WaitRow
from carebird.reply.proposals import propose_templates
from carebird.reply.suggestions import SuggestionUse
from carebird.reply.templates import create_template
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
)

REFUND = "Bonjour, nous avons bien lancé votre remboursement, il arrive sous 5 jours ouvrés."
TRACK = "Hello, you can track your parcel from your account page under Orders."


def _minutes_ago(*, days: float) -> float:
    """`item(minutes=…)` for a time `days` before now (items count from T0)."""
    return (datetime.now(UTC) - timedelta(days=days) - T0).total_seconds() / 60


def _history(db: Database, *, start: int, minutes: float) -> None:
    """Customers asking about refunds and parcels, each answered by hand (typed in the app)."""
    items = []
    for n in range(4):
        who = customer(start + n)
        q, a = f"q{start + n}", f"a{start + n}"
        items.append(
            item(
                who,
                f"Où est mon remboursement numéro {n} ? toujours rien",
                minutes=minutes + n,
                external_id=q,
            )
        )
        items.append(
            item(
                BRAND,
                f"@{who.handle} {REFUND} ^AL",
                minutes=minutes + n + 0.5,
                in_reply_to_id=q,
                external_id=a,
            )
        )
    who = customer(start + 9)
    items.append(
        item(
            who,
            "Where is my parcel? tracking says nothing",
            minutes=minutes,
            external_id=f"q{start + 9}",
        )
    )
    items.append(
        item(
            BRAND,
            f"@{who.handle} {TRACK}",
            minutes=minutes + 1,
            in_reply_to_id=f"q{start + 9}",
            external_id=f"a{start + 9}",
        )
    )
    ingest(db, items)


def test_past_replies_templates_and_articles_are_suggested(
    client: TestClient, db: Database
) -> None:
    now_minutes = _minutes_ago(days=1)
    _history(db, start=100, minutes=now_minutes)
    with db.session() as s, s.begin():
        create_template(
            s,
            name="Remboursement et délai",
            language="fr",
            body=(
                "Bonjour {customer_name}, dossier {case_number} : "
                "remboursement sous {expected_wait}."
            ),
            tags=["remboursement"],
        )
    boss = bearer(agent_with_token(db, "supervisor")[1])
    article = {
        "title": "Suivre son remboursement",
        "language": "fr",
        "public": True,
        "summary": "Le remboursement se suit depuis votre espace client.",
        "body": "Rendez-vous dans **Mon compte**.",
    }
    assert client.post("/api/articles", json=article, headers=boss).status_code == 201
    ingest(
        db,
        [
            item(
                customer(200),
                "toujours pas de remboursement, c'est long",
                minutes=now_minutes + 60,
                external_id="new1",
            )
        ],
    )
    case_id = case_of(db, "new1")
    with db.session() as s, s.begin():  # the job's live estimate for the case's account: 45 min
        account_id = s.get(Case, case_id).account_id
        s.add(WaitRow(account_id=account_id, computed_at=utcnow(), seconds=2700.0,
                      open_seconds=2700.0, basis="recent", sample=5, backlog=0))  # fmt: skip
    agent_row, token = agent_with_token(db, "agent", name="Ana Lefèvre")
    agent = bearer(token)

    got = client.get(f"/api/cases/{case_id}/suggestions", headers=agent)
    assert got.status_code == 200, got.text
    found = got.json()
    assert len(found) == 3 and [s["rank"] for s in found] == [1, 2, 3]
    kinds = {s["kind"]: s for s in found}
    assert set(kinds) == {"reply", "template", "article"}, found
    reply = kinds["reply"]
    assert reply["text"] == REFUND  # the other customer's @handle and the signature are gone
    assert reply["reason"] == "utilisée 4 fois pour des messages semblables ce mois-ci"
    template = kinds["template"]
    assert template["text"].startswith(
        f"Bonjour Customer 200, dossier {case_id} : remboursement sous 45 min"
    )
    assert "{" not in template["text"]  # the expected wait is filled by the desk's estimate
    offer = kinds["article"]["article"]
    assert offer["url"].endswith("/help/Brand_SAV/suivre-son-remboursement")
    assert offer["link_text"].endswith(offer["url"]) and offer["card_text"] == article["summary"]
    assert offer["link_cost"] == 0.2 and offer["card_cost"] == 0.015  # X prices a URL higher

    use = client.post(
        f"/api/cases/{case_id}/suggestions/uses",
        json={
            "kind": "template",
            "ref": template["ref"],
            "rank": template["rank"],
            "text": template["text"],
        },
        headers=agent,
    )
    assert use.status_code == 201, use.text
    sent = client.put(
        f"/api/suggestion-uses/{use.json()['id']}/sent",
        json={"text": template["text"] + " Merci !"},
        headers=agent,
    )
    assert sent.status_code == 200 and 0.8 < sent.json()["kept"] < 1.0
    other = bearer(agent_with_token(db, "agent")[1])
    stolen = client.put(
        f"/api/suggestion-uses/{use.json()['id']}/sent", json={"text": "x"}, headers=other
    )
    assert stolen.status_code == 404  # one's own choices only
    bad = client.post(
        f"/api/cases/{case_id}/suggestions/uses",
        json={"kind": "poem", "ref": "1", "text": "x"},
        headers=agent,
    )
    assert bad.status_code == 422
    for kind, ref, status in (("template", "x", 422), ("template", "9" * 25, 422),
                              ("template", "²", 422), ("article", "999999", 404)):  # fmt: skip
        wrong = client.post(
            f"/api/cases/{case_id}/suggestions/uses",
            json={"kind": kind, "ref": ref, "text": "x"},
            headers=agent,
        )
        assert wrong.status_code == status, (kind, ref)  # stored, it would break the ranking
    assert client.get(f"/api/cases/{case_id}/suggestions", headers=agent).status_code == 200
    with db.session() as s:
        row = s.scalars(select(SuggestionUse)).one()
        assert (row.agent_id, row.kind, row.case_id) == (agent_row.id, "template", case_id)
        assert row.message_text == "toujours pas de remboursement, c'est long"

    # The choice feeds the ranking: the template now counts this use for similar messages.
    ingest(
        db,
        [
            item(
                customer(201),
                "remboursement toujours pas reçu, c'est long",
                minutes=now_minutes + 90,
                external_id="new2",
            )
        ],
    )
    again = client.get(f"/api/cases/{case_of(db, 'new2')}/suggestions", headers=agent).json()
    chosen = next(s for s in again if s["kind"] == "template")
    before = next(s for s in found if s["kind"] == "template")
    assert chosen["score"] > before["score"]
    assert client.get("/api/cases/999999/suggestions", headers=agent).status_code == 404


def test_templates_are_proposed_from_answers_typed_by_hand(
    client: TestClient, db: Database
) -> None:
    now_minutes = _minutes_ago(days=1)
    _history(db, start=300, minutes=now_minutes)
    boss = bearer(agent_with_token(db, "supervisor")[1])
    proposals = client.get("/api/suggestions/proposals", headers=boss).json()
    assert len(proposals) == 1  # the parcel answer was typed once only
    proposal = proposals[0]
    assert proposal["count"] == 4 and proposal["body"] == REFUND and proposal["language"] == "fr"
    assert len(proposal["members"]) == 4
    agent = bearer(agent_with_token(db, "agent")[1])
    assert client.get("/api/suggestions/proposals", headers=agent).status_code == 403
    body = {"name": "Remboursement lancé", "language": "fr", "body": proposal["body"]}
    assert client.post("/api/templates", json=body, headers=boss).status_code == 201
    assert client.get("/api/suggestions/proposals", headers=boss).json() == []  # said already
    with db.session() as s:  # answers older than a week are not proposed
        assert propose_templates(s, now=utcnow() + timedelta(days=9)) == []


def test_survey_messages_are_never_suggested_nor_proposed(db: Database) -> None:
    """A sent survey carries one customer's single-use link: it must never reach another
    customer through the suggestions or the proposed templates."""
    from sqlalchemy import update

    from carebird.ingest.models import Message
    from carebird.reply.suggestions import answered_pairs

    _history(db, start=300, minutes=_minutes_ago(days=1))
    with db.session() as s, s.begin():
        s.execute(
            update(Message)
            .where(Message.external_id.in_([f"a{300 + n}" for n in range(4)]))
            .values(kind="survey", text="Votre avis ? https://desk.example/survey/SECRET-TOKEN")
        )
    with db.session() as s:
        pairs = answered_pairs(s)
        assert pairs and not any("SECRET" in p.answer for p in pairs)
        assert any(TRACK in p.answer for p in pairs)  # the real answer is still there
        proposals = propose_templates(s, min_count=1)
        assert not any("SECRET" in str(p) for p in proposals)
