"""The dashboard in a real browser: a supervisor reads the period's figures, follows a tile and
a chart's bar to the cases behind them, and opens the printable weekly report."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from carebird.auth.service import create_agent
from carebird.db.database import Database
from carebird.ingest.base import AuthorInfo
from carebird.ingest.models import NetworkAccount
from tests.browser.conftest import Server, screenshot, sign_in
from tests.browser.desk import watch
from tests.factories import BRAND, case_of, customer, ingest, item

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one Chromium

PASSWORD = "correct horse battery"
HOSTILE = AuthorInfo("evil", "<img src=x onerror=alert(1)>", "<script>alert(1)</script>")
PERIOD = "from=2026-03-01&to=2026-03-08"


def seed(db: Database) -> tuple[int, int]:
    ingest(db, [
        item(customer(1), "Mon colis n'est jamais arrivé, je suis furieux", external_id="a1"),
        item(BRAND, "Votre colis repart aujourd'hui, suivi par e-mail.", minutes=20,
             external_id="a2", in_reply_to_id="a1"),
        item(customer(2), "Panne internet depuis ce matin, aidez-moi", minutes=60,
             external_id="b1"),
        item(BRAND, "Bonjour, merci de nous écrire en message privé.", minutes=65,
             external_id="b2", in_reply_to_id="b1"),
        item(HOSTILE, "Ma facture est fausse, remboursez-moi", minutes=24 * 60 + 5,
             external_id="c1"),
    ])  # fmt: skip
    return case_of(db, "b1"), case_of(db, "c1")


def test_a_supervisor_reads_the_dashboard_and_drills_down(
    start_server: Callable[..., Server], page: Page, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'dashboard.db'}"
    db = Database(url)
    try:
        db.upgrade()
        with db.session() as s, s.begin():
            create_agent(s, email="sam@example.test", name="Sam Martin", password=PASSWORD,
                         role="supervisor")  # fmt: skip
        contact_only, hostile = seed(db)
        server = start_server(
            "serve",
            database_url=url,
            CAREBIRD_ENV="test",
            CAREBIRD_SECRET_KEY=secrets.token_urlsafe(32),
            CAREBIRD_TIMEZONE="UTC",
            CAREBIRD_ACCURATE_TIER="false",
        )
        errors, dialogs = watch(page)
        sign_in(page, server.url, "sam@example.test", PASSWORD)
        page.get_by_role("link", name="Tableau de bord").click()
        page.wait_for_url(f"{server.url}/dashboard")
        expect(page.locator("h1")).to_have_text("Tableau de bord")
        page.goto(f"{server.url}/dashboard?{PERIOD}")
        expect(page.locator('.tile[data-key="cases"] .n')).to_have_text("3")
        expect(page.locator('.tile[data-key="support_cases"] .n')).to_have_text("3")
        # One answered in 20 min; a bare "write to us privately" and a silent case: no answers.
        expect(page.locator('.tile[data-key="answered_within_1h"] .n')).to_have_text("33 %")
        expect(page.locator('.tile[data-key="silence_rate"] .n')).to_have_text("67 %")
        expect(page.locator('.tile[data-key="contact_only"] .n')).to_have_text("1")
        expect(page.locator("svg.chart")).to_have_count(7)
        screenshot(page, "dashboard", ready="svg.chart")

        page.locator('.tile[data-key="contact_only"]').click()
        page.wait_for_url(re.compile(r"/dashboard/cases\?.*slice=contact_only"))
        expect(page.locator("tr.drill-case")).to_have_count(1)
        expect(page.locator("tr.drill-case")).to_have_attribute("data-case-id", str(contact_only))
        page.get_by_role("link", name="Retour au tableau de bord").click()
        page.wait_for_url(re.compile(r"/dashboard\?"))

        # The "never answered" column of the first-answer chart lists the two silent cases,
        # the hostile handle shown as text.
        page.locator("#first-response svg a").last.click()
        page.wait_for_url(re.compile(r"slice=silent"))
        expect(page.locator("tr.drill-case")).to_have_count(2)
        row = page.locator(f'tr.drill-case[data-case-id="{hostile}"]')
        expect(row).to_contain_text("@<img src=x onerror=alert(1)>")
        expect(page.locator("main img")).to_have_count(0)
        screenshot(page, "dashboard-cases", ready="tr.drill-case")

        page.goto(f"{server.url}/dashboard/report?week=2026-W10")
        expect(page.locator("h1")).to_have_text("Rapport hebdomadaire 2026-W10")
        expect(page.locator("table.summary tbody tr").first.locator("td.now")).to_have_text("3")
        screenshot(page, "dashboard-report", ready="table.summary")

        assert errors == [] and dialogs == []
        bad = page.goto(f"{server.url}/dashboard?category=%3Cb%3E")  # after: a 404/422 logs
        assert bad is not None and bad.status == 422
        public_page(page, server, db)
    finally:
        db.dispose()


def public_page(page: Page, server: Server, db: Database) -> None:
    """The transparency page: 404 until the account opts in, then readable by anyone."""
    assert page.context.browser is not None
    anonymous = page.context.browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        shut = anonymous.new_page().goto(f"{server.url}/public/transparency/Brand_SAV")
        assert shut is not None and shut.status == 404
        visitor = anonymous.new_page()
        errors, dialogs = watch(visitor)
        with db.session() as s, s.begin():
            account = s.scalars(select(NetworkAccount)).one()
            account.options = {**(account.options or {}), "publish_transparency": True}
            account.display_name = "<i>Brand</i> support"
        shown = visitor.goto(f"{server.url}/public/transparency/Brand_SAV")
        assert shown is not None and shown.status == 200
        assert shown.headers["cache-control"] == "private, max-age=300"
        expect(visitor.locator("h1")).to_contain_text("<i>Brand</i> support")
        expect(visitor.locator("main i")).to_have_count(0)
        expect(visitor.locator("header nav")).to_have_count(0)  # nobody is signed in
        screenshot(visitor, "transparency", ready="h1")
        assert errors == [] and dialogs == []
    finally:
        anonymous.close()
