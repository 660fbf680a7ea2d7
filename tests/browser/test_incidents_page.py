"""Incidents in a real browser, through `carebird serve`: a simulated burst shows in the inbox
as one incident row that expands to its cases; on its page one reply goes to all its cases
(each case gets exactly one outbox row, in its own thread) and closing it resolves them."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from carebird.auth.service import create_agent
from carebird.cases import incidents
from carebird.cases.models import Case
from carebird.db.database import Database
from carebird.flows.intake import drain
from carebird.ingest.models import Message
from carebird.ingest.sim.network import SimulatedNetwork
from carebird.jobs.runner import register_accounts
from carebird.reply.models import OutboxItem
from tests.browser.conftest import Server, screenshot, sign_in
from tests.browser.desk import watch
from tests.factories import intake_for

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one Chromium

PASSWORD = "correct horse battery"


def _burst(db: Database) -> incidents.IncidentRow:
    """Simulated traffic through the intake; the incident the simulator's truth backs most."""
    sim = SimulatedNetwork(seed=11, limit_total=3000)
    register_accounts(db, sim)
    drain(db, sim, intake=intake_for())
    with db.session() as s:
        truth = {
            ext: (raw.get("sim") or {}).get("incident")
            for ext, raw in s.execute(select(Message.external_id, Message.raw))
        }
        rows = incidents.list_incidents(s, status="open", limit=1000)
    return max(rows, key=lambda r: sum(1 for e in r.external_ids if truth[e]))


def test_a_burst_is_one_row_answered_once_per_case_and_closed(
    start_server: Callable[..., Server], page: Page, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    db = Database(url)
    try:
        db.upgrade()
        row = _burst(db)
        assert row.count >= 5
        with db.session() as s, s.begin():
            create_agent(s, email="ana@example.test", name="Ana", password=PASSWORD, role="agent")
        server = start_server(
            "serve",
            "--no-worker",
            database_url=url,
            CAREBIRD_ENV="test",
            CAREBIRD_SECRET_KEY=secrets.token_urlsafe(32),
        )
        errors, _ = watch(page)
        sign_in(page, server.url, "ana@example.test", PASSWORD)
        incident_row = page.locator(f'li.incident-row[data-incident-id="{row.id}"]')
        expect(incident_row).to_be_visible()
        expect(incident_row.locator(".incident-title")).to_have_text(row.title)
        expect(incident_row.locator(".incident-count")).to_contain_text(str(row.count))
        members = incident_row.locator(".incident-members a")
        expect(members.first).not_to_be_visible()  # folded: one row for the whole burst
        incident_row.locator("summary").click()
        expect(members).to_have_count(row.count)

        incident_row.locator(".incident-title").click()
        page.wait_for_url(f"{server.url}/incidents/{row.id}")
        expect(page.locator("svg.incident-volume rect").first).to_be_attached()
        expect(page.locator("table.incident-cases tbody tr")).to_have_count(row.count)
        page.locator("#reply-text").fill("Bonjour {customer_name}, la panne est connue.")
        page.locator("#reply-preview").click()
        expect(page.locator("#reply-result")).to_contain_text("$")
        expect(page.locator("#reply-send")).to_be_enabled()
        screenshot(page, "incident", ready="svg.incident-volume")
        page.locator("#reply-send").click()
        expect(page.locator("#reply-result")).to_have_attribute("data-queued", str(row.count))
        with db.session() as s:
            items = s.scalars(select(OutboxItem).where(OutboxItem.case_id.in_(row.case_ids))).all()
            assert Counter(i.case_id for i in items) == Counter(row.case_ids)  # one each
            for i in items:
                own = set(
                    s.scalars(select(Message.external_id).where(Message.case_id == i.case_id))
                )
                assert i.in_reply_to_id in own  # in the case's own thread
                assert "{customer_name}" not in i.text

        page.locator("#close-text").fill("C'est réparé, merci de votre patience.")
        page.locator("#incident-close").click()
        expect(page.locator("#incident-status")).to_have_attribute("data-status", "closed")
        expect(page.locator("td.case-status").first).to_have_attribute("data-status", "resolved")
        with db.session() as s:
            statuses = set(s.scalars(select(Case.status).where(Case.id.in_(row.case_ids))))
            finals = s.scalars(
                select(OutboxItem.case_id).where(
                    OutboxItem.case_id.in_(row.case_ids),
                    OutboxItem.idempotency_key.like(f"inc{row.id}:final:%"),
                )
            ).all()
        assert statuses == {"resolved"}
        assert Counter(finals) == Counter(row.case_ids)
        assert errors == []
    finally:
        db.dispose()
