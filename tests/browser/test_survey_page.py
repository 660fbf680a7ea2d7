"""The satisfaction survey in a real browser: the customer opens the link from their private
message on a phone with JavaScript off, without signing in, and answers with one tap; the
supervisor then reads the score on the Satisfaction page."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from carebird.auth.service import create_agent
from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.cases.routing import RoutingSetup
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.flows import casework
from carebird.ingest.models import NetworkAccount
from carebird.reply.models import OutboxItem
from carebird.reply.surveying import SurveySetup
from tests.browser.conftest import PHONE, Server, new_context, screenshot, sign_in
from tests.browser.desk import watch
from tests.factories import BRAND, BRAND_HANDLE, T0, case_of, customer, ingest, private

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one Chromium

PASSWORD = "correct horse battery"


def test_the_customer_answers_on_a_phone_without_script_and_the_lead_sees_it(
    start_server: Callable[..., Server], browser: Browser, page: Page, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    db = Database(url)
    try:
        db.upgrade()
        with db.session() as s, s.begin():
            create_agent(
                s, email="sam@example.test", name="Sam Lead", password=PASSWORD, role="supervisor"
            )
            s.add(
                NetworkAccount(
                    network="x",
                    handle=BRAND_HANDLE,
                    external_id=BRAND.external_id,
                    display_name="Ligne <Azur>",
                    options={"survey": {"enabled": True}},
                )
            )
        hour_ago = (utcnow() - T0).total_seconds() / 60 - 60
        question = "Bonjour, mon colis n'est jamais arrivé, pouvez-vous m'aider ?"
        ingest(
            db,
            [
                private(customer(1), question, minutes=hour_ago, external_id="q", language="fr"),
                private(
                    BRAND,
                    "Un nouveau colis part ce jour.",
                    minutes=hour_ago + 5,
                    in_reply_to_id="q",
                ),
            ],
        )
        server = start_server(
            "serve", database_url=url, CAREBIRD_ENV="test",
            CAREBIRD_SECRET_KEY=secrets.token_urlsafe(32),
        )  # fmt: skip
        with db.session() as s, s.begin():
            casework.update_case(
                s,
                case_id=case_of(db, "q"),
                changes={"status": "resolved"},
                actor_id=None,
                weights=DEFAULT_WEIGHTS,
                routing=RoutingSetup(),
                survey=SurveySetup(public_url=server.url),
            )
        with db.session() as s:
            text = s.scalars(select(OutboxItem.text).where(OutboxItem.purpose == "survey")).one()
        found = re.search(r"(http://\S+/survey/\S+)$", text)
        assert found is not None, text
        link = found.group(1)

        phone = new_context(browser, java_script_enabled=False)
        customer_page = phone.new_page()
        customer_page.set_viewport_size(PHONE)
        customer_page.goto(link)
        expect(customer_page.locator("h1")).to_have_text(
            "Êtes-vous satisfait(e) de la réponse de Ligne <Azur> ?"
        )
        expect(customer_page.locator("button[name=score]")).to_have_count(5)
        screenshot(customer_page, "survey-phone", ready="form.survey-form")
        customer_page.get_by_role("button", name="4 — Satisfait(e)").click()
        expect(customer_page.locator("p[role=status]")).to_contain_text("4 sur 5")
        screenshot(customer_page, "survey-phone-thanks")
        customer_page.goto(link)
        expect(customer_page.locator("h1")).to_have_text("Réponse déjà envoyée")
        phone.close()

        errors, _ = watch(page)
        sign_in(page, server.url, "sam@example.test", PASSWORD)
        page.get_by_role("link", name="Satisfaction").click()
        page.wait_for_url(re.compile(r"/satisfaction"))
        expect(page.locator("p.overall")).to_contain_text("4 / 5")
        expect(page.locator("p.overall")).to_have_attribute("data-responses", "1")
        expect(page.locator(".satisfaction-by_account")).to_contain_text(f"@{BRAND_HANDLE}")
        screenshot(page, "satisfaction", ready="p.overall")
        assert errors == []
    finally:
        db.dispose()
