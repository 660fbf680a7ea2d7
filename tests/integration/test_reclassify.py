"""The accurate tier's background pass: messages re-read, cases re-scored, events written,
each message once however many workers run (both engines; the race on PostgreSQL)."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from carebird.cases.models import Case, CaseEvent
from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.config import Settings
from carebird.db.database import Database
from carebird.flows.reclassify import ReclassifySetup, reclassify_batch
from carebird.ingest.models import Message
from carebird.jobs import tasks
from carebird.live.events import LiveEvent
from carebird.understand.accurate import AccurateClassifier
from carebird.understand.classifier import TextScores
from carebird.understand.labels import CATEGORIES, SENTIMENTS
from tests.factories import case_of, customer, ingest, item

HOSTILE = [
    "",
    "😡😡😡🔥",
    "a" * 100_000,
    "\u202ewrong way\u202c \u200b\u200d\u2066x\u2069",
    " \n\t",
]


class Scripted:
    """A classifier that says complaint/negative with certainty, and notes what it read."""

    name = "scripted"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay  # a real model takes a while: workers overlap
        self.read: list[str] = []
        self.lock = threading.Lock()

    def classify(self, texts: Sequence[str]) -> list[TextScores]:
        threading.Event().wait(self.delay)
        with self.lock:
            self.read.extend(texts)
        cat = {c: (1.0 if c == "complaint" else 0.0) for c in CATEGORIES}
        sent = {s: (1.0 if s == "negative" else 0.0) for s in SENTIMENTS}
        return [TextScores("complaint", cat, "negative", sent, 1.0) for _ in texts]


def _case(db: Database, case_id: int) -> Case:
    with db.session() as s:
        case = s.get(Case, case_id)
        assert case is not None
        s.expunge(case)
        return case


def _events(db: Database, case_id: int) -> list[tuple[str | None, str | None]]:
    with db.session() as s:
        return [
            (e.old, e.new)
            for e in s.scalars(
                select(CaseEvent).where(
                    CaseEvent.case_id == case_id, CaseEvent.kind == "reclassified"
                )
            )
        ]


def _pass(db: Database, setup: ReclassifySetup) -> int:
    with db.session() as s, s.begin():
        return reclassify_batch(s, setup, weights=DEFAULT_WEIGHTS).read


def test_a_pass_updates_message_case_priority_event_and_inbox(db: Database) -> None:
    first = item(customer(1), "thanks for the info, have a nice day")
    ingest(db, [first])
    case_id = case_of(db, first.external_id)
    before = _case(db, case_id)
    assert before.category != "complaint"
    with db.session() as s:
        last_event = s.scalar(select(func.max(LiveEvent.id))) or 0

    assert _pass(db, ReclassifySetup(Scripted())) == 1

    with db.session() as s:
        msg = s.scalar(select(Message).where(Message.external_id == first.external_id))
        assert msg is not None
        assert (msg.category, msg.sentiment) == ("complaint", "negative")
        assert msg.category_scores["complaint"] == 1.0 and msg.accurate_at is not None
        live = s.execute(
            select(LiveEvent.kind, LiveEvent.payload).where(LiveEvent.id > last_event)
        ).all()
    after = _case(db, case_id)
    assert after.category == "complaint" and after.priority > before.priority
    assert _events(db, case_id) == [(before.category, "complaint")]
    assert [(k, p["case_id"], p["category"]) for k, p in live] == [
        ("case.updated", case_id, "complaint")
    ]
    # A second pass (another worker, later) finds nothing left to read.
    assert _pass(db, ReclassifySetup(Scripted())) == 0
    assert len(_events(db, case_id)) == 1


def test_an_agents_category_stands(db: Database) -> None:
    first = item(customer(2), "do you ship to Belgium?")
    ingest(db, [first])
    case_id = case_of(db, first.external_id)
    with db.session() as s, s.begin():
        s.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(category="praise", category_source="agent")
        )
    assert _pass(db, ReclassifySetup(Scripted())) == 1
    assert _case(db, case_id).category == "praise"
    assert _events(db, case_id) == []


def test_only_unsure_messages_are_read_again_but_all_are_marked(db: Database) -> None:
    sure, unsure = item(customer(3), "sure one"), item(customer(4), "unsure one")
    ingest(db, [sure, unsure])
    with db.session() as s, s.begin():
        for ext, top in ((sure.external_id, 0.95), (unsure.external_id, 0.4)):
            scores = {c: (top if c == "question" else 0.01) for c in CATEGORIES}
            s.execute(
                update(Message)
                .where(Message.external_id == ext)
                .values(category="question", category_scores=scores)
            )
    scripted = Scripted()
    setup = ReclassifySetup(scripted, only_unsure=True, confidence=0.7)
    assert _pass(db, setup) == 2
    assert scripted.read == ["unsure one"]
    with db.session() as s:
        rows = dict(s.execute(select(Message.text, Message.category)).tuples().all())
        assert rows == {"sure one": "question", "unsure one": "complaint"}
        assert s.scalar(select(func.count()).where(Message.accurate_at.is_(None))) == 0


def test_the_desk_pass_reads_every_message_with_the_accurate_tier(
    db: Database, db_url: str
) -> None:
    texts = ["my parcel never arrived and nobody answers", "merci pour votre aide !", *HOSTILE]
    ingest(db, [item(customer(10 + i), t) for i, t in enumerate(texts)])
    settings = Settings(
        env="test",
        database_url=db_url,
        secret_key=secrets.token_urlsafe(32),
        accurate_tier=True,
        accurate_tier_batch=3,  # several transactions in one pass
    )
    desk = tasks.Desk(settings, db)
    assert tasks.reclassify(desk, budget=60.0) == len(texts)
    expected = AccurateClassifier().classify(texts)
    with db.session() as s:
        got = dict(s.execute(select(Message.text, Message.category)).tuples().all())
    assert got == {t: e.category for t, e in zip(texts, expected, strict=True)}
    assert tasks.reclassify(desk) == 0


def test_off_when_configured_or_when_accurate_is_the_intake_classifier(db_url: str) -> None:
    base = {"env": "test", "database_url": db_url, "secret_key": secrets.token_urlsafe(32)}
    assert ReclassifySetup.from_settings(Settings(**base, accurate_tier=False)) is None
    assert (
        ReclassifySetup.from_settings(Settings(**base, accurate_tier=True, classifier="accurate"))
        is None
    )
    setup = ReclassifySetup.from_settings(
        Settings(**base, accurate_tier=True, accurate_tier_messages="unsure")
    )
    assert setup is not None and setup.only_unsure


@pytest.fixture
def pg_db(pg_cluster: object, request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    cluster = request.getfixturevalue("pg_cluster")
    name = f"reclassify_{secrets.token_hex(4)}"
    cluster.create_database(name, template="template_carebird")
    database = Database(cluster.url(name))
    request.addfinalizer(lambda: (database.dispose(), cluster.drop_database(name)))
    return database


def test_two_workers_never_read_the_same_message(pg_db: Database) -> None:
    ingest(pg_db, [item(customer(100 + k), f"message {k}") for k in range(120)])
    readers = [Scripted(delay=0.02), Scripted(delay=0.02)]
    setups = [ReclassifySetup(r, batch=7) for r in readers]
    start = threading.Barrier(2)

    def work(setup: ReclassifySetup) -> Callable[[], None]:
        def run() -> None:
            start.wait()
            while _pass(pg_db, setup):
                pass

        return run

    threads = [threading.Thread(target=work(s)) for s in setups]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    a, b = (set(r.read) for r in readers)
    assert a and b, "both workers took part"
    assert not a & b
    assert len(a) + len(b) == len(readers[0].read) + len(readers[1].read) == 120


def test_the_embedded_runner_reclassifies_in_the_background(db: Database, db_url: str) -> None:
    from carebird.jobs.runner import background

    texts = ["the app crashes every time I open it", "vous livrez en Belgique ?", "🙂"]
    ingest(db, [item(customer(200 + i), t) for i, t in enumerate(texts)])
    settings = Settings(
        env="test",
        database_url=db_url,
        secret_key=secrets.token_urlsafe(32),
        accurate_tier=True,
        accurate_tier_interval_seconds=0.2,
    )

    def pending() -> int:
        with db.session() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(Message)
                    .where(Message.accurate_at.is_(None), Message.direction == "in")
                )
                or 0
            )

    async def run() -> int:
        async with background(settings, db) as desk:
            assert desk is not None
            for _ in range(600):  # up to a minute: the encoder loads on first use
                if pending() == 0:
                    break
                await asyncio.sleep(0.1)
        return pending()

    assert asyncio.run(run()) == 0


def test_with_the_accurate_tier_at_intake_nothing_is_left_to_read(db: Database) -> None:
    from datetime import timedelta

    from carebird.flows.intake import Intake
    from carebird.understand.service import Understander

    intake = Intake(Understander(AccurateClassifier()), timedelta(days=7), DEFAULT_WEIGHTS)
    ingest(db, [item(customer(300), "le colis n'est jamais arrivé")], intake=intake)
    assert _pass(db, ReclassifySetup(Scripted())) == 0
