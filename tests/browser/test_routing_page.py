"""The Routing page in a real browser: a supervisor writes a rule, runs its dry run, saves it,
and the next case that opens is routed to the team (declared in the settings)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from carebird.auth.models import Team
from carebird.auth.service import create_agent
from carebird.cases.models import Case
from carebird.db.base import utcnow
from carebird.db.database import Database
from tests.browser.conftest import Server, screenshot, sign_in
from tests.browser.desk import watch
from tests.factories import T0, case_of, customer, ingest, item

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one Chromium

PASSWORD = "correct horse battery"
COMPLAINT = "@Brand_SAV my parcel never arrived, this is a disgrace, I want a refund now"


def test_a_supervisor_writes_a_rule_tries_it_and_the_next_case_is_routed(
    start_server: Callable[..., Server], page: Page, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'routing.db'}"
    db = Database(url)
    try:
        db.upgrade()
        with db.session() as s, s.begin():
            create_agent(
                s, email="sam@example.test", name="Sam Lead", password=PASSWORD, role="supervisor"
            )
        yesterday = (utcnow() - T0).total_seconds() / 60 - 24 * 60
        ingest(db, [item(customer(1), COMPLAINT, minutes=yesterday, external_id="old")])
        ingest(db, [item(customer(2), "Bonjour, vos horaires ?", minutes=yesterday)])
        server = start_server(
            "serve",
            database_url=url,
            CAREBIRD_ENV="test",
            CAREBIRD_SECRET_KEY=secrets.token_urlsafe(32),
            CAREBIRD_TEAMS='[{"name": "Escalations"}]',  # created when the desk starts
        )
        errors, dialogs = watch(page)
        sign_in(page, server.url, "sam@example.test", PASSWORD)

        page.get_by_role("link", name="Orientation").click()
        page.wait_for_url(f"{server.url}/routing")
        expect(page.locator("p.empty")).to_contain_text("Aucune règle")
        form = page.locator("form.rule-form")
        form.locator("input[name=name]").fill("Plaintes anglaises")
        form.locator("select[name=category]").select_option("complaint")
        form.locator("input[name=language]").fill("en")
        form.locator("select[name=team]").select_option("Escalations")

        form.get_by_role("button", name="Essai à blanc (7 derniers jours)").click()
        dry = page.locator("#dry-run")
        expect(dry.locator("h3")).to_contain_text("1 cas")
        expect(dry.locator("tr.match")).to_have_count(1)
        expect(dry.locator("tr.match")).to_have_attribute("data-case-id", str(case_of(db, "old")))
        with db.session() as s:  # a dry run changes nothing
            assert s.scalar(select(Case.team_id).where(Case.id == case_of(db, "old"))) is None

        page.locator("form.rule-form").get_by_role("button", name="Enregistrer la règle").click()
        page.wait_for_url(re.compile(r"/routing\?done=saved"))
        expect(page.locator("p.notice.done")).to_contain_text("La règle est enregistrée")
        expect(page.locator('tr.rule[data-name="Plaintes anglaises"]')).to_contain_text(
            "Escalations"
        )
        screenshot(page, "routing", ready="tr.rule")

        ingest(db, [item(customer(3), COMPLAINT, minutes=yesterday + 60, external_id="new")])
        with db.session() as s:
            team = s.scalar(
                select(Team.name)
                .join(Case, Case.team_id == Team.id)
                .where(Case.id == case_of(db, "new"))
            )
        assert team == "Escalations"
        page.goto(f"{server.url}/cases/{case_of(db, 'new')}")
        expect(page.locator("#team-select option:checked")).to_have_text("Escalations")

        page.goto(f"{server.url}/routing")
        rule = page.locator('tr.rule[data-name="Plaintes anglaises"]')
        rule.get_by_role("button", name="Désactiver").click()
        page.wait_for_url(re.compile(r"/routing\?done=switched"))
        expect(rule).to_have_class(re.compile(r"\boff\b"))
        ingest(db, [item(customer(4), COMPLAINT, minutes=yesterday + 90, external_id="off")])
        with db.session() as s:  # a rule switched off routes nothing
            assert s.scalar(select(Case.team_id).where(Case.id == case_of(db, "off"))) is None
        rule.get_by_role("button", name="Supprimer").click()
        page.wait_for_url(re.compile(r"/routing\?done=deleted"))
        expect(page.locator("tr.rule")).to_have_count(0)
        assert errors == [] and dialogs == []
    finally:
        db.dispose()
