"""Forwarding a case to an outside owner end to end, with a real SMTP server on loopback.

The desk e-mails the link through smtplib to aiosmtpd; the test opens the link from a client
that never signed in to the desk, answers, and checks what the desk recorded (both engines).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from carebird.cases.forwarding import Forward, LinkRefused, create_owner, live_forward
from carebird.cases.models import Case, CaseEvent
from carebird.cases.notes import CaseNote
from carebird.config import Settings
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.flows.forwarding import answer_forward, forward_case
from carebird.live.events import events_after
from carebird.mail import Mailer
from carebird.reply.models import OutboxItem
from carebird.web.app import create_app
from tests.factories import (
    TestClient,
    agent_with_token,
    bearer,
    case_of,
    customer,
    ingest,
    item,
    private,
)
from tests.support.smtp import SmtpCatcher

PUBLIC_TEXT = "Mon colis n'arrive pas, commande 98765432, appelez-moi au 06 12 34 56 78"
PRIVATE_TEXT = "Mon adresse : 12 rue des Lilas, mon e-mail jeanne@example.org"


@pytest.fixture
def smtp() -> Iterator[SmtpCatcher]:
    with SmtpCatcher() as catcher:
        yield catcher


@pytest.fixture
def app(settings: Settings, db: Database, smtp: SmtpCatcher) -> FastAPI:
    mail = {"smtp_port": smtp.port, "public_url": "http://testserver", "mail_from": "desk@sav.test"}
    return create_app(settings.model_copy(update=mail), db=db)


@pytest.fixture
def desk(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def stranger(app: FastAPI) -> Iterator[TestClient]:
    """A browser that has never signed in to the desk: the outside owner's."""
    with TestClient(app) as c:
        yield c


def french_case(db: Database) -> int:
    ingest(
        db,
        [
            item(customer(1), PUBLIC_TEXT, external_id="f1"),
            private(customer(1), PRIVATE_TEXT, minutes=2, external_id="f2"),
            item(customer(1), "<script>alert(1)</script> toujours rien", minutes=3),
        ],
    )
    return case_of(db, "f1")


def make_owner(desk: TestClient, db: Database, **extra: Any) -> int:
    _, boss = agent_with_token(db, "supervisor")
    body = {"name": "Paul Dépôt", "email": "paul@transport.test", "organisation": "Transports"}
    made = desk.post("/api/outside-owners", json=body | extra, headers=bearer(boss))
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def forward(desk: TestClient, db: Database, case_id: int, **extra: Any) -> dict[str, Any]:
    owner_id = extra.pop("owner_id", None) or make_owner(desk, db)
    _, token = agent_with_token(db, "agent", name="Marie Curie")
    body = {"owner_id": owner_id, "note": "Pouvez-vous vérifier le dépôt ?", "due_hours": 24}
    sent = desk.post(f"/api/cases/{case_id}/forward", json=body | extra, headers=bearer(token))
    assert sent.status_code == 201, sent.text
    return dict(sent.json())


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def path_of(link: str) -> str:
    return link.removeprefix("http://testserver")


