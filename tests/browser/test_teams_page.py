"""The Teams page in a real browser: an admin creates a team, adds two agents, sets round robin,
marks one away; writes a routing rule sending complaints to the team on the Routing page and
tries it; the next complaint opens routed to the team and assigned to the available member."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from carebird.auth.models import Agent, Team
from carebird.auth.service import create_agent
from carebird.cases.models import Case, CaseEvent
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.flows.teams import set_status
from tests.browser.conftest import Server, screenshot, sign_in
from tests.browser.desk import watch
from tests.factories import T0, case_of, customer, ingest, item

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one Chromium

PASSWORD = "correct horse battery"
COMPLAINT = "@Brand_SAV my parcel never arrived, this is a disgrace, I want a refund now"


def test_an_admin_sets_up_a_team_and_a_routed_complaint_is_assigned(
    start_server: Callable[..., Server], page: Page, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'teams.db'}"
    db = Database(url)
    try:
        db.upgrade()
        with db.session() as s, s.begin():
            create_agent(
                s, email="ada@example.test", name="Ada Admin", password=PASSWORD, role="admin"
            )
            for email, name in (("ana@example.test", "Ana Lefèvre"),
                                ("ben@example.test", "Ben Carter")):  # fmt: skip
                create_agent(s, email=email, name=name, password=None, role="agent")
        yesterday = (utcnow() - T0).total_seconds() / 60 - 24 * 60
        ingest(db, [item(customer(1), COMPLAINT, minutes=yesterday, external_id="old")])
        server = start_server(
            "serve",
            database_url=url,
            CAREBIRD_ENV="test",
            CAREBIRD_SECRET_KEY=secrets.token_urlsafe(32),
        )
        errors, dialogs = watch(page)
        sign_in(page, server.url, "ada@example.test", PASSWORD)

        page.get_by_role("link", name="Équipes").click()
        page.wait_for_url(f"{server.url}/teams")
        expect(page.locator("p.empty")).to_contain_text("Aucune équipe")
        page.locator("form.new-team input[name=name]").fill("Réclamations")
        page.get_by_role("button", name="Créer l'équipe").click()
        page.wait_for_url(re.compile(r"/teams\?done=created"))
        team = page.locator('section.team[data-team="Réclamations"]')
        for name, email in (("Ana Lefèvre", "ana"), ("Ben Carter", "ben")):
            team.locator("form.add-member select[name=agent_id]").select_option(
                label=f"{name} ({email}@example.test)"
            )
            team.get_by_role("button", name="Ajouter à l'équipe").click()
            page.wait_for_url(re.compile(r"/teams\?done=member"))
        expect(team.locator("tr.member")).to_have_count(2)
        settings = team.locator("form.team-settings")
        settings.locator("select[name=assignment]").select_option("round_robin")
        settings.locator("input[name=max_open_per_agent]").fill("3")
        settings.get_by_role("button", name="Enregistrer").click()
        page.wait_for_url(re.compile(r"/teams\?done=saved"))
        expect(settings.locator("select[name=assignment] option:checked")).to_have_text(
            "À tour de rôle"
        )
        ana = team.locator('tr.member[data-email="ana@example.test"]')
        ana.locator("select[name=status]").select_option("away")
        ana.get_by_role("button", name="Appliquer").click()
        page.wait_for_url(re.compile(r"/teams\?done=status"))
        expect(ana).to_have_attribute("data-status", "away")
        expect(ana.locator("select[name=status] option:checked")).to_have_text("Absent")
        screenshot(page, "teams", ready="section.team")

        page.get_by_role("link", name="Orientation").click()
        page.wait_for_url(f"{server.url}/routing")
        form = page.locator("form.rule-form")
        form.locator("input[name=name]").fill("Plaintes à l'équipe")
        form.locator("select[name=category]").select_option("complaint")
        form.locator("select[name=team]").select_option("Réclamations")
        form.get_by_role("button", name="Essai à blanc (7 derniers jours)").click()
        dry = page.locator("#dry-run")
        expect(dry.locator("tr.match")).to_have_count(1)
        expect(dry.locator("tr.match")).to_have_attribute("data-case-id", str(case_of(db, "old")))
        page.locator("form.rule-form").get_by_role("button", name="Enregistrer la règle").click()
        page.wait_for_url(re.compile(r"/routing\?done=saved"))

        ingest(db, [item(customer(2), COMPLAINT, minutes=yesterday + 60, external_id="new")])
        new = case_of(db, "new")
        with db.session() as s:
            case = s.get_one(Case, new)
            assert s.get_one(Team, case.team_id or 0).name == "Réclamations"
            ben = s.scalar(select(Agent.id).where(Agent.email == "ben@example.test"))
            assert case.assignee_id == ben  # Ana is away: Ben, the available member
            auto = s.scalar(
                select(CaseEvent.data).where(CaseEvent.case_id == new, CaseEvent.kind == "assigned")
            )
            assert auto == {"auto": "round_robin"}
        page.goto(f"{server.url}/cases/{new}")
        expect(page.locator("#team-select option:checked")).to_have_text("Réclamations")
        expect(page.locator("#assignee-select option:checked")).to_have_text("Ben Carter")

        page.goto(f"{server.url}/teams")
        ben_row = page.locator('tr.member[data-email="ben@example.test"]')
        expect(ben_row.locator("td.num")).to_have_text("1")

        # Set away elsewhere (a supervisor, another tab): the open inbox's header follows.
        page.get_by_role("link", name="Boîte de réception").click()
        page.wait_for_url(f"{server.url}/")
        expect(page.locator("#live-state")).to_have_attribute("data-state", "open")
        expect(page.locator("form.my-status")).to_have_attribute("data-status", "available")
        with db.session() as s, s.begin():
            ada = s.scalars(select(Agent).where(Agent.email == "ada@example.test")).one()
            set_status(s, actor=ada, agent_id=ada.id, status="away")
        expect(page.locator("form.my-status")).to_have_attribute("data-status", "away")
        expect(page.locator("form.my-status select option:checked")).to_have_text("Absent")
        assert errors == [] and dialogs == []
    finally:
        db.dispose()
