"""The System page in a real browser: an admin finds a failed reply and sends it again."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from carebird.auth.service import create_agent
from carebird.cases.models import CaseEvent
from carebird.db.database import Database
from carebird.reply.models import OutboxItem
from carebird.reply.outbox import queue_reply
from tests.browser.conftest import Server, screenshot, sign_in
from tests.browser.desk import watch
from tests.factories import case_of, customer, ingest, item

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one Chromium

PASSWORD = "correct horse battery"
REASON = "InvalidInput: <b>refusé</b> par le réseau"


def test_an_admin_retries_a_failed_reply_from_the_system_page(
    start_server: Callable[..., Server], page: Page, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'system.db'}"
    db = Database(url)
    try:
        db.upgrade()
        with db.session() as s, s.begin():
            create_agent(
                s, email="rose@example.test", name="Rose Admin", password=PASSWORD, role="admin"
            )
        ingest(db, [item(customer(1), "mon colis n'est jamais arrivé", external_id="s1")])
        case_id = case_of(db, "s1")
        with db.session() as s, s.begin():
            row = queue_reply(s, case_id=case_id, text="Nous regardons votre colis")
            row.status, row.attempts, row.last_error = "failed", 8, REASON
            s.flush()
            reply_id = row.id
        server = start_server(
            "serve",
            database_url=url,
            CAREBIRD_ENV="test",
            CAREBIRD_SECRET_KEY=secrets.token_urlsafe(32),
        )
        errors, dialogs = watch(page)
        sign_in(page, server.url, "rose@example.test", PASSWORD)

        page.get_by_role("link", name="Système").click()
        page.wait_for_url(f"{server.url}/system")
        expect(page.locator("h1")).to_have_text("Système")
        stuck = page.locator(f'tr.stuck-reply[data-id="{reply_id}"]')
        expect(stuck).to_contain_text("En échec")
        expect(stuck.locator("td.reason")).to_have_text(REASON)  # text, never markup
        expect(stuck.locator("b")).to_have_count(0)
        expect(stuck.get_by_role("link", name=f"Cas {case_id}")).to_have_attribute(
            "href", f"/cases/{case_id}"
        )
        expect(page.locator('li.count[data-status="failed"] .n')).to_have_text("1")
        screenshot(page, "system", ready="tr.stuck-reply")

        stuck.get_by_role("button", name="Réessayer").click()
        page.wait_for_url(re.compile(r"/system\?done=retried"))
        expect(page.locator("p.notice.done")).to_have_text(
            f"La réponse {reply_id} est de nouveau en file d’envoi."
        )
        expect(page.locator(f'tr.stuck-reply[data-id="{reply_id}"]')).to_have_count(0)
        expect(page.locator('li.count[data-status="failed"] .n')).to_have_text("0")
        expect(page.get_by_text("Aucune réponse en échec ou incertaine.")).to_be_visible()
        with db.session() as s:
            saved = s.get(OutboxItem, reply_id)
            assert saved is not None and saved.status != "failed"
            kinds = s.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)).all()
        assert "reply_retried" in kinds
        assert errors == [] and dialogs == []
    finally:
        db.dispose()