def test_forward_end_to_end(
    desk: TestClient, stranger: TestClient, db: Database, smtp: SmtpCatcher
) -> None:
    case_id = french_case(db)
    fw = forward(desk, db, case_id)
    assert fw["state"] == "pending" and fw["reply_id"] is not None
    with db.session() as s:
        case = s.get(Case, case_id)
        assert case is not None and case.status == "waiting_third_party"

    mail = smtp.wait_for(1)[0]
    assert mail.rcpt_tos == ["paul@transport.test"] and mail.mail_from == "desk@sav.test"
    assert mail.message["Subject"].startswith(f"Cas n°{case_id} : votre réponse est attendue")
    assert "Marie Curie" in mail.body and "Bonjour Paul Dépôt" in mail.body
    # The e-mail carries a link, not the case: nothing the customer wrote is in it.
    assert "colis" not in mail.body and "98765432" not in mail.body
    link = path_of(mail.link)
    with db.session() as s:
        stored = s.scalar(select(Forward.token_digest))
    assert stored is not None and link.rsplit("/", 1)[1] not in stored  # only the digest

    page = stranger.get(link)
    assert page.status_code == 200
    html = page.text
    assert "Pouvez-vous vérifier le dépôt ?" in html and "Marie Curie" in html
    assert "Mon colis n&#39;arrive pas" in html
    assert "98765432" not in html and "06 12 34 56 78" not in html  # masked
    assert "[reference]" in html and "[phone]" in html
    assert "Lilas" not in html and "Messages privés non affichés : 1." in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "carebird_session" not in stranger.cookies

    answer = "Le colis est au dépôt de Lyon, livraison demain."
    done = stranger.post(link, data={"answer": answer, "csrf_token": csrf_of(html)})
    assert done.status_code == 200 and "Merci !" in done.text
    assert "colis" not in done.text.split("<main>")[1]  # the thank-you page shows no case

    with db.session() as s:
        note = s.scalar(select(CaseNote).where(CaseNote.case_id == case_id))
        case = s.get(Case, case_id)
        events = s.execute(
            select(CaseEvent.kind, CaseEvent.old, CaseEvent.new)
            .where(CaseEvent.case_id == case_id)
            .order_by(CaseEvent.id)
        ).all()
        ack = s.scalar(select(OutboxItem).where(OutboxItem.id == fw["reply_id"]))
    assert note is not None and note.body == answer and note.agent_id is None
    # Open inboxes learn it at once (the outside page called the flow, which announces it).
    with db.session() as s:
        told = [(e.kind, e.case_id) for e in events_after(s, 0)]
    assert ("forward.new", case_id) in told and ("reply.queued", case_id) in told
    assert told[-1] == ("forward.answered", case_id)
    assert note.forward_id == fw["id"]
    assert case is not None and case.status == "open"
    kinds = [e.kind for e in events]
    assert kinds[-6:] == [
        "status",
        "forwarded",
        "reply_queued",
        "note",
        "forward_answered",
        "status",
    ]
    assert [tuple(e) for e in events][-1] == ("status", "waiting_third_party", "open")
    # The customer was told, in French, on the channel they last used (public here), unsent.
    assert ack is not None and ack.status == "pending" and not ack.private
    assert ack.text.startswith("Merci pour votre patience. Nous avons transmis votre demande")

    notes = desk.get(
        f"/api/cases/{case_id}/notes", headers=bearer(agent_with_token(db, "viewer")[1])
    )
    assert notes.json()[0]["author_name"] == "Paul Dépôt (Transports)"

    # Used: the link now says so, and never shows the case again.
    for again in (stranger.get(link), stranger.post(link, data={"answer": "encore"})):
        assert again.status_code == 410
        assert "Réponse déjà envoyée" in again.text and "colis" not in again.text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(CaseNote)) == 1


def test_expired_tampered_and_revoked_links_are_refused(
    desk: TestClient, stranger: TestClient, db: Database, smtp: SmtpCatcher
) -> None:
    case_id = french_case(db)
    fw = forward(desk, db, case_id)
    link = path_of(smtp.wait_for(1)[0].link)

    tampered = link[:-1] + ("A" if link[-1] != "A" else "B")
    for bad in (tampered, link + "x", "/outside/short"):
        page = stranger.get(bad)
        assert page.status_code == 404 and "Lien invalide" in page.text
        assert "colis" not in page.text
    english = stranger.get(tampered, headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert english.status_code == 404 and "Invalid link" in english.text

    with db.session() as s, s.begin():
        row = s.get(Forward, fw["id"])
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    page = stranger.get(link)
    assert page.status_code == 410 and "Lien expiré" in page.text and "colis" not in page.text
    assert stranger.post(link, data={"answer": "trop tard"}).status_code == 410

    with db.session() as s, s.begin():
        row = s.get(Forward, fw["id"])
        assert row is not None
        row.expires_at = utcnow() + timedelta(days=1)
    assert stranger.get(link).status_code == 200  # live again: expiry is checked each time
    _, agent = agent_with_token(db, "agent")
    revoked = desk.post(f"/api/forwards/{fw['id']}/revoke", headers=bearer(agent))
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    page = stranger.get(link)
    assert page.status_code == 410 and "Lien annulé" in page.text and "colis" not in page.text
    # Revoking the only forward stops the case waiting on nobody.
    with db.session() as s:
        case = s.get(Case, case_id)
        assert case is not None and case.status == "open"
        assert s.scalar(select(func.count()).select_from(CaseNote)) == 0
    again = desk.post(f"/api/forwards/{fw['id']}/revoke", headers=bearer(agent))
    assert again.status_code == 409


def test_answer_needs_the_form_token_and_some_text(
    desk: TestClient, stranger: TestClient, db: Database, smtp: SmtpCatcher
) -> None:
    case_id = french_case(db)
    forward(desk, db, case_id)
    link = path_of(smtp.wait_for(1)[0].link)
    html = stranger.get(link).text
    forged = stranger.post(link, data={"answer": "hello", "csrf_token": "forged"})
    assert forged.status_code == 403 and "Le formulaire a expiré" in forged.text
    empty = stranger.post(link, data={"answer": "   ", "csrf_token": csrf_of(html)})
    assert empty.status_code == 422 and "Écrivez une réponse" in empty.text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(CaseNote)) == 0
        fw = s.scalar(select(Forward))
        assert fw is not None and fw.answered_at is None


