"""In a real browser: the expected wait in the inbox header, the Staffing page's heat map and
its what-if, and the published wait page with its badge, opened without logging in."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from carebird.auth.service import create_agent
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.ingest.models import NetworkAccount
from carebird.insights.wait_store import refresh_waits
from tests.browser.conftest import Server, new_context, screenshot, sign_in
from tests.browser.desk import watch
from tests.factories import BRAND, T0, customer, ingest, item

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one Chromium

PASSWORD = "correct horse battery"
COMPLAINT = "mon colis n'est jamais arrivé, toujours rien"


def _desk(db: Database) -> int:
    """Twenty cases an hour ago, half of them answered after about 20 minutes; the account
    publishes its wait; a supervisor."""
    start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=70)
    base = (start - T0).total_seconds() / 60
    msgs = []
    for n in range(20):
        msgs.append(item(customer(n), COMPLAINT, minutes=base + n, external_id=f"b{n}"))
        if n % 2 == 0:
            msgs.append(item(BRAND, "On regarde", minutes=base + n + 20, in_reply_to_id=f"b{n}"))
    ingest(db, msgs)
    with db.session() as s, s.begin():
        create_agent(s, email="sam@example.test", name="Sam Sup", password=PASSWORD,
                     role="supervisor")  # fmt: skip
        account = s.scalars(select(NetworkAccount)).one()
        account.options = {"publish_wait": True}
        refresh_waits(s, desk=None, now=utcnow())  # the job does the same as the desk starts
        return account.id


def test_the_wait_in_the_inbox_the_staffing_page_and_the_public_page(
    start_server: Callable[..., Server], page: Page, browser: Browser, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'wait.db'}"
    db = Database(url)
    try:
        db.upgrade()
        account_id = _desk(db)
        server = start_server(
            "serve",
            database_url=url,
            CAREBIRD_ENV="test",
            CAREBIRD_SECRET_KEY=secrets.token_urlsafe(32),
            CAREBIRD_OPENING_HOURS="Mon-Sun 00:00-24:00",
        )
        errors, _ = watch(page)
        sign_in(page, server.url, "sam@example.test", PASSWORD)

        wait = page.locator("#expected-wait")
        expect(wait.locator("strong")).to_have_text("Délai estimé")
        expect(wait.locator(".wait")).to_have_count(1)
        expect(wait.locator(".wait")).to_contain_text("@Brand_SAV")
        expect(wait.locator(".wait")).to_have_text(re.compile(r"@Brand_SAV ~\d+ (min|h)"))
        screenshot(page, "inbox-wait", ready="#expected-wait")

        page.get_by_role("link", name="Effectifs").click()
        page.wait_for_url(f"{server.url}/staffing")
        expect(page.locator("h1")).to_have_text("Effectifs")
        heat = page.locator("#heatmap")
        expect(heat.locator("tbody tr")).to_have_count(7)
        expect(heat.locator("tbody tr").first.locator("td")).to_have_count(24)
        expect(heat.locator("td.heat-8")).not_to_have_count(0)  # the busiest hour, darkest
        calm = page.locator("#staffing-summary").inner_text()
        screenshot(page, "staffing", ready="#heatmap")

        page.get_by_role("link", name="Un jour d'incident (×2)").click()
        page.wait_for_url(re.compile(r"/staffing\?factor=2$"))
        expect(page.locator("input[name=factor]")).to_have_value("2.0")
        busy = page.locator("#staffing-summary").inner_text()
        assert _agent_hours(busy) >= _agent_hours(calm)
        page.locator("input[name=handle_seconds]").fill("1800")
        page.locator("form.staffing-form").get_by_role("button", name="Appliquer").click()
        page.wait_for_url(re.compile(r"handle_seconds=1800"))
        assert _agent_hours(page.locator("#staffing-summary").inner_text()) > _agent_hours(busy)
        assert errors == []

        anonymous = new_context(browser, locale="en-GB")
        try:
            public = anonymous.new_page()
            public.goto(f"{server.url}/public/wait/{account_id}")
            expect(public.locator("h1")).to_contain_text("Expected reply time")
            expect(public.locator("#wait")).to_have_text(re.compile(r"We answer within about \d+"))
            badge = public.locator("img")
            expect(badge).to_have_js_property("complete", True)
            assert badge.evaluate("img => img.naturalWidth") > 50  # the SVG drew
            public.goto(f"{server.url}/public/wait/{account_id + 1}")
            expect(public.locator("body")).to_contain_text("404", ignore_case=True)
        finally:
            anonymous.close()
    finally:
        db.dispose()


def _agent_hours(summary: str) -> int:
    found = re.search(r"(\d+) heures-agent", summary)
    assert found is not None, summary
    return int(found.group(1))
