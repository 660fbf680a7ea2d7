"""The Accounts page in a real browser: an admin connects an X account through OAuth 2.0 with
PKCE (the browser goes to the local X peer's consent page and back), a Mastodon account through
mastodon-mock's authorisation page, a Bluesky account with an app password; each appears in the
list, its credentials sealed in the database, and the desk polls it. Then the admin sets an
account's opening hours (a bad value told, a good one saved) and disconnects another."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from carebird.auth.service import create_agent
from carebird.crypto import unseal
from carebird.db.database import Database
from carebird.ingest.accounts import account_spec, list_accounts
from carebird.ingest.models import NetworkAccount
from carebird.plugins import connector_class
from tests.browser.conftest import Server, free_port, screenshot, sign_in
from tests.browser.desk import watch
from tests.support.bluesky_harness import BRAND as BSKY_BRAND
from tests.support.bluesky_harness import BRAND_PASSWORD, BlueskyHarness
from tests.support.mastodon_harness import BRAND as MASTO_BRAND
from tests.support.mastodon_harness import MastodonHarness
from tests.support.x_harness import BRAND as X_BRAND
from tests.support.x_harness import XHarness

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one Chromium

PASSWORD = "correct horse battery"
CLIENT = "desk-x-app"


def polled(db: Database, account: NetworkAccount, secret_key: str) -> set[str]:
    """What the desk reads from the account's mentions, as its poller would."""
    spec = account_spec(db, account, secret_key=secret_key)
    cls = connector_class(account.network)
    connector = cls(spec, cls.streams(spec)[0])
    try:
        return {i.external_id for i in connector.fetch(None).items}
    finally:
        if hasattr(connector, "close"):
            connector.close()


