"""The live expected wait on SQLite and PostgreSQL: read from the desk's cases, stored one row
per account by the job (also with two refreshes racing), stated by the acknowledgements."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

from sqlalchemy import func, select, update

from carebird.auth.models import Agent
from carebird.cases.calendars import Calendar
from carebird.config import Settings
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.flows.intake import process_batch
from carebird.ingest.models import NetworkAccount
from carebird.insights.wait_store import WaitRow, current_wait, refresh_waits, stored_wait
from carebird.jobs import tasks
from carebird.jobs.schedule import SCHEDULES
from carebird.reply.acknowledging import AckSetup
from carebird.reply.models import OutboxItem
from tests.factories import (
    BRAND,
    T0,
    TestClient,
    agent_with_token,
    case_of,
    customer,
    ingest,
    intake_for,
    item,
    private,
)

NOW = T0 + timedelta(hours=2)
COMPLAINT = "mon colis n'est jamais arrivé, toujours rien"


def _desk(db: Database) -> int:
    """Three answered cases (after 10, 20 and 30 min), two waiting, one chatter; an agent."""
    msgs = []
    for n, waited in enumerate((10, 20, 30)):
        msgs.append(item(customer(n), COMPLAINT, minutes=n, external_id=f"in{n}"))
        msgs.append(item(BRAND, "Nous regardons", minutes=n + waited, in_reply_to_id=f"in{n}"))
    msgs.append(item(customer(7), COMPLAINT, minutes=100, external_id="w1"))
    msgs.append(item(customer(8), "mon colis est bloqué depuis hier", minutes=110))
    ingest(db, msgs)
    agent_with_token(db, "agent")
    with db.session() as s:
        account_id = s.scalar(select(NetworkAccount.id))
    assert account_id is not None
    return account_id


def test_the_estimate_is_read_from_the_desk_and_stored_once_per_account(db: Database) -> None:
    account_id = _desk(db)
    with db.session() as s, s.begin():
        got = refresh_waits(s, desk=None, now=NOW, default_seconds=3600)[account_id]
    assert (got.basis, got.sample, got.backlog, got.agents) == ("recent", 3, 2, 1)
    assert got.open_seconds == 20 * 60  # the weighted median of 10, 20, 30 min
    with db.session() as s, s.begin():
        refresh_waits(s, desk=None, now=NOW + timedelta(minutes=2))  # an upsert, not a second row
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(WaitRow)) == 1
        stored = stored_wait(s, account_id, now=NOW + timedelta(minutes=3))
        assert stored is not None and stored.computed_at == NOW + timedelta(minutes=2)
        assert stored.seconds == 20 * 60 and stored.is_open
        assert current_wait(s, account_id, NOW) == timedelta(minutes=20)
        # An estimate older than half an hour is not shown: the background work stopped.
        assert stored_wait(s, account_id, now=NOW + timedelta(hours=1)) is None


def test_nobody_available_and_closed_hours(db: Database) -> None:
    account_id = _desk(db)
    with db.session() as s, s.begin():
        s.execute(update(Agent).values(status="away"))
        got = refresh_waits(s, desk=None, now=T0 + timedelta(hours=3))[account_id]
    # Nobody drains the queue: at least what the oldest waiting case has waited (80 min).
    assert (got.basis, got.agents, got.open_seconds) == ("no_agent", 0, 80 * 60)
    night = Calendar.parse("Mon-Fri 09:00-18:00", "UTC")
    with db.session() as s, s.begin():
        s.execute(update(Agent).values(status="available"))
        late = refresh_waits(s, desk=night, now=T0 + timedelta(hours=10))[account_id]  # 19:00
    assert late.opens_at == T0 + timedelta(days=1)  # Tuesday 09:00
    with db.session() as s:
        stored = stored_wait(s, account_id)
        assert stored is not None and not stored.is_open
        assert stored.opens_at == T0 + timedelta(days=1)
        assert stored.seconds is not None and stored.seconds > 14 * 3600


def test_the_job_refreshes_every_account_even_when_two_run_at_once(
    db: Database, settings: Settings
) -> None:
    assert any(s.task == "refresh_waits" for s in SCHEDULES)
    account_id = _desk(db)
    with db.session() as s, s.begin():
        s.add(NetworkAccount(network="mastodon", handle="brand@example.social"))
    desks = [tasks.Desk(settings, db), tasks.Desk(settings, Database(db.url))]
    results: list[int] = []
    errors: list[BaseException] = []

    def run(desk: tasks.Desk) -> None:
        try:
            for _ in range(3):
                results.append(tasks.refresh_waits(desk, now=lambda: NOW))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in desks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    desks[1].db.dispose()
    assert not errors, errors
    assert results == [2] * 6
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(WaitRow)) == 2
        stored = stored_wait(s, account_id)
        assert stored is not None and stored.sample == 3


def test_the_acknowledgement_states_the_live_estimate(db: Database) -> None:
    account_id = _desk(db)
    with db.session() as s, s.begin():
        s.get_one(NetworkAccount, account_id).options = {"acknowledge": {"private": True}}
        refresh_waits(s, desk=None, now=NOW)
        s.execute(update(WaitRow).values(seconds=45 * 60, open_seconds=45 * 60))
    setup = AckSetup(hours=None, default_wait=timedelta(minutes=25), clock=lambda: NOW,
                     current_wait=current_wait)  # fmt: skip
    intake = dataclasses.replace(intake_for(), acknowledge=setup)
    with db.session() as s, s.begin():
        process_batch(s, [private(customer(20), COMPLAINT, minutes=119)], intake=intake)
    with db.session() as s:
        texts = s.scalars(select(OutboxItem.text).where(OutboxItem.purpose == "acknowledgement"))
        assert [t for t in texts] == ["Bonjour, message bien reçu ! Nous revenons vers vous sous "
                                      "~45 min."]  # fmt: skip
    # Without an estimate the median of the last answered cases is stated, as before.
    with db.session() as s, s.begin():
        s.execute(WaitRow.__table__.delete())
        process_batch(s, [private(customer(21), COMPLAINT, minutes=119)], intake=intake)
    with db.session() as s:
        last = s.scalars(select(OutboxItem.text).order_by(OutboxItem.id.desc())).first()
        assert last == "Bonjour, message bien reçu ! Nous revenons vers vous sous ~20 min."


def test_the_composer_offers_the_estimate_and_the_inbox_shows_it(
    client: TestClient, db: Database
) -> None:
    account_id = _desk(db)
    _, token = agent_with_token(db, "agent")
    client.cookies.set("carebird_session", token)
    case_id = case_of(db, "w1")
    assert 'data-expected-wait=""' in client.get(f"/cases/{case_id}").text  # none stored yet
    assert 'id="expected-wait"' not in client.get("/").text
    with db.session() as s, s.begin():
        refresh_waits(s, desk=None, now=utcnow())
        s.execute(update(WaitRow).values(seconds=45 * 60, open_seconds=45 * 60))
    assert 'data-expected-wait="45 min"' in client.get(f"/cases/{case_id}").text
    inbox = client.get("/").text
    assert 'id="expected-wait"' in inbox and "@Brand_SAV</bdi> ~45 min" in inbox
    assert account_id
