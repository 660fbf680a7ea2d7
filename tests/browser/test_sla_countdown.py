"""SLA deadlines through `carebird serve` in a real browser: a case's countdown in the inbox
turns red the second its deadline passes, with no reload and no new fetch from the server; the
team's lead then gets the breach live (a notice on the page) and by e-mail, once."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select

from carebird.auth.models import Team
from carebird.auth.service import create_agent
from carebird.cases.models import Case, CaseEvent
from carebird.db.base import utcnow
from carebird.db.database import Database
from tests.browser.conftest import Server, sign_in
from tests.browser.desk import watch
from tests.factories import T0, case_of, customer, ingest, item
from tests.support.smtp import Received, SmtpCatcher

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one Chromium

PASSWORD = "correct horse battery"
COMPLAINT = "@Brand_SAV my parcel never arrived, this is a disgrace, I want a refund now"


def breach_mails(smtp: SmtpCatcher) -> list[Received]:
    """Wait for the breach e-mail (a warning may come first, by the watcher's timing)."""
    for count in (1, 2):
        got = smtp.wait_for(count, timeout=100)
        breached = [m for m in got if "SLA dépassé" in str(m.message["Subject"])]
        if breached:
            return breached
    return []


def test_the_countdown_turns_red_and_the_lead_is_told(
    start_server: Callable[..., Server], page: Page, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'sla.db'}"
    db = Database(url)
    try:
        db.upgrade()
        with db.session() as s, s.begin():
            lead = create_agent(
                s, email="lea@example.test", name="Léa Lead", password=PASSWORD, role="supervisor"
            )
            team = Team(name="Care", lead_id=lead.id)
            s.add(team)
            s.flush()
            team_id = team.id
        with SmtpCatcher() as smtp:
            server = start_server(
                "serve",
                database_url=url,
                CAREBIRD_ENV="test",
                CAREBIRD_SECRET_KEY=secrets.token_urlsafe(32),
                CAREBIRD_OPENING_HOURS="Mon-Sun 00:00-24:00",
                CAREBIRD_TIMEZONE="UTC",
                CAREBIRD_SLA_FIRST_RESPONSE_MINUTES="1",
                CAREBIRD_SMTP_PORT=str(smtp.port),
                CAREBIRD_PUBLIC_URL="https://desk.example",
            )
            errors, _ = watch(page)
            sign_in(page, server.url, "lea@example.test", PASSWORD)
            # A customer wrote 35 s ago: the 1-minute target is due in 25 s.
            sent = utcnow() - timedelta(seconds=35)
            minutes = (sent - T0).total_seconds() / 60
            ingest(db, [item(customer(1), COMPLAINT, minutes=minutes, external_id="late")])
            case_id = case_of(db, "late")
            with db.session() as s, s.begin():
                s.get_one(Case, case_id).team_id = team_id
            row = page.locator(f'li.case[data-id="{case_id}"]')
            sla = row.locator(".sla")
            expect(sla).to_contain_text("SLA", timeout=15_000)  # came in live
            expect(sla).not_to_have_class(re.compile(r"\blate\b"))
            assert errors == []

            fetched: list[str] = []

            def refuse(route: Route) -> None:  # from now on the page learns nothing new
                fetched.append(route.request.url)
                route.abort()

            page.route(re.compile(r".*/api/(cases|inbox).*"), refuse)
            page.evaluate("window.__sameDocument = true")
            expect(sla).to_have_class(re.compile(r"\blate\b"), timeout=40_000)
            expect(row).to_have_class(re.compile(r"\bbreached\b"))
            assert page.evaluate("window.__sameDocument") is True  # no reload
            assert sla.evaluate("e => getComputedStyle(e).color") == "rgb(201, 42, 42)"  # --late

            # The watcher (every minute in `carebird serve`) marks the breach and tells the lead.
            notice = page.locator(".toast", has_text=f"SLA dépassé sur le dossier n° {case_id}")
            expect(notice).to_be_visible(timeout=100_000)
            mails = breach_mails(smtp)
            assert [m.rcpt_tos for m in mails] == [["lea@example.test"]]
            assert f"https://desk.example/cases/{case_id}" in mails[0].body
        with db.session() as s:
            breaches = s.scalars(
                select(CaseEvent.data).where(
                    CaseEvent.case_id == case_id, CaseEvent.kind == "sla_breached"
                )
            ).all()
        assert [d["target"] for d in breaches] == ["first_response"]
    finally:
        db.dispose()
