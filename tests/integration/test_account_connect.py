"""Connecting accounts from the Accounts page and the API, against the local peers: X through
OAuth 2.0 with PKCE (state checked, callbacks not replayable, a refusal told), Mastodon through
mastodon-mock (app registered once per instance, no address beyond http(s)), Bluesky with an
app password. Credentials end sealed in the database; the desk can poll what it connected."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from click.testing import CliRunner
from fastapi import FastAPI
from sqlalchemy import func, select, text

from carebird.cli.main import cli
from carebird.config import Settings
from carebird.crypto import unseal
from carebird.db.database import Database
from carebird.errors import InvalidInput
from carebird.ingest.accounts import account_spec, list_accounts
from carebird.ingest.connect import instance_url
from carebird.ingest.mastodon.connector import MastodonConnector
from carebird.ingest.models import NetworkAccount, OAuthApp
from carebird.ingest.x.connector import XConnector
from carebird.web.app import create_app
from tests.factories import TestClient, agent_with_token
from tests.support.bluesky_harness import BRAND as BSKY_BRAND
from tests.support.bluesky_harness import BRAND_PASSWORD, BlueskyHarness
from tests.support.mastodon_harness import BRAND as MASTO_BRAND
from tests.support.mastodon_harness import MastodonHarness
from tests.support.x_harness import BRAND as X_BRAND
from tests.support.x_harness import XHarness

CLIENT = "desk-x-app"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def x() -> Iterator[XHarness]:
    with XHarness() as h:
        h.peer.tokens.clients[CLIENT] = None  # the desk's app: a public PKCE client
        h.peer.tokens.approver = h.brand_user.id  # who is signed in on X's consent page
        yield h


def desk(settings: Settings, db: Database, x: XHarness | None = None) -> TestClient:
    """The desk's app, an admin signed in by cookie (the pages' way) and its CSRF token."""
    changes: dict[str, object] = {"public_url": "http://testserver"}
    if x is not None:
        changes |= {
            "x_client_id": CLIENT,
            "x_api_url": x.peer.base_url,
            "x_authorize_url": f"{x.peer.base_url}/i",
        }
    app: FastAPI = create_app(settings.model_copy(update=changes), db=db)
    client = TestClient(app)
    _, token = agent_with_token(db, "admin")
    client.cookies.set("carebird_session", token)
    found = CSRF.search(client.get("/accounts").text)
    assert found is not None
    client.headers["x-test-csrf"] = found.group(1)
    return client


def post(client: TestClient, path: str, **form: str) -> requests.Response:
    data = {"csrf_token": client.headers["x-test-csrf"], **form}
    return client.post(path, data=data, follow_redirects=False)  # type: ignore[return-value]


def consent(url: str) -> str:
    """What the network's consent page redirects to (the desk's callback, path and query)."""
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    target = urlsplit(answer.headers["location"])
    assert target.netloc == "testserver" and target.path.startswith("/accounts/callback/")
    return f"{target.path}?{target.query}"


def accounts(db: Database) -> list[NetworkAccount]:
    with db.session() as s:
        return list_accounts(s)


def test_x_is_connected_through_pkce_and_polled(
    settings: Settings, db: Database, x: XHarness
) -> None:
    ids = x.post_mentions(2)
    client = desk(settings, db, x)
    start = post(client, "/accounts/connect/x")
    assert start.status_code == 303
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["client_id"] == [CLIENT]
    assert query["redirect_uri"] == ["http://testserver/accounts/callback/x"]
    sealed = client.cookies["carebird_oauth"]
    assert query["state"][0] not in sealed  # the state and the verifier travel sealed
    callback = consent(start.headers["location"])
    done = client.get(callback, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/accounts?done=connected"
    assert "carebird_oauth" not in client.cookies
    (account,) = accounts(db)
    assert (account.network, account.handle, account.external_id) == (
        "x",
        X_BRAND,
        x.brand_user.id,
    )
    assert account.options == {"base_url": x.peer.base_url} and account.active
    creds = unseal(settings.secret_key, account.credentials)
    assert {"access_token", "refresh_token", "expires_at", "client_id"} <= set(creds)
    with db.engine.connect() as conn:
        raw = conn.execute(text("SELECT credentials FROM network_accounts")).scalar()
    assert creds["access_token"] not in raw and creds["refresh_token"] not in raw
    page = client.get("/accounts").text
    assert f'data-handle="{X_BRAND}"' in page and creds["access_token"] not in page
    spec = account_spec(db, account, secret_key=settings.secret_key)
    polled = XConnector(spec, "mentions", backoff=x.backoff()).fetch(None)
    assert sorted(i.external_id for i in polled.items) == sorted(ids)

    # The same callback again: nothing under way in this browser any more.
    again = client.get(callback, follow_redirects=False)
    assert again.status_code == 400 and "no authorisation is under way" in again.text
    # Even with the sealed cookie replayed, X refuses a code already used.
    client.cookies.set("carebird_oauth", sealed, path="/accounts")
    replay = client.get(callback, follow_redirects=False)
    assert replay.status_code == 400 and "refused the authorisation code" in replay.text
    assert len(accounts(db)) == 1


def test_a_forged_state_or_a_refusal_connects_nothing(
    settings: Settings, db: Database, x: XHarness
) -> None:
    client = desk(settings, db, x)
    start = post(client, "/accounts/connect/x")
    callback = consent(start.headers["location"])
    forged = re.sub(r"state=[^&]+", "state=forged", callback)
    refused = client.get(forged, follow_redirects=False)
    assert refused.status_code == 400 and "state does not match" in refused.text
    assert accounts(db) == [] and "carebird_oauth" not in client.cookies

    x.peer.tokens.deny = True  # the operator presses Cancel on X
    start = post(client, "/accounts/connect/x")
    denied = client.get(consent(start.headers["location"]), follow_redirects=False)
    assert denied.status_code == 400 and "did not authorise" in denied.text
    assert accounts(db) == []
    # Without the desk's X app, the page says what to set rather than failing.
    bare = desk(settings, db)
    assert "CAREBIRD_X_CLIENT_ID" in bare.get("/accounts").text
    assert post(bare, "/accounts/connect/x").status_code == 422


def test_mastodon_registers_once_per_instance_and_connects(
    settings: Settings, db: Database
) -> None:
    with MastodonHarness() as m:
        ids = m.post_mentions(2)
        client = desk(settings, db)
        for _ in range(2):  # the second time reuses the app registered the first
            start = post(client, "/accounts/connect/mastodon", instance=m.base_url)
            assert start.status_code == 303, start.text
            picker = requests.get(start.headers["location"], timeout=10)
            query = parse_qs(urlsplit(start.headers["location"]).query)
            chosen = requests.post(
                f"{m.base_url}/oauth/authorize",
                data={
                    "username": MASTO_BRAND,
                    "redirect_uri": query["redirect_uri"][0],
                    "client_id": query["client_id"][0],
                    "state": query["state"][0],
                },
                allow_redirects=False,
                timeout=10,
            )
            assert picker.ok and chosen.status_code == 302
            target = urlsplit(chosen.headers["location"])
            done = client.get(f"{target.path}?{target.query}", follow_redirects=False)
            assert done.status_code == 303, done.text
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(OAuthApp)) == 1
            app = s.scalars(select(OAuthApp)).one()
            assert "client_secret" in unseal(settings.secret_key, app.client_secret)
        (account,) = accounts(db)
        assert account.handle == f"{MASTO_BRAND}@127.0.0.1"
        assert account.external_id == str(m.brand_account_id)
        assert "access_token" in unseal(settings.secret_key, account.credentials)
        spec = account_spec(db, account, secret_key=settings.secret_key)
        polled = MastodonConnector(spec, "mentions", backoff=m.backoff).fetch(None)
        assert sorted(i.external_id for i in polled.items) == sorted(ids)


@pytest.mark.parametrize(
    "address",
    [
        "ftp://mastodon.example",
        "file:///etc/passwd",
        "https://user:pw@mastodon.example",
        "https://mastodon.example/api/v1",
        "https://mastodon.example?x=1",
        "https://mastodon.example:99999",
        "https://masto\x00don.example",  # what an HTTP client would choke on: a 422 here
        "https://ex ample.org",
        "https://-bad-.example",
        "",
    ],
)
def test_a_bad_instance_address_is_refused(settings: Settings, db: Database, address: str) -> None:
    client = desk(settings, db)
    refused = post(client, "/accounts/connect/mastodon", instance=address)
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OAuthApp)) == 0


def test_production_calls_public_https_servers_only() -> None:
    for address in (
        "http://mastodon.social",
        "https://127.0.0.1",
        "https://[::1]:8443",
        "https://10.1.2.3",
        "https://169.254.169.254",
        "https://localhost",
    ):
        with pytest.raises(InvalidInput):
            instance_url(address, allow_private=False)
    assert instance_url("Mastodon.Example:8443/", allow_private=True) == (
        "https://mastodon.example:8443"
    )
    assert instance_url("http://127.0.0.1:9", allow_private=True) == "http://127.0.0.1:9"


def test_bluesky_by_app_password_page_and_api(settings: Settings, db: Database) -> None:
    with BlueskyHarness() as b:
        client = desk(settings, db)
        wrong = post(
            client,
            "/accounts/connect/bluesky",
            handle=BSKY_BRAND,
            app_password="not-the-password",
            service=b.peer.url,
        )
        assert wrong.status_code == 422 and "refused" in wrong.text and accounts(db) == []
        ok = post(
            client,
            "/accounts/connect/bluesky",
            handle=f"@{BSKY_BRAND}",
            app_password=BRAND_PASSWORD,
            service=b.peer.url,
        )
        assert ok.status_code == 303, ok.text
        (account,) = accounts(db)
        assert account.handle == BSKY_BRAND and account.external_id == b.brand_account.did
        creds = unseal(settings.secret_key, account.credentials)
        assert creds["app_password"] == BRAND_PASSWORD and creds["did"] == account.external_id
        assert BRAND_PASSWORD not in client.get("/accounts").text
        # The API's way: the same function; a bad body or password is a 4xx.
        _, admin = agent_with_token(db, "admin")
        api = {"Authorization": f"Bearer {admin}"}
        body = {"handle": BSKY_BRAND, "app_password": BRAND_PASSWORD, "service": b.peer.url}
        again = client.post("/api/accounts/bluesky", json=body, headers=api)
        assert again.status_code == 201 and BRAND_PASSWORD not in again.text
        assert again.json()["id"] == account.id
        bad = client.post(
            "/api/accounts/bluesky", json={**body, "service": "gopher://x"}, headers=api
        )
        assert bad.status_code == 422
        # The CLI's way: a production desk calls no loopback server; a test desk does.
        args = ["--database", settings.database_url, "accounts", "connect-bluesky", BSKY_BRAND]
        args += ["--service", b.peer.url, "--app-password", BRAND_PASSWORD]
        prod = CliRunner(env={"CAREBIRD_SECRET_KEY": settings.secret_key, "CAREBIRD_ENV": "prod"})
        refused = prod.invoke(cli, args)
        assert isinstance(refused.exception, InvalidInput)
        assert "must use https" in str(refused.exception)
        test = CliRunner(env={"CAREBIRD_SECRET_KEY": settings.secret_key, "CAREBIRD_ENV": "test"})
        done = test.invoke(cli, args)
        assert done.exit_code == 0, done.output
        assert json.loads(done.output)["credential_names"] == sorted(
            ["access_jwt", "app_password", "did", "refresh_jwt"]
        )
