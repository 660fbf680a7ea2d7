"""A public Mastodon reply to a customer of another server starts with their @user@server
handle: the outbox must not take it for an e-mail (the composer's preview does not)."""

from __future__ import annotations

import pytest

from carebird.db.database import Database
from carebird.errors import PersonalDataInPublic
from carebird.ingest.base import AuthorInfo
from carebird.reply.outbox import queue_reply
from tests.factories import TestClient, agent_with_token, bearer, case_of, ingest, item

REMOTE = AuthorInfo("m7", "jean@piaille.example", "Jean Martin")


def remote_case(db: Database) -> int:
    msg = item(REMOTE, "Bonjour, ma commande n'est jamais arrivée", network="mastodon")
    ingest(db, [msg])
    return case_of(db, msg.external_id)


def test_queue_reply_accepts_the_customers_fediverse_handle(db: Database) -> None:
    case_id = remote_case(db)
    with db.session() as s, s.begin():
        queued = queue_reply(
            s, case_id=case_id, text="@jean@piaille.example Bonjour, nous regardons. ^MC"
        )
        assert queued.network == "mastodon" and not queued.private
    with db.session() as s, s.begin(), pytest.raises(PersonalDataInPublic) as refused:
        queue_reply(s, case_id=case_id, text="@jean@piaille.example écrivez à jean@free.fr")
    assert refused.value is not None and "email" in str(refused.value.args)


def test_the_composed_mastodon_reply_is_queued(client: TestClient, db: Database) -> None:
    case_id = remote_case(db)
    _, token = agent_with_token(db, "agent", name="Marie Curie")
    headers = bearer(token)
    composed = client.post(
        f"/api/cases/{case_id}/compose", json={"text": "Nous regardons."}, headers=headers
    ).json()
    text = composed["parts"][0]["text"]
    assert text.startswith("@jean@piaille.example ") and composed["blocked"] is False
    sent = client.post(
        f"/api/cases/{case_id}/replies", json={"text": "Nous regardons."}, headers=headers
    )
    assert sent.status_code == 202, sent.text
    leaky = client.post(
        f"/api/cases/{case_id}/replies", json={"text": "Écrivez à jean@free.fr"}, headers=headers
    )
    assert leaky.status_code == 422 and leaky.json()["error"] == "PersonalDataInPublic"
