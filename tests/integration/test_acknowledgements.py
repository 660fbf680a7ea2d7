"""Automatic acknowledgements through the intake and the outbox, on SQLite and PostgreSQL: one
per new case on an enabled channel, in the customer's language, with the expected wait; every
guardrail; the hourly cap under concurrent intakes; never counted as an answer."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from carebird.cases.models import Case, CaseEvent
from carebird.cases.scoring import rescore_active
from carebird.cases.sla import waiting_on_us
from carebird.cases.timeline import timeline
from carebird.cli.main import cli
from carebird.config import Settings
from carebird.db.database import Database
from carebird.errors import InvalidInput
from carebird.flows.intake import BatchReport, process_batch
from carebird.flows.replies import queue_reply, send_pending
from carebird.ingest.base import AuthorInfo, InboundItem
from carebird.ingest.models import Author, Message, NetworkAccount
from carebird.insights.metrics import case_times
from carebird.reply.acknowledgement import AckSettings
from carebird.reply.acknowledging import AckSetup, acknowledge_new_cases
from carebird.reply.models import OutboxItem
from tests.factories import (
    BRAND,
    BRAND_HANDLE,
    T0,
    TestClient,
    agent_with_token,
    bearer,
    case_of,
    customer,
    intake_for,
    item,
    private,
)
from tests.support.scripted import ScriptedNetwork

NOW = T0 + timedelta(minutes=30)
SETUP = AckSetup(hours=None, default_wait=timedelta(minutes=25), clock=lambda: NOW)
PRIVATE_ON = {"private": True}


def _account(db: Database, ack: dict[str, Any] | None = None, *, network: str = "x") -> int:
    with db.session() as s, s.begin():
        account = NetworkAccount(
            network=network,
            handle=BRAND_HANDLE,
            external_id=BRAND.external_id,
            options={} if ack is None else {"acknowledge": ack},
        )
        s.add(account)
        s.flush()
        return account.id


def _take(db: Database, items: Sequence[InboundItem], setup: AckSetup = SETUP) -> BatchReport:
    intake = dataclasses.replace(intake_for(), acknowledge=setup)
    with db.session() as s, s.begin():
        return process_batch(s, list(items), intake=intake)


def _acks(db: Database) -> list[OutboxItem]:
    with db.session() as s:
        rows = s.scalars(
            select(OutboxItem)
            .where(OutboxItem.purpose == "acknowledgement")
            .order_by(OutboxItem.id)
        ).all()
        s.expunge_all()
        return list(rows)


def _skips(db: Database) -> dict[int, str | None]:
    with db.session() as s:
        rows = s.execute(
            select(CaseEvent.case_id, CaseEvent.new).where(
                CaseEvent.kind == "acknowledgement_skipped"
            )
        ).all()
    return {case_id: reason for case_id, reason in rows}


def _send(db: Database, network: ScriptedNetwork) -> int:
    return send_pending(db, {"x": network}, intake=intake_for())  # type: ignore[dict-item]


def test_a_private_message_gets_one_acknowledgement_in_its_language(db: Database) -> None:
    _account(db, PRIVATE_ON)
    fr = private(customer(1), "Bonjour, ma carte est bloquée", minutes=20, language="fr")
    en = private(customer(2), "Hello, my card is blocked", minutes=21, language="en")
    _take(db, [fr, en])
    _take(db, [private(customer(1), "Vous êtes là ?", minutes=22, language="fr")])  # same case
    acks = _acks(db)
    assert [a.case_id for a in acks] == [case_of(db, fr.external_id), case_of(db, en.external_id)]
    assert acks[0].text == "Bonjour, message bien reçu ! Nous revenons vers vous sous ~25 min."
    assert acks[1].text == "Hello, message received! We will get back to you within ~25 min."
    assert all(a.private and a.in_reply_to_id is None for a in acks)
    assert [a.recipient_id for a in acks] == ["u1", "u2"]
    assert acks[0].idempotency_key == f"ack:{acks[0].case_id}"
    assert _skips(db) == {}


def test_public_posts_get_none_by_default_and_nothing_unless_enabled(db: Database) -> None:
    account_id = _account(db, PRIVATE_ON)
    _take(db, [item(customer(1), "@Brand_SAV mon train est en retard", minutes=25)])
    assert _acks(db) == [] and _skips(db) == {}  # off, not refused
    with db.session() as s, s.begin():
        s.execute(update(NetworkAccount).values(options={}))
    _take(db, [private(customer(2), "ma carte est bloquée", minutes=25)])
    assert _acks(db) == []
    with db.session() as s, s.begin():
        s.get_one(NetworkAccount, account_id).options = {"acknowledge": {"public": True}}
    mention = item(customer(3), "@Brand_SAV my train is late", minutes=26, language="en")
    _take(db, [mention])
    (ack,) = _acks(db)
    assert not ack.private and ack.in_reply_to_id == mention.external_id


def test_the_expected_wait_is_the_median_first_answer_of_answered_cases(db: Database) -> None:
    _account(db, PRIVATE_ON)
    history: list[InboundItem] = []
    for n, answered_after in enumerate((10, 30, 50)):
        question = item(customer(10 + n), "help", minutes=0, external_id=f"q{n}")
        answer = item(BRAND, "on it", minutes=answered_after, in_reply_to_id=f"q{n}")
        history += [question, answer]
    _take(db, history)
    _take(db, [private(customer(1), "ma carte", minutes=25, language="fr")])
    (ack,) = _acks(db)
    assert "~30 min" in ack.text  # the median of 10, 30 and 50 minutes


def test_closed_desk_states_the_next_opening_in_its_time_zone(db: Database) -> None:
    from carebird.cases.calendars import Calendar

    _account(db, PRIVATE_ON)
    hours = Calendar.parse("Mon-Fri 10:00-12:00", "Europe/Paris")
    # T0 is Monday 2 March 2026, 09:00 UTC = 10:00 Paris; 13:00 UTC is after closing.
    late = dataclasses.replace(SETUP, hours=hours, clock=lambda: T0 + timedelta(hours=4))
    _take(db, [private(customer(1), "ma carte", minutes=235, language="fr")], late)
    (ack,) = _acks(db)
    assert "rouvre demain à 10:00 (heure de Paris)" in ack.text, ack.text


def test_guardrails_stale_automated_and_own_account(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    _account(db, {"private": True, "automated_posts": 5, "automated_minutes": 10})
    stale = private(customer(1), "old message", minutes=-60)  # 90 min before NOW
    flood = [private(customer(2), f"spam {k}", minutes=20 + k / 10) for k in range(6)]
    fine = private(customer(3), "ma carte", minutes=25)
    with caplog.at_level(logging.INFO, logger="carebird.reply.acknowledging"):
        _take(db, [stale, *flood, fine])
    # An old message (a backlog, an import) is only logged: no event on thousands of cases.
    assert f"case {case_of(db, stale.external_id)}: no acknowledgement (stale)" in caplog.text
    assert _skips(db) == {case_of(db, flood[0].external_id): "automated"}
    assert [a.case_id for a in _acks(db)] == [case_of(db, fine.external_id)]
    # Our other account writing to this one opens no case at all (stored as ours)...
    with db.session() as s, s.begin():
        s.add(NetworkAccount(network="x", handle="Brand_Two", external_id="brand-2"))
    _take(db, [private(AuthorInfo("brand-2", "Brand_Two"), "test", minutes=26)])
    assert len(_acks(db)) == 1
    # ...and a case whose customer turns out to be ours is never acknowledged.
    other = private(customer(4), "hello", minutes=27)
    _take(db, [other], dataclasses.replace(SETUP, clock=lambda: NOW))
    case_id = case_of(db, other.external_id)
    with db.session() as s, s.begin():
        s.execute(
            update(OutboxItem).where(OutboxItem.case_id == case_id).values(status="cancelled")
        )
        s.execute(update(Author).where(Author.external_id == "u4").values(is_brand=True))
        assert acknowledge_new_cases(s, [case_id], SETUP) == {case_id: "own_account"}


def test_never_twice_in_a_conversation_nor_in_answer_to_an_acknowledgement(db: Database) -> None:
    _account(db, {"public": True, "private": True})
    network = ScriptedNetwork()
    first = item(customer(1), "@Brand_SAV help", minutes=20, conversation_id="c1")
    _take(db, [first])
    assert _send(db, network) == 1
    (sent,) = network.sent
    case_a = case_of(db, first.external_id)
    with db.session() as s, s.begin():
        s.execute(update(Case).where(Case.id == case_a).values(status="closed"))
    again = item(customer(2), "@Brand_SAV me too", minutes=25, conversation_id="c1")
    bot = item(customer(3), "@Brand_SAV received?", minutes=26, in_reply_to_id="out1")
    _take(db, [again, bot])
    assert sent.in_reply_to_id == first.external_id
    assert _skips(db) == {
        case_of(db, again.external_id): "conversation",
        case_of(db, bot.external_id): "reply_to_acknowledgement",
    }
    assert len(_acks(db)) == 1


def test_an_acknowledgement_is_not_an_answer(db: Database) -> None:
    _account(db, PRIVATE_ON)
    network = ScriptedNetwork()
    dm = private(customer(1), "ma carte est bloquée", minutes=20, language="fr")
    _take(db, [dm])
    case_id = case_of(db, dm.external_id)
    assert _send(db, network) == 1 and "bien reçu" in network.sent[0].text
    with db.session() as s:
        out = s.scalar(select(Message).where(Message.direction == "out"))
        assert out is not None and out.kind == "acknowledgement" and out.is_private
        assert out.case_id == case_id
        (times,) = [t for t in case_times(s) if t.case_id == case_id]
        waiting, answered = waiting_on_us(s, [case_id])
        case = s.get_one(Case, case_id)
        kinds = s.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)).all()
        shown = {(i.kind, i.label) for i in timeline(s, case_id=case_id, locale="fr")}
    assert times.first_response_at is None
    assert case_id in waiting and answered == set()
    assert case.status == "new"  # nobody looked at it yet
    assert "acknowledged" in kinds and "reply_sent" not in kinds
    assert ("message.out.acknowledgement", "Accusé de réception automatique") in shown
    assert ("event.acknowledged", "Accusé de réception envoyé") in shown
    # An agent's answer counts; the acknowledgement never did.
    with db.session() as s, s.begin():
        queue_reply(s, case_id=case_id, text="Nous débloquons votre carte.", private=True)
    assert _send(db, network) == 1
    with db.session() as s:
        (times,) = [t for t in case_times(s) if t.case_id == case_id]
        assert waiting_on_us(s, [case_id]) == ({}, {case_id})
    assert times.first_response_at is not None
    # The private answer joined its case after the intake: its kept signals know it too, so
    # the periodic re-score (which reads no message) no longer counts the customer as waiting.
    with db.session() as s, s.begin():
        rescore_active(s)
        case = s.get_one(Case, case_id)
        assert case.waiting_since is None
        assert "waiting" not in {r["code"] for r in case.priority_reasons}


def test_an_agents_answer_first_cancels_the_acknowledgement(db: Database) -> None:
    _account(db, PRIVATE_ON)
    network = ScriptedNetwork()
    dm = private(customer(1), "ma carte", minutes=20)
    _take(db, [dm])
    case_id = case_of(db, dm.external_id)
    with db.session() as s, s.begin():
        queue_reply(s, case_id=case_id, text="Nous regardons.", private=True)
    assert _send(db, network) == 1
    assert [r.text for r in network.sent] == ["Nous regardons."]
    (ack,) = _acks(db)
    assert ack.status == "cancelled"
    assert _skips(db) == {case_id: "answered"}


def test_the_hourly_cap_holds_with_concurrent_intakes(db: Database) -> None:
    _account(db, {"private": True, "max_per_hour": 3})
    n = 8
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def one(k: int) -> None:
        try:
            barrier.wait(timeout=30)
            _take(db, [private(customer(200 + k), f"carte {k}", minutes=25)])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(_acks(db)) == 3
    skips = _skips(db)
    assert len(skips) == n - 3 and set(skips.values()) == {"hourly_cap"}


def test_admins_read_and_set_the_settings_through_the_api(db: Database, client: TestClient) -> None:
    account_id = _account(db)
    _, token = agent_with_token(db, "admin")
    path = f"/api/accounts/{account_id}/acknowledgements"
    got = client.get(path, headers=bearer(token))
    assert got.status_code == 200
    assert got.json() == {"account_id": account_id, **AckSettings().as_dict()}
    bad = client.put(path, json={"private": True, "max_per_hour": -1}, headers=bearer(token))
    assert bad.status_code == 422
    assert "acknowledge.max_per_hour must be between 1 and 10000" in bad.json()["detail"]
    typo = client.put(path, json={"privat": True}, headers=bearer(token))
    assert typo.status_code == 422 and "unknown acknowledgement setting" in typo.json()["detail"]
    ok = client.put(path, json={"private": True, "max_per_hour": 12}, headers=bearer(token))
    assert ok.status_code == 200, ok.text
    assert ok.json()["private"] is True and ok.json()["public"] is False
    assert client.get(path, headers=bearer(token)).json()["max_per_hour"] == 12
    with db.session() as s:
        options = s.get_one(NetworkAccount, account_id).options
    assert options["acknowledge"]["private"] is True
    missing = client.get("/api/accounts/999/acknowledgements", headers=bearer(token))
    assert missing.status_code == 404
    _, supervisor = agent_with_token(db, "supervisor")
    assert client.get(path, headers=bearer(supervisor)).status_code == 403


def test_the_wording_fits_the_networks_length_rule_or_none_is_sent(db: Database) -> None:
    account_id = _account(db)
    with db.session() as s, s.begin():  # a public limit of 60: the long wording (65) is over
        s.get_one(NetworkAccount, account_id).options = {
            "acknowledge": {"public": True},
            "char_limit": 60,
        }
    fits = item(customer(1), "@Brand_SAV my train is late", minutes=25, language="en")
    _take(db, [fits])
    (ack,) = _acks(db)
    assert ack.text == "Message received, we will get back to you within ~25 min."
    with db.session() as s, s.begin():
        s.get_one(NetworkAccount, account_id).options = {
            "acknowledge": {"public": True},
            "char_limit": 30,
        }
    too_long = item(customer(2), "@Brand_SAV my train is late", minutes=26, language="en")
    _take(db, [too_long])
    assert _skips(db) == {case_of(db, too_long.external_id): "too_long"}


def test_the_cli_shows_and_changes_only_the_settings_given(
    db: Database, settings: Settings
) -> None:
    account_id = _account(db, {"private": True, "max_per_hour": 12})

    def run(*args: str) -> Any:
        env = {"CAREBIRD_SECRET_KEY": settings.secret_key}
        argv = ["--database", settings.database_url, "accounts", "acknowledge", *args]
        return CliRunner(env=env).invoke(cli, argv)

    shown = run(str(account_id))
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["max_per_hour"] == 12
    changed = json.loads(run(str(account_id), "--public", "--automated-posts", "4").output)
    assert changed["public"] and changed["private"] and changed["max_per_hour"] == 12
    assert changed["automated_posts"] == 4
    refused = run(str(account_id), "--max-per-hour", "0")
    assert isinstance(refused.exception, InvalidInput)
    assert "acknowledge.max_per_hour must be between 1 and 10000" in str(refused.exception)
    with db.session() as s:
        stored = s.get_one(NetworkAccount, account_id).options["acknowledge"]
    assert stored["max_per_hour"] == 12 and stored["public"] is True


def test_a_case_answered_in_the_same_batch_gets_none(db: Database) -> None:
    _account(db, {"public": True})
    mention = item(customer(1), "@Brand_SAV help", minutes=20)
    answer = item(BRAND, "On it!", minutes=21, in_reply_to_id=mention.external_id)
    _take(db, [mention, answer])
    assert _acks(db) == []
    assert _skips(db) == {case_of(db, mention.external_id): "answered"}