def test_an_admin_connects_x_mastodon_and_bluesky_accounts(
    start_server: Callable[..., Server], page: Page, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    db = Database(url)
    key = secrets.token_urlsafe(32)
    with XHarness() as x, MastodonHarness() as m, BlueskyHarness() as b:
        x.peer.tokens.clients[CLIENT] = None
        x.peer.tokens.approver = x.brand_user.id  # signed in on X: the consent is given
        x_ids = set(x.post_mentions(2))
        m_ids = set(m.post_mentions(2))
        b_ids = set(b.post_mentions(2))
        try:
            db.upgrade()
            with db.session() as s, s.begin():
                create_agent(
                    s, email="ada@example.test", name="Ada Admin", password=PASSWORD, role="admin"
                )
            port = free_port()
            server = start_server(
                "serve",
                database_url=url,
                port=port,
                CAREBIRD_ENV="test",
                CAREBIRD_SECRET_KEY=key,
                CAREBIRD_PUBLIC_URL=f"http://127.0.0.1:{port}",
                CAREBIRD_X_CLIENT_ID=CLIENT,
                CAREBIRD_X_API_URL=x.peer.base_url,
                CAREBIRD_X_AUTHORIZE_URL=f"{x.peer.base_url}/i",
            )
            errors, dialogs = watch(page)
            sign_in(page, server.url, "ada@example.test", PASSWORD)
            page.get_by_role("link", name="Comptes").click()
            page.wait_for_url(f"{server.url}/accounts")
            expect(page.locator("p.empty")).to_contain_text("Aucun compte")

            # X: off to the peer's consent page, back on the desk's callback.
            page.get_by_role("button", name="Connecter un compte X").click()
            page.wait_for_url(f"{server.url}/accounts?done=connected")
            expect(page.locator('tr.account[data-network="x"]')).to_contain_text(X_BRAND)

            # Mastodon: the instance's address, then mastodon-mock's account picker.
            page.locator("form.connect-mastodon input[name=instance]").fill(m.base_url)
            page.get_by_role("button", name="Connecter un compte Mastodon").click()
            page.wait_for_url(re.compile(re.escape(m.base_url) + r"/oauth/authorize"))
            page.get_by_role("button", name=re.compile(f"@{MASTO_BRAND}")).click()
            page.wait_for_url(f"{server.url}/accounts?done=connected")
            row = page.locator('tr.account[data-network="mastodon"]')
            expect(row).to_contain_text(f"{MASTO_BRAND}@127.0.0.1")

            # Bluesky: a wrong app password is told; the right one connects.
            form = page.locator("form.connect-bluesky")
            form.locator("input[name=handle]").fill(BSKY_BRAND)
            form.locator("input[name=app_password]").fill("wrong-pass")
            form.locator("input[name=service]").fill(b.peer.url)
            form.get_by_role("button").click()
            expect(page.locator("p.notice.error")).to_contain_text("refused")
            form = page.locator("form.connect-bluesky")
            form.locator("input[name=handle]").fill(BSKY_BRAND)
            form.locator("input[name=app_password]").fill(BRAND_PASSWORD)
            form.locator("input[name=service]").fill(b.peer.url)
            form.get_by_role("button").click()
            page.wait_for_url(f"{server.url}/accounts?done=connected")
            expect(page.locator("tr.account")).to_have_count(3)
            expect(page.locator("main")).not_to_contain_text(BRAND_PASSWORD)

            with db.session() as s:
                accounts = {a.network: a for a in list_accounts(s)}
            assert accounts["x"].external_id == x.brand_user.id
            assert accounts["mastodon"].external_id == str(m.brand_account_id)
            assert accounts["bluesky"].external_id == b.brand_account.did
            with db.engine.connect() as conn:
                stored = " ".join(
                    conn.execute(text("SELECT credentials FROM network_accounts")).scalars()
                )
            for account in accounts.values():
                secret = unseal(key, account.credentials)
                assert secret and all(v not in stored for v in secret.values() if len(v) > 8)
            assert BRAND_PASSWORD not in stored
            assert polled(db, accounts["x"], key) >= x_ids
            assert polled(db, accounts["mastodon"], key) >= m_ids
            assert polled(db, accounts["bluesky"], key) >= b_ids

            # Settings: a bad opening-hours spec is refused, a good one saved.
            settings = page.locator("tr.account-settings").nth(1)
            settings.locator("summary").click()
            settings.locator("input[name=opening_hours]").fill("tous les jours")
            settings.get_by_role("button", name="Enregistrer", exact=True).click()
            expect(page.locator("p.notice.error")).to_contain_text("cannot read opening hours")
            settings = page.locator("tr.account-settings").nth(1)
            settings.locator("summary").click()
            settings.locator("input[name=opening_hours]").fill("lun-ven 09:00-18:00")
            settings.locator("input[name=holidays]").fill("12-25, 2026-12-31")
            settings.locator("textarea[name=listening]").fill("Ligne Azur\n#LigneAzur")
            settings.get_by_role("button", name="Enregistrer", exact=True).click()
            page.wait_for_url(f"{server.url}/accounts?done=saved")
            with db.session() as s:
                mastodon = next(a for a in list_accounts(s) if a.network == "mastodon")
            assert mastodon.options["opening_hours"] == "lun-ven 09:00-18:00"
            assert mastodon.options["holidays"] == ["12-25", "2026-12-31"]
            assert mastodon.options["listening"] == ["Ligne Azur", "#LigneAzur"]
            # Acknowledgements of private messages switched on for the Mastodon account.
            settings = page.locator("tr.account-settings").nth(1)
            settings.locator("summary").click()
            settings.get_by_label("Messages privés").check()
            settings.get_by_role("button", name="Enregistrer l'accusé de réception").click()
            page.wait_for_url(f"{server.url}/accounts?done=acknowledgement")
            with db.session() as s:
                mastodon = next(a for a in list_accounts(s) if a.network == "mastodon")
            assert mastodon.options["acknowledge"]["private"] is True
            assert mastodon.options["acknowledge"]["public"] is False
            screenshot(page, "accounts", ready="tr.account")

            # Disconnecting the Bluesky account forgets its credentials.
            settings = page.locator("tr.account-settings").nth(2)
            settings.locator("summary").click()
            settings.get_by_role("button", name="Déconnecter").click()
            page.wait_for_url(f"{server.url}/accounts?done=disconnected")
            expect(page.locator('tr.account[data-network="bluesky"] td.state')).to_have_text(
                "Déconnecté"
            )
            with db.session() as s:
                gone = next(a for a in list_accounts(s) if a.network == "bluesky")
            assert gone.credentials is None and not gone.active
            # mastodon-mock's picker page has no favicon: only the desk's pages count here.
            assert [e for e in errors if m.base_url not in e] == [] and dialogs == []
        finally:
            db.dispose()
