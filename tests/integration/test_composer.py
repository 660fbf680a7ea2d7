"""The composer API on X, Mastodon and Bluesky cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from carebird.db.database import Database
from carebird.ingest.base import AuthorInfo
from carebird.ingest.models import NetworkAccount
from carebird.reply.cost import estimate
from carebird.reply.length import measure
from carebird.reply.templates import create_template
from tests.factories import (
    BRAND,
    TestClient,
    agent_with_token,
    bearer,
    case_of,
    customer,
    ingest,
    item,
    private,
)

LONG_FR = (
    "Bonjour, nous sommes désolés pour ce retard. Votre colis est bloqué au centre de tri de "
    "Lyon depuis mardi ; nos équipes ont relancé le transporteur ce matin et reviennent vers "
    "vous dès qu'il bouge. Vous pouvez suivre son avancement ici : "
    "https://suivi.example.com/colis/ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789?lang=fr . Si rien "
    "ne bouge d'ici jeudi, nous organiserons un renvoi gratuit. Merci de votre patience !"
)
DM_LINK = "https://twitter.com/messages/compose?recipient_id=brand-1"


@pytest.fixture
def marie(db: Database) -> dict[str, str]:
    _, token = agent_with_token(db, "agent", name="Marie Curie")
    return bearer(token)


def new_case(db: Database, network: str, text: str, author: AuthorInfo | None = None) -> int:
    msg = item(author or customer(1), text, network=network)
    ingest(db, [msg])
    return case_of(db, msg.external_id)


def set_options(db: Database, network: str, **options: Any) -> None:
    with db.session() as s, s.begin():
        account = s.scalar(select(NetworkAccount).where(NetworkAccount.network == network))
        assert account is not None
        account.options = {**(account.options or {}), **options}


def compose(client: TestClient, headers: dict[str, str], case_id: int, **body: Any) -> Any:
    response = client.post(f"/api/cases/{case_id}/compose", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_public_reply_on_x(client: TestClient, db: Database, marie: dict[str, str]) -> None:
    msg = item(customer(1), "Mon colis n'est toujours pas arrivé !")
    ingest(db, [msg])
    case_id = case_of(db, msg.external_id)
    got = compose(client, marie, case_id, text="Bonjour, nous regardons cela tout de suite.")
    assert got["destination"] == {
        "kind": "public_reply",
        "label": "Réponse publique à @customer1 sur X",
        "network": "x",
        "account_handle": BRAND.handle,
        "customer_handle": "@customer1",
        "in_reply_to_id": msg.external_id,
        "recipient_id": None,
    }
    text = "Bonjour, nous regardons cela tout de suite. ^MC"
    assert got["text"] == text and got["signature"] == " ^MC"
    assert got["length"] == {"length": len(text), "limit": 280, "over": False}
    assert got["split"] is False
    assert got["parts"] == [{"text": text, "length": len(text), "limit": 280, "over": False}]
    assert got["personal_data"] == [] and got["blocked"] is False and got["switch"] is None
    assert got["cost"] == {"network": "x", "ops": [["reply", 1]], "cost": 0.015}
    assert got["problems"] == []


def test_long_public_answer_on_x_is_split(
    client: TestClient, db: Database, marie: dict[str, str]
) -> None:
    case_id = new_case(db, "x", "Où est mon colis ?")
    got = compose(client, marie, case_id, text=LONG_FR)
    assert got["length"]["over"] and got["length"]["length"] == measure("x", got["text"]).length
    assert got["split"] and len(got["parts"]) == 2
    first, last = (p["text"] for p in got["parts"])
    assert first.endswith(" 1/2") and last.endswith(" ^MC 2/2") and "^MC" not in first
    for part in got["parts"]:
        assert part["length"] == measure("x", part["text"]).length <= 280
    expected = sum(estimate("x", p["text"], private=False).cost for p in got["parts"])
    assert got["cost"]["cost"] == pytest.approx(expected)
    # in private, X's 10,000-character messages need no split
    private_case = compose(client, marie, case_id, text=LONG_FR * 3, private=True)
    assert private_case["destination"]["kind"] == "private_message"
    assert private_case["destination"]["recipient_id"] == "u1"
    assert private_case["destination"]["in_reply_to_id"] is None
    assert not private_case["split"] and private_case["length"]["limit"] == 10_000
    assert private_case["cost"]["ops"] == [["dm_send", 1]]


def test_mastodon_counts_the_mention_it_adds(
    client: TestClient, db: Database, marie: dict[str, str]
) -> None:
    fan = AuthorInfo("m1", "marie@piaille.example", "Marie Dupont")
    case_id = new_case(db, "mastodon", "Bonjour, ma box ne marche plus", author=fan)
    got = compose(client, marie, case_id, text="Bonjour, nous regardons.")
    assert got["parts"][0]["text"] == "@marie@piaille.example Bonjour, nous regardons. ^MC"
    assert got["length"]["length"] == len("@marie Bonjour, nous regardons. ^MC")
    assert got["length"]["limit"] == 500 and got["cost"]["cost"] == 0.0
    # a mention typed by the agent is not doubled
    typed = compose(client, marie, case_id, text="@marie@piaille.example Bonjour !")
    assert typed["parts"][0]["text"] == "@marie@piaille.example Bonjour ! ^MC"
    short = compose(client, marie, case_id, text="@Marie, bonjour !")
    assert short["parts"][0]["text"] == "@marie@piaille.example bonjour ! ^MC"
    other = compose(client, marie, case_id, text="@marie@piaille.exampleX bonjour")
    assert other["parts"][0]["text"].startswith("@marie@piaille.example @marie@piaille.exampleX")
    long = compose(client, marie, case_id, text=LONG_FR * 2)
    assert long["split"] and all(
        p["text"].startswith("@marie@piaille.example ") and p["length"] <= 500
        for p in long["parts"]
    )
    # the instance's own limit, and a private message (a status: same limit, so split too)
    set_options(db, "mastodon", char_limit=1000)
    assert not compose(client, marie, case_id, text=LONG_FR * 2)["split"]
    private_long = compose(client, marie, case_id, text=LONG_FR * 4, private=True)
    assert private_long["split"] and private_long["length"]["limit"] == 1000


def test_bluesky_counts_graphemes(client: TestClient, db: Database, marie: dict[str, str]) -> None:
    case_id = new_case(db, "bluesky", "Toujours pas de remboursement 😡")
    text = "Nous sommes désolés 🙏🏽 " * 14  # 24 graphemes a time
    got = compose(client, marie, case_id, text=text)
    assert got["length"]["limit"] == 300
    assert got["length"]["length"] == 14 * 22 - 1 + 4  # spaces trimmed, " ^MC" added
    assert got["split"] and all(p["length"] <= 300 for p in got["parts"])
    assert got["destination"]["label"] == "Réponse publique à @customer1 sur Bluesky"


def test_personal_data_blocks_a_public_reply_and_offers_the_switch(
    client: TestClient, db: Database, marie: dict[str, str]
) -> None:
    case_id = new_case(db, "x", "Impossible de joindre le service client")
    text = "Appelez-nous au 01 23 45 67 89 ou écrivez à aide@example.com"
    got = compose(client, marie, case_id, text=text)
    assert got["blocked"] is True
    assert [(p["kind"], p["value"]) for p in got["personal_data"]] == [
        ("phone", "01 23 45 67 89"),
        ("email", "aide@example.com"),
    ]
    start = got["personal_data"][0]["start"]
    assert got["text"][start : start + 14] == "01 23 45 67 89"  # spans index the text shown
    switch = got["switch"]
    assert switch["private_text"] == text + " ^MC"
    assert switch["dm_link"] == DM_LINK
    assert DM_LINK in switch["invitation_text"] and switch["invitation_text"].endswith(" ^MC")
    assert switch["invitation_text"].startswith("Bonjour Customer 1, pour protéger vos données")
    assert not switch["invitation"]["over"]
    # the outbox agrees: the public text is refused, both ways out are queued
    replies = f"/api/cases/{case_id}/replies"
    refused = client.post(replies, json={"text": got["text"]}, headers=marie)
    assert refused.status_code == 422 and refused.json()["error"] == "PersonalDataInPublic"
    body = {"text": switch["private_text"], "private": True}
    assert client.post(replies, json=body, headers=marie).status_code == 202
    body = {"text": switch["invitation_text"]}
    assert client.post(replies, json=body, headers=marie).status_code == 202
    # composing the same text in private is not blocked
    in_private = compose(client, marie, case_id, text=text, private=True)
    assert in_private["blocked"] is False and len(in_private["personal_data"]) == 2


def test_invitation_in_english_for_an_english_case(
    client: TestClient, db: Database, marie: dict[str, str]
) -> None:
    case_id = new_case(db, "x", "My parcel never arrived and nobody answers, this is terrible")
    got = compose(client, marie, case_id, text="Call us on 01 23 45 67 89")
    assert got["switch"]["invitation_text"].startswith("Hi Customer 1, to keep your personal")


def test_private_message_case_answers_in_private(
    client: TestClient, db: Database, marie: dict[str, str]
) -> None:
    dm = private(customer(2), "Bonjour, mon numéro client est 12345678")
    ingest(db, [dm])
    got = compose(client, marie, case_of(db, dm.external_id), text="Merci", private=True)
    assert got["destination"]["kind"] == "private_message"
    assert got["destination"]["recipient_id"] == "u2"


def test_signature_policy_and_no_double_signature(
    client: TestClient, db: Database, marie: dict[str, str]
) -> None:
    case_id = new_case(db, "x", "Bonjour ?")
    assert compose(client, marie, case_id, text="Bonjour ^MC")["signature"] == ""
    assert compose(client, marie, case_id, text="Bonjour ^MC")["text"] == "Bonjour ^MC"
    # typed at the end of a long answer: still once, glued to the last word of the last part
    typed = compose(client, marie, case_id, text=LONG_FR + "\n^MC")
    assert typed["signature"] == "" and typed["split"]
    assert [p["text"].count("^MC") for p in typed["parts"]] == [0, 1]
    assert typed["parts"][-1]["text"].endswith("patience !\n^MC 2/2")
    set_options(db, "x", signature="none")
    got = compose(client, marie, case_id, text="Bonjour")
    assert got["signature"] == "" and got["text"] == "Bonjour"
    assert compose(client, marie, case_id, text=LONG_FR)["parts"][-1]["text"].endswith(
        "patience ! 2/2"
    )


def test_an_empty_draft(client: TestClient, db: Database, marie: dict[str, str]) -> None:
    got = compose(client, marie, new_case(db, "x", "Allô ?"), text="  ")
    assert got["parts"] == [] and got["cost"]["ops"] == [] and got["length"]["length"] == 0
    assert [p["code"] for p in got["problems"]] == ["empty"] and got["text"] == ""


def test_templates_in_the_composer(client: TestClient, db: Database, marie: dict[str, str]) -> None:
    case_id = new_case(db, "x", "Toujours rien reçu")
    with db.session() as s, s.begin():
        template_id = create_template(
            s,
            name="Délai",
            language="fr",
            body="Bonjour {customer_name}, dossier n°{case_number} : retour sous "
            "{expected_wait}. {agent_name} ({brand})",
        ).id
    got = compose(
        client, marie, case_id, template_id=template_id, variables={"expected_wait": "2 h"}
    )
    rendered = f"Bonjour Customer 1, dossier n°{case_id} : retour sous 2 h. Marie Curie (Brand_SAV)"
    assert got["template"] == {"id": template_id, "name": "Délai", "language": "fr",
                               "text": rendered}  # fmt: skip
    assert got["text"] == rendered + " ^MC"
    # the agent's edited text wins over the template's
    edited = compose(client, marie, case_id, template_id=template_id, text="Autre texte",
                     variables={"expected_wait": "2 h"})  # fmt: skip
    assert edited["text"] == "Autre texte ^MC"
    missing = client.post(
        f"/api/cases/{case_id}/compose", json={"template_id": template_id}, headers=marie
    )
    assert missing.status_code == 422
    assert "needs a value for {expected_wait}" in missing.json()["detail"]
    unknown = client.post(
        f"/api/cases/{case_id}/compose",
        json={"text": "x", "variables": {"prenom": "A"}},
        headers=marie,
    )
    assert unknown.status_code == 422 and "prenom" in unknown.json()["detail"]
    gone = client.post("/api/cases/999999/compose", json={"text": "x"}, headers=marie)
    assert gone.status_code == 404


def test_answer_card_png(client: TestClient, db: Database, marie: dict[str, str]) -> None:
    case_id = new_case(db, "x", "Quel numéro appeler ?")
    response = client.post(
        f"/api/cases/{case_id}/card",
        json={"text": "Appelez le 01 23 45 67 89 ou https://aide.example.com", "title": "Aide"},
        headers=marie,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    assert image.size == (1200, 675)
    with db.session() as s, s.begin():
        template_id = create_template(s, name="Merci", language="fr",
                                      body="Merci {customer_name} ! {brand}").id  # fmt: skip
    by_template = client.post(
        f"/api/cases/{case_id}/card", json={"template_id": template_id}, headers=marie
    )
    assert by_template.status_code == 200 and by_template.content[:4] == b"\x89PNG"
    empty = client.post(f"/api/cases/{case_id}/card", json={}, headers=marie)
    assert empty.status_code == 422


def test_one_template_name_saved_twice_at_once_makes_one_template(db: Database) -> None:
    """Two people saving one name at the same moment (a proposal accepted twice): one template,
    and the other is told (Conflict, a 409), never a database error."""
    import threading

    from carebird.errors import Conflict
    from carebird.reply.templates import ReplyTemplate

    start = threading.Barrier(2)
    outcomes: list[object] = []

    def save() -> None:
        try:
            start.wait()
            with db.session() as s, s.begin():
                create_template(
                    s, name="Panne fibre", language="fr", body="Bonjour {customer_name}"
                )
            outcomes.append("saved")
        except BaseException as exc:  # judged below
            outcomes.append(exc)

    threads = [threading.Thread(target=save) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("saved") == 1
    assert [type(o) for o in outcomes if o != "saved"] == [Conflict]
    with db.session() as s:
        assert len(s.scalars(select(ReplyTemplate)).all()) == 1
