"""The satisfaction survey after a resolution, on SQLite and PostgreSQL: resolving a case queues
one private message with a link (purpose "survey", sent once); the customer answers once on a
public page without signing in; the score shows in /api/satisfaction. Every refusal; the
once-per-customer-per-24-hours rule and the answer-once rule under real concurrency."""

from __future__ import annotations

import dataclasses
import itertools
import re
import threading
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from carebird.cases.models import Case, CaseEvent
from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.cases.routing import RoutingSetup
from carebird.config import Settings
from carebird.crypto import seal
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.flows import casework
from carebird.flows.replies import send_pending
from carebird.ingest.base import MessageKind
from carebird.ingest.models import Message, NetworkAccount
from carebird.insights.satisfaction import SatisfactionFilters, satisfaction_summary
from carebird.reply.models import OutboxItem
from carebird.reply.survey import Survey, SurveyRefused, answer_survey, take_customer_slot
from carebird.reply.surveying import SurveySetup, offer_surveys
from tests.factories import (
    BRAND,
    BRAND_HANDLE,
    T0,
    TestClient,
    agent_with_token,
    bearer,
    case_of,
    customer,
    ingest,
    intake_for,
    item,
    private,
)
from tests.support.scripted import ScriptedNetwork

NOW = T0 + timedelta(hours=2)
SETUP = SurveySetup(public_url="https://desk.example", clock=lambda: NOW)
LINK = re.compile(r"https://desk\.example/survey/([A-Za-z0-9_-]{43})$")
FR = "Bonjour, mon colis n'est jamais arrivé, pouvez-vous m'aider ?"
EN = "Hello, my parcel never arrived, can you help me?"


def _account(db: Database, survey: dict[str, Any] | None, **extra: Any) -> int:
    with db.session() as s, s.begin():
        options = {} if survey is None else {"survey": survey}
        account = NetworkAccount(
            network="x",
            handle=BRAND_HANDLE,
            external_id=BRAND.external_id,
            options=options,
            **extra,
        )
        s.add(account)
        s.flush()
        return account.id


def _answered_case(
    db: Database,
    n: int,
    *,
    text: str = EN,
    language: str = "en",
    in_private: bool = True,
    later: bool = False,
) -> int:
    """A case customer n opened (privately or in public) and the desk answered; `later`: a
    new case of theirs, written after their earlier cases were resolved (not a reopening)."""
    tag = f"c{n}-{next_id()}"
    at = 0.0
    if later:  # after now (their resolutions), beyond the reopening window
        at = (utcnow() - T0).total_seconds() / 60 + 60 * next_id()
    reply = "Sorry! A new parcel is on its way."
    if in_private:
        question = private(customer(n), text, external_id=tag, minutes=at)
        answer = private(BRAND, reply, minutes=at + 5, in_reply_to_id=tag)
    else:
        question = item(customer(n), f"@{BRAND_HANDLE} {text}", external_id=tag, minutes=at)
        answer = item(BRAND, reply, minutes=at + 5, in_reply_to_id=tag)
    ingest(db, [_lang(question, language), answer], intake=intake_for(timedelta(0)))
    return case_of(db, tag)


_counter = itertools.count(1)


def next_id() -> int:
    return next(_counter)


def _lang(msg: Any, language: str) -> Any:
    return dataclasses.replace(msg, language=language)


def _change(db: Database, case_id: int, status: str, setup: SurveySetup | None = None) -> None:
    with db.session() as s, s.begin():
        casework.update_case(
            s,
            case_id=case_id,
            changes={"status": status},
            actor_id=None,
            weights=DEFAULT_WEIGHTS,
            routing=RoutingSetup(),
            survey=setup,
        )


def _resolve(db: Database, case_id: int, setup: SurveySetup | None = SETUP) -> None:
    _change(db, case_id, "resolved", setup)


def _surveys(db: Database) -> list[OutboxItem]:
    with db.session() as s:
        rows = list(
            s.scalars(
                select(OutboxItem).where(OutboxItem.purpose == "survey").order_by(OutboxItem.id)
            )
        )
        s.expunge_all()
    return rows


def _skips(db: Database) -> dict[int, str | None]:
    with db.session() as s:
        rows = s.execute(
            select(CaseEvent.case_id, CaseEvent.new).where(CaseEvent.kind == "survey_skipped")
        ).all()
    return {case_id: reason for case_id, reason in rows}


def _token(row: OutboxItem) -> str:
    match = LINK.search(row.text)
    assert match is not None, row.text
    return match.group(1)


