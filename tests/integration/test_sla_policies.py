"""SLA policies end to end (both engines): the resolution clock paused while the case waits on
the customer, the account's own calendar, escalation on breach, the team lead told live and by
e-mail once, and two watchers at once writing each mark once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from carebird.auth.models import Team
from carebird.auth.service import create_agent
from carebird.cases.inbox import inbox
from carebird.cases.log import record
from carebird.cases.models import Case, CaseEvent
from carebird.cases.sla import SlaSetup
from carebird.db.database import Database
from carebird.flows.deadlines import lead_notices, send_notices, watch_deadlines
from carebird.ingest.models import NetworkAccount
from carebird.insights.export import case_record
from carebird.insights.metrics import case_times, with_deadlines
from carebird.live.events import events_after
from carebird.mail import Mailer
from tests.factories import BRAND, T0, case_of, customer, ingest, item
from tests.support.smtp import SmtpCatcher

COMPLAINT = "@Brand_SAV my parcel never arrived, this is a disgrace, I want a refund now"
DAY = "Mon-Fri 09:00-18:00"  # T0 is Monday 2 March 2026, 09:00 UTC


def setup(*policies: dict[str, Any], teams: tuple[str, ...] = ()) -> SlaSetup:
    return SlaSetup.from_config(
        {"policies": list(policies)},
        opening_hours=DAY,
        timezone="UTC",
        default_minutes=6000,
        teams=teams,
    )


def marks(db: Database, case_id: int) -> list[tuple[str, str]]:
    with db.session() as s:
        rows = s.execute(
            select(CaseEvent.kind, CaseEvent.data)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind.like("sla_%"))
            .order_by(CaseEvent.id)
        )
        return [(k, d["target"]) for k, d in rows]


def watch(db: Database, sla: SlaSetup, at: datetime) -> int:
    with db.session() as s, s.begin():
        return len(watch_deadlines(s, sla, now=at))


def set_status(db: Database, case_id: int, status: str, at: datetime) -> None:
    with db.session() as s, s.begin():
        case = s.get_one(Case, case_id)
        record(s, case_id, "status", old=case.status, new=status, at=at)
        case.status = status


def test_the_resolution_clock_pauses_while_the_case_waits_on_the_customer(db: Database) -> None:
    sla = setup(
        {"name": "Fix fast", "first_response_minutes": 6000, "resolution_minutes": 120},
    )
    ingest(db, [item(customer(1), "Mon colis ?", external_id="a")])
    case_id = case_of(db, "a")
    ingest(db, [item(BRAND, "On regarde, votre numéro ?", minutes=10, in_reply_to_id="a")])
    set_status(db, case_id, "waiting_customer", T0 + timedelta(minutes=30))
    # Paused from minute 30: at minute 130 it would have been breached.
    assert watch(db, sla, T0 + timedelta(minutes=130)) == 0
    ingest(db, [item(customer(1), "C'est 1234", minutes=90, in_reply_to_id="a")])  # reopens it
    # Runs again from minute 90: 30 + 66 minutes reach 80 % at minute 156, 100 % at 180.
    assert watch(db, sla, T0 + timedelta(minutes=155)) == 0
    assert watch(db, sla, T0 + timedelta(minutes=156)) == 1
    assert marks(db, case_id) == [("sla_warning", "resolution")]
    assert watch(db, sla, T0 + timedelta(minutes=179)) == 0
    assert watch(db, sla, T0 + timedelta(minutes=180)) == 1
    assert watch(db, sla, T0 + timedelta(days=3)) == 0
    assert marks(db, case_id) == [("sla_warning", "resolution"), ("sla_breached", "resolution")]


def test_a_case_counts_in_its_account_s_calendar(db: Database) -> None:
    sla = setup({"name": "Hour", "first_response_minutes": 60})
    ingest(db, [item(customer(2), COMPLAINT, minutes=8 * 60 + 30, external_id="b")])  # 17:30
    case_id = case_of(db, "b")
    with db.session() as s, s.begin():  # the account closes Tuesday (a holiday) in UTC
        s.execute(
            update(NetworkAccount).values(options={"holidays": ["2026-03-03"], "timezone": "UTC"})
        )
    # 30 minutes on Monday; Tuesday is closed; the other 30 on Wednesday from 09:00.
    assert watch(db, sla, T0 + timedelta(days=1, minutes=40)) == 0
    assert watch(db, sla, T0 + timedelta(days=2, minutes=29)) == 1
    assert marks(db, case_id) == [("sla_warning", "first_response")]
    assert watch(db, sla, T0 + timedelta(days=2, minutes=30)) == 1
    with db.session() as s:
        data = s.scalars(select(CaseEvent.data).where(CaseEvent.kind == "sla_breached")).one()
    assert data["due_at"] == (T0 + timedelta(days=2, minutes=30)).isoformat()
    with db.session() as s:  # the inbox counts in the account's calendar too
        (row,) = inbox(s, sla=sla, now=T0 + timedelta(days=1)).items
    assert row.due_at == T0 + timedelta(days=2, minutes=30) and not row.breached


def test_the_inbox_shows_the_resolution_deadline_and_none_while_paused(db: Database) -> None:
    sla = setup({"name": "Fix fast", "first_response_minutes": 6000, "resolution_minutes": 120})
    ingest(db, [item(customer(5), "Mon colis ?", external_id="r")])
    case_id = case_of(db, "r")
    ingest(db, [item(BRAND, "On regarde.", minutes=10, in_reply_to_id="r")])
    with db.session() as s:
        (row,) = inbox(s, sla=sla, now=T0 + timedelta(minutes=20)).items
    assert row.waiting_since is None and row.due_at == T0 + timedelta(minutes=120)
    with db.session() as s:
        (row,) = inbox(s, sla=sla, now=T0 + timedelta(minutes=121)).items
    assert row.breached
    set_status(db, case_id, "waiting_customer", T0 + timedelta(minutes=30))
    with db.session() as s:
        (row,) = inbox(s, sla=sla, now=T0 + timedelta(minutes=40)).items
    assert row.due_at is None  # the clock is paused: nothing runs


def lead_and_team(db: Database, team: str, email: str, locale: str = "en") -> tuple[int, int]:
    with db.session() as s, s.begin():
        lead = create_agent(
            s, email=email, name="Lea Lead", password=None, role="supervisor", locale=locale
        )
        row = Team(name=team, lead_id=lead.id)
        s.add(row)
        s.flush()
        return lead.id, row.id


def test_a_breach_escalates_as_the_policy_says(db: Database) -> None:
    sla = setup(
        {"name": "Complaints", "when": {"category": "complaint"}, "first_response_minutes": 60,
         "on_breach": {"priority_boost": 10, "team": "Escalations", "assign_to_lead": True}},
        teams=("Escalations",),
    )  # fmt: skip
    lead_id, team_id = lead_and_team(db, "Escalations", "lead@example.test")
    ingest(db, [item(customer(3), COMPLAINT, external_id="c")])
    case_id = case_of(db, "c")
    with db.session() as s:
        before = s.get_one(Case, case_id).priority
    assert watch(db, sla, T0 + timedelta(minutes=61)) == 1
    with db.session() as s:
        case = s.get_one(Case, case_id)
        assert (case.team_id, case.assignee_id, case.priority_boost) == (team_id, lead_id, 10)
        assert case.priority >= before + 10
        kinds = [
            e.kind
            for e in s.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
        ]
    assert kinds[-5:] == ["sla_breached", "priority_boost", "assigned", "team", "escalated"]
    assert watch(db, sla, T0 + timedelta(minutes=120)) == 0  # once


def test_the_team_lead_is_told_live_and_e_mailed_once(db: Database) -> None:
    sla = setup({"name": "Hour", "first_response_minutes": 60})
    lead_id, team_id = lead_and_team(db, "Care", "lea@example.test")
    ingest(db, [item(customer(4), COMPLAINT, external_id="d")])
    case_id = case_of(db, "d")
    with db.session() as s, s.begin():
        s.get_one(Case, case_id).team_id = team_id
    with SmtpCatcher() as smtp:
        mailer = Mailer(host="127.0.0.1", port=smtp.port, sender="desk@example.test")
        for minutes in (49, 50, 55, 61, 62):  # a warning, then a breach, each once
            with db.session() as s, s.begin():
                found = watch_deadlines(s, sla, now=T0 + timedelta(minutes=minutes))
                notices = lead_notices(
                    s, found, public_url="https://desk.example", tz=sla.calendar.tz
                )
            send_notices(mailer, notices)
        mails = smtp.wait_for(2)
    assert [m.rcpt_tos for m in mails] == [["lea@example.test"], ["lea@example.test"]]
    assert (
        str(mails[0].message["Subject"]) == f"[carebird] SLA warning: #{case_id} (first response)"
    )
    assert (
        str(mails[1].message["Subject"]) == f"[carebird] SLA breached: #{case_id} (first response)"
    )
    assert f"https://desk.example/cases/{case_id}" in mails[1].body
    with db.session() as s:
        alerts = [e.payload for e in events_after(s, 0) if e.kind == "sla.alert"]
    assert [(a["state"], a["target"], a["lead_id"]) for a in alerts] == [
        ("sla_warning", "first_response", lead_id),
        ("sla_breached", "first_response", lead_id),
    ]


def test_two_watchers_at_once_write_and_e_mail_each_mark_once(db: Database) -> None:
    sla = setup({"name": "Hour", "first_response_minutes": 60, "resolution_minutes": 90})
    _, team_id = lead_and_team(db, "Care", "lea@example.test")
    ingest(db, [item(customer(10 + n), COMPLAINT, external_id=f"e{n}") for n in range(20)])
    with db.session() as s, s.begin():
        s.execute(update(Case).values(team_id=team_id))
    start = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run(mailer: Mailer) -> None:
        try:
            start.wait()
            with db.session() as s, s.begin():  # as jobs.tasks.watch_deadlines does
                found = watch_deadlines(s, sla, now=T0 + timedelta(minutes=100))
                notices = lead_notices(s, found, public_url="http://d", tz=sla.calendar.tz)
            send_notices(mailer, notices)
            counts.append(len(found))
        except BaseException as exc:  # reported below
            errors.append(exc)

    with SmtpCatcher() as smtp:
        mailer = Mailer(host="127.0.0.1", port=smtp.port, sender="desk@example.test")
        threads = [threading.Thread(target=run, args=(mailer,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert sorted(counts) == [0, 40]  # one watcher wrote all 20 x 2 breaches, the other none
        assert len(smtp.wait_for(40)) == 40
        assert len(smtp.messages) == 40  # every send has returned: none more will come
    with db.session() as s:
        rows = s.execute(select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.data)).all()
    written = [(c, d["target"]) for c, k, d in rows if k == "sla_breached"]
    assert len(written) == len(set(written)) == 40


def test_the_export_gives_the_resolution_deadline_with_its_pause(db: Database) -> None:
    sla = setup({"name": "Fix fast", "first_response_minutes": 60, "resolution_minutes": 120})
    ingest(db, [item(customer(6), "Mon colis ?", external_id="x")])
    case_id = case_of(db, "x")
    ingest(db, [item(BRAND, "Votre numéro ?", minutes=10, in_reply_to_id="x")])
    set_status(db, case_id, "waiting_customer", T0 + timedelta(minutes=30))
    ingest(db, [item(customer(6), "1234", minutes=90, in_reply_to_id="x")])
    set_status(db, case_id, "resolved", T0 + timedelta(minutes=170))
    with db.session() as s, s.begin():
        s.get_one(Case, case_id).resolved_at = T0 + timedelta(minutes=170)
    with db.session() as s:
        (times,) = list(with_deadlines(s, case_times(s), sla, now=T0 + timedelta(days=1)))
    record_ = case_record(times)
    assert record_["resolution_due_at"] == (T0 + timedelta(minutes=180)).isoformat()
    assert record_["resolution_breached"] is False  # 170 < 180: the pause did not count
    assert record_["first_response_breached"] is False


def test_a_reopened_case_starts_a_new_resolution_clock(db: Database) -> None:
    sla = setup({"name": "Fix fast", "first_response_minutes": 6000, "resolution_minutes": 120})
    ingest(db, [item(customer(7), "Mon colis ?", external_id="o")])
    case_id = case_of(db, "o")
    ingest(db, [item(BRAND, "Livré ce matin.", minutes=10, in_reply_to_id="o")])
    set_status(db, case_id, "resolved", T0 + timedelta(minutes=20))
    with db.session() as s, s.begin():
        s.get_one(Case, case_id).resolved_at = T0 + timedelta(minutes=20)
    assert watch(db, sla, T0 + timedelta(minutes=200)) == 0  # resolved: no clock runs
    ingest(db, [item(customer(7), "Non, rien reçu", minutes=300, in_reply_to_id="o")])
    with db.session() as s:
        assert s.get_one(Case, case_id).status == "open"  # reopened at minute 300
    assert watch(db, sla, T0 + timedelta(minutes=395)) == 0  # 95 < 96 (80 %)
    assert watch(db, sla, T0 + timedelta(minutes=420)) == 1
    assert marks(db, case_id) == [("sla_breached", "resolution")]