def test_english_owner_private_messages_and_a_quiet_forward(
    desk: TestClient, stranger: TestClient, db: Database, smtp: SmtpCatcher
) -> None:
    ingest(
        db,
        [
            private(
                customer(2), "My order 55554444 never came, call +44 7700 900123", external_id="e1"
            )
        ],
    )
    case_id = case_of(db, "e1")
    owner = make_owner(desk, db, email="ops@supplier.test", name="Sam", language="en")
    fw = forward(
        desk, db, case_id, owner_id=owner, include_private=True, tell_customer=False, note=""
    )
    assert fw["reply_id"] is None
    mail = smtp.wait_for(1)[0]
    assert mail.message["Subject"].startswith(f"Case #{case_id}: your answer is needed by")
    assert "Hello Sam" in mail.body
    page = stranger.get(path_of(mail.link))
    # Written privately to the desk and shared on purpose: shown as written.
    assert "My order 55554444 never came, call +44 7700 900123" in page.text
    assert "Private" in page.text and "Your answer" in page.text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 0


def test_english_customer_is_told_in_english_privately(
    desk: TestClient, db: Database, smtp: SmtpCatcher
) -> None:
    ingest(
        db,
        [private(customer(3), "Hello, my parcel is lost and nobody answers me", external_id="g1")],
    )
    fw = forward(desk, db, case_of(db, "g1"))
    with db.session() as s:
        ack = s.get(OutboxItem, fw["reply_id"])
    assert ack is not None and ack.private
    assert ack.text.startswith("Thank you for your patience. We have passed your request")


def test_a_failed_e_mail_forwards_nothing(
    desk: TestClient, db: Database, smtp: SmtpCatcher, app: FastAPI
) -> None:
    case_id = french_case(db)
    owner = make_owner(desk, db)
    app.state.settings = app.state.settings.model_copy(update={"smtp_port": 1})  # nobody there
    _, token = agent_with_token(db, "agent")
    sent = desk.post(
        f"/api/cases/{case_id}/forward", json={"owner_id": owner}, headers=bearer(token)
    )
    assert sent.status_code == 502 and sent.json()["error"] == "MailError"
    with db.session() as s:
        case = s.get(Case, case_id)
        assert case is not None and case.status == "new"
        assert s.scalar(select(func.count()).select_from(Forward)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 0
    assert smtp.messages == []


def test_forward_refusals(desk: TestClient, db: Database, smtp: SmtpCatcher) -> None:
    case_id = french_case(db)
    owner = make_owner(desk, db)
    _, boss = agent_with_token(db, "supervisor")
    _, token = agent_with_token(db, "agent")
    url = f"/api/cases/{case_id}/forward"
    assert desk.post(url, json={"owner_id": 999}, headers=bearer(token)).status_code == 422
    too_long = {"owner_id": owner, "due_hours": 24 * 31}
    assert desk.post(url, json=too_long, headers=bearer(token)).status_code == 422
    off = desk.delete(f"/api/outside-owners/{owner}", headers=bearer(boss))
    assert off.status_code == 204
    assert desk.post(url, json={"owner_id": owner}, headers=bearer(token)).status_code == 422
    assert (
        desk.post(
            "/api/cases/999/forward", json={"owner_id": owner}, headers=bearer(token)
        ).status_code
        == 404
    )
    assert smtp.messages == []


def test_two_answers_racing_on_one_link_record_one(db: Database, smtp: SmtpCatcher) -> None:
    case_id = french_case(db)
    mailer = Mailer(host="127.0.0.1", port=smtp.port, sender="desk@sav.test")
    with db.session() as s, s.begin():
        owner = create_owner(s, name="Paul", email="paul@transport.test")
        done = forward_case(
            s,
            case_id=case_id,
            owner_id=owner.id,
            note="",
            due_hours=4,
            actor_id=None,
            mailer=mailer,
            public_url="http://testserver",
            tell_customer=False,
        )
        token = done.link.rsplit("/", 1)[1]
    with db.session() as late, late.begin():
        # This request read the link while it was unanswered (and keeps what it read).
        seen = live_forward(late, token=token)
        with db.session() as first, first.begin():
            answer_forward(first, token=token, text="first answer")
        with pytest.raises(LinkRefused) as refused:
            answer_forward(late, token=token, text="second answer")
        assert refused.value.reason == "answered" and seen.answered_at is None
    with db.session() as s:
        assert s.scalars(select(CaseNote.body)).all() == ["first answer"]
        assert s.scalar(select(Forward.answer)) == "first answer"
