"""The People page in a real browser: an admin invites an agent, the invitation arrives on a
real SMTP server, the agent opens its link in another browser, chooses a password and signs
in for the first time; the link then refuses a second use."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from carebird.auth.service import create_agent
from carebird.db.database import Database
from tests.browser.conftest import Server, free_port, new_context, screenshot, sign_in
from tests.browser.desk import watch
from tests.support.smtp import SmtpCatcher

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one Chromium

PASSWORD = "correct horse battery"
NEW_PASSWORD = "the agent's own secret"


def test_an_admin_invites_an_agent_who_sets_a_password_and_signs_in(
    start_server: Callable[..., Server], page: Page, browser: Browser, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'people.db'}"
    db = Database(url)
    try:
        db.upgrade()
        with db.session() as s, s.begin():
            create_agent(
                s, email="root@example.test", name="Rose Admin", password=PASSWORD, role="admin"
            )
        with SmtpCatcher() as smtp:
            port = free_port()
            server = start_server(
                "serve",
                database_url=url,
                port=port,
                CAREBIRD_ENV="test",
                CAREBIRD_SECRET_KEY=secrets.token_urlsafe(32),
                CAREBIRD_SMTP_PORT=str(smtp.port),
                CAREBIRD_PUBLIC_URL=f"http://127.0.0.1:{port}",
                CAREBIRD_MAIL_FROM="desk@example.test",
            )
            errors, dialogs = watch(page)
            sign_in(page, server.url, "root@example.test", PASSWORD)
            page.get_by_role("link", name="Personnes").click()
            page.wait_for_url(f"{server.url}/people")

            form = page.locator("form.invite-form")
            form.locator("input[name=email]").fill("hugo@example.test")
            form.locator("input[name=name]").fill("Hugo <Petit>")
            form.locator("select[name=role]").select_option("agent")
            form.locator("select[name=locale]").select_option("fr")
            form.get_by_role("button", name="Envoyer l'invitation").click()
            page.wait_for_url(re.compile(r"/people\?done=invited"))
            expect(page.locator("p.notice.done")).to_contain_text("L'invitation est envoyée")
            row = page.locator('tr.person[data-email="hugo@example.test"]')
            expect(row).to_contain_text("Hugo <Petit>")  # shown as text, not markup
            expect(row.locator(".badge")).to_have_text("Invitation en attente")
            screenshot(page, "people", ready="tr.person")

            mail = smtp.wait_for(1)[0]
            assert mail.rcpt_tos == ["hugo@example.test"]
            assert "Rose Admin vous invite" in mail.body
            found = re.search(rf"{re.escape(server.url)}/password/cb_[A-Za-z0-9_-]+", mail.body)
            assert found is not None, mail.body
            link = found.group()

            invited = new_context(browser)  # the agent's own browser: never signed in
            try:
                hugo = invited.new_page()
                hugo_errors, hugo_dialogs = watch(hugo)
                hugo.goto(link)
                expect(hugo.locator("p.hint").first).to_contain_text("hugo@example.test")
                hugo.locator("input[name=password]").fill(NEW_PASSWORD)
                hugo.locator("input[name=confirm]").fill(NEW_PASSWORD)
                hugo.get_by_role("button", name="Enregistrer mon mot de passe").click()
                expect(hugo.locator("p.notice.done")).to_contain_text(
                    "Votre mot de passe est enregistré"
                )
                hugo.get_by_role("link", name="Connexion").click()
                hugo.wait_for_url(re.compile(r"/login"))
                sign_in(hugo, server.url, "hugo@example.test", NEW_PASSWORD)
                expect(hugo.locator(".who")).to_contain_text("Hugo <Petit>")
                expect(hugo.get_by_role("link", name="Personnes")).to_have_count(0)  # not admin

                hugo.goto(link)  # used once: refused clearly
                expect(hugo.locator("p.refused")).to_contain_text("déjà été utilisé")
                # The refusal page's 410 is logged as a failed load; nothing else may be.
                assert [e for e in hugo_errors if "status of 410" not in e] == []
                assert hugo_dialogs == []
            finally:
                invited.close()

            page.reload()
            expect(row.locator(".badge")).to_have_text("Compte actif")
            assert errors == [] and dialogs == []
    finally:
        db.dispose()