# --- the flow, end to end -------------------------------------------------------------------
def test_resolve_sends_a_private_survey_answered_once_on_the_public_page(
    app: FastAPI, client: TestClient, db: Database, settings: Settings
) -> None:
    _account(db, {"enabled": True})
    case_id = _answered_case(db, 1, text=FR, language="fr")
    agent, token = agent_with_token(db, "agent", name="Marie Curie")
    resolved = client.patch(
        f"/api/cases/{case_id}", json={"status": "resolved"}, headers=bearer(token)
    )
    assert resolved.status_code == 200, resolved.text
    (row,) = _surveys(db)
    assert row.private and row.recipient_id == "u1" and row.in_reply_to_id is None
    assert row.idempotency_key == f"survey:{case_id}" and row.case_id == case_id
    assert row.text.startswith("Votre demande est résolue. Êtes-vous satisfait(e)")
    link = settings.public_url.rstrip("/") + "/survey/"
    assert link in row.text
    survey_token = row.text.rsplit("/survey/", 1)[1]
    with db.session() as s:
        survey = s.scalars(select(Survey)).one()
        assert survey.agent_id == agent.id and survey.language == "fr"
        assert survey_token not in (survey.token_digest, "") and len(survey.token_digest) == 64

    network = ScriptedNetwork()
    assert send_pending(db, {"x": network}, intake=intake_for()) == 1  # type: ignore[dict-item]
    assert [r.private for r in network.sent] == [True]
    with db.session() as s:
        kinds = s.scalars(
            select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        ).all()
        assert "survey_sent" in kinds and kinds.count("reply_sent") == 0
        posted = s.scalars(select(Message).where(Message.external_id == "out1")).one()
        assert posted.kind == MessageKind.SURVEY and posted.case_id == case_id

    # The desk reads the survey with its link masked: no agent rates themselves by a click.
    timeline = client.get(f"/api/cases/{case_id}/timeline", headers=bearer(token)).text
    detail = client.get(f"/api/cases/{case_id}", headers=bearer(token)).text
    assert "/survey/…" in timeline and "/survey/…" in detail
    assert survey_token not in timeline and survey_token not in detail

    anonymous = TestClient(app)
    page = anonymous.get(f"/survey/{survey_token}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "Êtes-vous satisfait" in page.text or "satisfait" in page.text
    assert page.text.count('name="score"') == 5 and "<script" not in page.text
    done = anonymous.post(f"/survey/{survey_token}", data={"score": "4"})
    assert done.status_code == 200 and done.headers["cache-control"] == "no-store"
    again = anonymous.post(f"/survey/{survey_token}", data={"score": "1"})
    assert again.status_code == 410  # the first answer is kept
    assert anonymous.get(f"/survey/{survey_token}").status_code == 410
    with db.session() as s:
        assert s.scalars(select(Survey.score)).one() == 4
        answered = s.scalars(select(CaseEvent.new).where(CaseEvent.kind == "survey_answered")).all()
        assert answered == ["4"]

    _, boss = agent_with_token(db, "supervisor")
    got = client.get("/api/satisfaction", headers=bearer(boss))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["overall"]["responses"] == 1 and body["overall"]["mean"] == 4
    assert body["overall"]["csat"] == 1 and body["sent"] == 1 and body["surveys"] == 1
    assert [(a["agent"], a["responses"]) for a in body["by_agent"]] == [("Marie Curie", 1)]
    assert [a["account"] for a in body["by_account"]] == [BRAND_HANDLE]
    assert len(body["by_category"]) == 1
    page = client.get("/satisfaction", headers=bearer(boss))
    assert page.status_code == 200 and "Marie Curie" in page.text
    assert client.get("/satisfaction", headers=bearer(token)).status_code == 403
    bad = client.get("/api/satisfaction?from=yesterday", headers=bearer(boss))
    assert bad.status_code == 422
    for edge in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-14:00"):
        assert client.get("/api/satisfaction", params={"to": edge},
                          headers=bearer(boss)).status_code == 422  # fmt: skip
    # The dashboard's figures carry the score, and the survey itself is no answer of ours.
    figures = client.get("/api/metrics", headers=bearer(boss)).json()
    assert figures["satisfaction"]["responses"] == 1
    assert figures["satisfaction"]["overall"]["mean"] == 4
    assert figures["answered"] == 1 and figures["next_responses"] == 0
    board = client.get("/dashboard?from=2000-01-01", headers=bearer(boss))
    assert board.status_code == 200
    panel = board.text.split('id="satisfaction"', 1)[1].split("</section>", 1)[0]
    assert "Marie Curie" in panel


def test_english_customer_gets_the_english_survey(db: Database) -> None:
    _account(db, {"enabled": True})
    _resolve(db, _answered_case(db, 1))
    (row,) = _surveys(db)
    assert row.text.startswith("Your request is resolved. How satisfied are you")
    assert LINK.search(row.text)


# --- refusals -------------------------------------------------------------------------------
def test_off_by_default_and_no_survey_for_unanswered_or_public_threads(db: Database) -> None:
    account_id = _account(db, None)
    _resolve(db, _answered_case(db, 1))
    assert _surveys(db) == [] and _skips(db) == {}  # off, not refused
    with db.session() as s, s.begin():
        s.get_one(NetworkAccount, account_id).options = {"survey": {"enabled": True}}
    unanswered = f"q{next_id()}"
    ingest(db, [private(customer(2), EN, external_id=unanswered)])
    public = _answered_case(db, 3, in_private=False)
    _resolve(db, case_of(db, unanswered))
    _resolve(db, public)
    assert _surveys(db) == []
    assert _skips(db) == {case_of(db, unanswered): "unanswered", public: "public_thread"}


def test_public_threads_only_when_allowed_and_still_by_private_message(db: Database) -> None:
    _account(db, {"enabled": True, "public_allowed": True})
    public = _answered_case(db, 1, in_private=False)
    _resolve(db, public)
    (row,) = _surveys(db)
    assert row.private and row.in_reply_to_id is None and row.recipient_id == "u1"


def test_no_survey_where_the_account_cannot_send_private_messages(
    db: Database, settings: Settings
) -> None:
    app_only = seal(settings.secret_key, {"bearer_token": "AAAA"})
    _account(db, {"enabled": True}, credentials=app_only)
    case_id = _answered_case(db, 1)
    _resolve(db, case_id, SurveySetup("https://desk.example", settings.secret_key, lambda: NOW))
    assert _surveys(db) == [] and _skips(db) == {case_id: "no_private_messages"}


def test_one_survey_per_case_and_one_per_customer_per_day(db: Database) -> None:
    _account(db, {"enabled": True})
    first = _answered_case(db, 1)
    _resolve(db, first)
    _change(db, first, "open")  # reopened and resolved again: still one survey
    _resolve(db, first)
    with db.session() as s, s.begin():
        assert offer_surveys(s, [first], SETUP) == {}  # asked again: nothing more
    assert len(_surveys(db)) == 1
    second = _answered_case(db, 1, later=True)  # the same customer, a new problem, same day
    _resolve(
        db, second, SurveySetup("https://desk.example", clock=lambda: NOW + timedelta(hours=23))
    )
    assert _skips(db) == {second: "customer_recent"}
    third = _answered_case(db, 1, later=True)
    _resolve(
        db, third, SurveySetup("https://desk.example", clock=lambda: NOW + timedelta(hours=25))
    )
    assert [r.case_id for r in _surveys(db)] == [first, third]


# --- the rules under concurrency -------------------------------------------------------------
PARALLEL = 6


def test_concurrent_resolutions_of_one_customer_queue_one_survey(db: Database) -> None:
    _account(db, {"enabled": True})
    cases = []
    for _ in range(PARALLEL):  # one customer's cases, each resolved before the next opens
        cases.append(_answered_case(db, 7, later=True))
        _resolve(db, cases[-1], setup=None)
    for case_id in cases:  # all of them open again at once
        _change(db, case_id, "open")
    assert _surveys(db) == []
    start = threading.Barrier(PARALLEL)
    errors: list[BaseException] = []

    def resolve(case_id: int) -> None:
        try:
            start.wait()
            _resolve(db, case_id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=resolve, args=(c,)) for c in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(_surveys(db)) == 1
    skipped = _skips(db)
    assert sorted(skipped) == sorted(set(cases) - {_surveys(db)[0].case_id})
    assert set(skipped.values()) == {"customer_recent"}


def test_the_customer_slot_is_taken_once_by_racing_transactions(db: Database) -> None:
    ingest(db, [private(customer(9), EN, external_id="slot")])
    with db.session() as s:
        customer_id = s.scalar(select(Message.author_id).where(Message.external_id == "slot"))
    assert customer_id is not None
    start = threading.Barrier(PARALLEL)
    taken: list[bool] = []

    def take() -> None:
        with db.session() as s, s.begin():
            start.wait()
            taken.append(take_customer_slot(s, customer_id, NOW))

    threads = [threading.Thread(target=take) for _ in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(taken) == [False] * (PARALLEL - 1) + [True]


def test_racing_answers_keep_the_first_one(db: Database) -> None:
    _account(db, {"enabled": True})
    _resolve(db, _answered_case(db, 1))
    token = _token(_surveys(db)[0])
    start = threading.Barrier(PARALLEL)
    outcomes: list[str] = []

    def answer(score: int) -> None:
        start.wait()
        try:
            with db.session() as s, s.begin():
                answer_survey(s, token=token, score=score, now=NOW)
            outcomes.append(f"won:{score}")
        except SurveyRefused as exc:
            outcomes.append(exc.reason)

    threads = [threading.Thread(target=answer, args=(n % 5 + 1,)) for n in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    won = [o for o in outcomes if o.startswith("won:")]
    assert len(won) == 1 and outcomes.count("answered") == PARALLEL - 1
    with db.session() as s:
        assert s.scalars(select(Survey.score)).one() == int(won[0].split(":")[1])
        events = s.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "survey_answered")
        )
        assert events == 1


# --- bulk resolution and the scores ----------------------------------------------------------
def test_a_bulk_resolve_surveys_each_case_it_resolved(client: TestClient, db: Database) -> None:
    _account(db, {"enabled": True})
    cases = [_answered_case(db, n) for n in (21, 22)]
    _, token = agent_with_token(db, "agent")
    done = client.post(
        "/api/cases/bulk", json={"case_ids": cases, "action": "resolve"}, headers=bearer(token)
    )
    assert done.status_code == 200 and done.json()["succeeded"] == 2, done.text
    assert sorted(r.case_id for r in _surveys(db)) == sorted(cases)
    again = client.post(
        "/api/cases/bulk", json={"case_ids": cases, "action": "resolve"}, headers=bearer(token)
    )
    assert again.status_code == 200 and len(_surveys(db)) == 2  # already resolved: no more


def test_scores_per_agent_category_account_and_period(db: Database) -> None:
    """The summary against a tally made here from the answers given."""
    first = _account(db, {"enabled": True})
    with db.session() as s, s.begin():
        other = NetworkAccount(
            network="x", handle="Brand_Other", options={"survey": {"enabled": True}}
        )
        s.add(other)
        s.flush()
        other_id = other.id
    ana, _ = agent_with_token(db, "agent", name="Ana")
    bob, _ = agent_with_token(db, "agent", name="Bob")
    given = [  # (customer, agent, category, account, score or None: unanswered)
        (31, ana.id, "complaint", first, 5),
        (32, ana.id, "complaint", first, 4),
        (33, ana.id, "question", other_id, 1),
        (34, bob.id, "question", first, 3),
        (35, bob.id, "complaint", first, None),
    ]
    for n, agent_id, category, account_id, score in given:
        case_id = _answered_case(db, n)
        with db.session() as s, s.begin():
            case = s.get_one(Case, case_id)
            case.assignee_id, case.category, case.account_id = agent_id, category, account_id
        _resolve(db, case_id)
        if score is not None:
            (row,) = [r for r in _surveys(db) if r.case_id == case_id]
            with db.session() as s, s.begin():
                answer_survey(s, token=_token(row), score=score, now=NOW)
    network = ScriptedNetwork()
    assert send_pending(db, {"x": network}, intake=intake_for()) == 5  # type: ignore[dict-item]
    with db.session() as s:
        summary = satisfaction_summary(s, start=NOW - timedelta(hours=1), end=NOW + timedelta(1))
        empty = satisfaction_summary(s, start=NOW + timedelta(hours=1))
        only_first = satisfaction_summary(s, filters=SatisfactionFilters(account_id=first))
    assert summary["surveys"] == 5 and summary["sent"] == 5 and summary["responses"] == 4
    overall = summary["overall"]
    assert overall["mean"] == round((5 + 4 + 1 + 3) / 4, 3) and overall["csat"] == 0.5
    assert overall["distribution"] == {"1": 1, "2": 0, "3": 1, "4": 1, "5": 1}
    assert overall["response_rate"] == 0.8
    agents = {a["agent"]: (a["responses"], a["mean"]) for a in summary["by_agent"]}
    assert agents == {"Ana": (3, round(10 / 3, 3)), "Bob": (1, 3.0)}
    categories = {c["category"]: (c["surveys"], c["mean"]) for c in summary["by_category"]}
    assert categories == {"complaint": (3, 4.5), "question": (2, 2.0)}
    accounts = {a["account"]: a["responses"] for a in summary["by_account"]}
    assert accounts == {BRAND_HANDLE: 3, "Brand_Other": 1}
    assert empty["surveys"] == 0 and empty["overall"]["mean"] is None
    assert only_first["responses"] == 3 and only_first["overall"]["mean"] == 4.0
