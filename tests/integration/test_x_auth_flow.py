"""X credentials against the local peer: OAuth 2.0 PKCE and refresh with rotation, OAuth 1.0a
signatures, app-only bearer, and the switch between the API's two spellings."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlparse

import pytest

from carebird.errors import AuthError
from carebird.ingest.base import OutboundReply
from carebird.ingest.calls import AccountSpec, CountingMeter
from carebird.ingest.x.auth import authorization_url, exchange_code
from carebird.ingest.x.connector import XConnector
from tests.support.x_harness import BRAND, CLIENT_ID, XHarness


def _reply(to: str) -> OutboundReply:
    return OutboundReply(
        network="x",
        text="Nous regardons.",
        account_handle=BRAND,
        idempotency_key="k",
        in_reply_to_id=to,
    )


def test_an_expired_token_is_refreshed_and_the_rotated_tokens_saved() -> None:
    with XHarness() as h:
        ids = h.post_mentions(3)
        old = dict(h.brand.credentials)
        meter = CountingMeter()
        connector = h.connector(meter=meter)
        h.peer.tokens.expire_all()  # the peer says 401 before our known expiry
        assert sorted(i.external_id for i in connector.fetch(None).items) == sorted(ids)
        assert h.peer.tokens.refreshes == 1
        (saved,) = h.saved_credentials
        assert saved["access_token"] != old["access_token"]
        assert saved["refresh_token"] != old["refresh_token"]  # rotated
        assert float(saved["expires_at"]) > float(old["expires_at"]) - 5
        assert old["refresh_token"] not in h.peer.tokens.refresh  # the old one is dead
        assert h.peer.web.statuses == [
            ("GET /2/users/{id}/mentions", 401),
            ("GET /2/users/{id}/mentions", 200),
        ]
        assert meter.units == {"post_read": 3, "user_read": 3}  # authors come expanded


def test_a_known_expiry_refreshes_before_calling() -> None:
    with XHarness() as h:
        h.post_mentions(2)
        creds = {**h.brand.credentials, "expires_at": "1"}
        h.brand = dataclasses.replace(h.brand, credentials=creds)
        assert len(h.connector().fetch(None).items) == 2
        assert h.peer.tokens.refreshes == 1
        assert all(status != 401 for _, status in h.peer.web.statuses)


def test_the_connectors_of_an_account_share_one_refresh() -> None:
    """X kills a refresh token once used: siblings must adopt the renewed tokens."""
    with XHarness() as h:
        h.post_mentions(2)
        h.send_private("Bonjour")
        connectors = h.inbound_connectors()
        h.peer.tokens.expire_all()
        fetched = [len(c.fetch(None).items) for c in connectors]
        assert fetched[0] == 2 and sum(fetched) >= 3
        assert h.peer.tokens.refreshes == 1
        assert len(h.saved_credentials) == 1


def test_a_refused_refresh_is_an_auth_error() -> None:
    with XHarness() as h:
        connector = h.connector()
        h.peer.tokens.refresh.clear()  # revoked on X's side
        h.peer.tokens.expire_all()
        with pytest.raises(AuthError):
            connector.fetch(None)
        assert h.saved_credentials == []


@pytest.mark.parametrize("secret", [None, "s3cret"])
def test_pkce_authorisation_then_reading(secret: str | None) -> None:
    with XHarness() as h:
        h.post_mentions(1)
        client = "desk-app" if secret is None else "desk-app-confidential"
        h.peer.tokens.clients[client] = secret
        redirect = "https://desk.example/x/callback"
        url, verifier = authorization_url(client_id=client, redirect_uri=redirect, state="s")
        challenge = parse_qs(urlparse(url).query)["code_challenge"][0]
        code = h.peer.tokens.authorize(h.brand_user.id, client, redirect, challenge)
        with pytest.raises(AuthError):  # a verifier that does not match the challenge
            exchange_code(
                code,
                verifier + "x",
                client_id=client,
                redirect_uri=redirect,
                client_secret=secret,
                base_url=h.peer.base_url,
            )
        code = h.peer.tokens.authorize(h.brand_user.id, client, redirect, challenge)
        creds = exchange_code(
            code,
            verifier,
            client_id=client,
            redirect_uri=redirect,
            client_secret=secret,
            base_url=h.peer.base_url,
        )
        assert {"access_token", "refresh_token", "expires_at", "client_id"} <= set(creds)
        account = dataclasses.replace(h.brand, credentials=creds)
        connector = XConnector(account, "mentions", backoff=h.backoff())
        first = connector.fetch(None)
        assert len(first.items) == 1
        h.peer.tokens.expire_all()  # refresh as a public or a confidential client
        assert connector.fetch(first.cursor).items == [] and h.peer.tokens.refreshes == 1


@pytest.mark.parametrize("spelling", ["tweet", "post"])
def test_oauth1_signed_requests(spelling: str) -> None:
    with XHarness(spelling=spelling, credentials="oauth1") as h:
        ids = h.post_mentions(120)
        h.send_private("Allô ?")
        seen = []
        for connector in h.inbound_connectors():
            result = connector.fetch(None, limit=1000)
            seen += [i.external_id for i in result.items]
        assert set(ids) <= set(seen) and len(seen) == 121
        receipt = h.sender().send(_reply(ids[0]))
        assert h.replies_to(ids[0])[0]["id"] == receipt.external_id

        forged = {**h.brand.credentials, "consumer_secret": "not the secret"}
        account = dataclasses.replace(h.brand, credentials=forged, external_id="1")
        with pytest.raises(AuthError):
            XConnector(account, "mentions", backoff=h.backoff()).fetch(None)


def test_app_only_bearer_reads_public_streams() -> None:
    with XHarness(credentials="bearer") as h:
        ids = h.post_mentions(5)
        h.peer.state.add_post(h.customer_id(0), "Ligne Azur, encore une panne")
        streams = {c.source: c for c in h.inbound_connectors()}
        assert set(streams) == {f"x:{BRAND}:{s}" for s in ("mentions", "search:0", "own")}
        got = streams[f"x:{BRAND}:mentions"].fetch(None).items
        assert sorted(i.external_id for i in got) == sorted(ids)
        assert len(streams[f"x:{BRAND}:search:0"].fetch(None).items) == 1


def test_the_other_spelling_is_adopted_when_x_refuses_ours() -> None:
    with XHarness(spelling="post") as h:
        ids = h.post_mentions(3)
        account = AccountSpec(
            network="x",
            handle=BRAND,
            credentials=h.brand.credentials,
            options={**h.brand.options, "field_spelling": "tweet"},
        )
        connector = XConnector(account, "mentions", backoff=h.backoff())
        assert sorted(i.external_id for i in connector.fetch(None).items) == sorted(ids)
        assert connector.api.spelling == "post"
        refused = [s for k, s in h.peer.web.statuses if s == 400]
        assert len(refused) == 1  # once, then the connector speaks the peer's spelling
        assert CLIENT_ID in h.peer.tokens.clients
