"""X credentials, PKCE, webhook helpers, cost estimates and X's weighted character count."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlparse

import pytest

from carebird.errors import AuthError
from carebird.ingest.base import OutboundReply
from carebird.ingest.calls import AccountSpec
from carebird.ingest.x.auth import authorization_url, credential_kind, token_expired
from carebird.ingest.x.connector import XConnector, estimate_cost_ops
from carebird.ingest.x.webhooks import SIGNATURE_HEADER, crc_response, signature_valid
from tests.support.shared import shared_data

SECRET = "consumer-secret"


def test_crc_response_is_the_hmac_sha256_of_the_token() -> None:
    token = "9b4507b3-9040-4669-9ba5-d86b8c1d1d05"
    assert crc_response(token, SECRET) == {
        "response_token": "sha256=5a9mztwIXOPbYC5Cjz7aExBXoCfVQknE5ACkenmVZlw="
    }
    assert crc_response(token, "another secret") != crc_response(token, SECRET)


def test_webhook_signature_check() -> None:
    body = b'{"for_user_id":"1001"}'
    good = "sha256=FdHX3wjoiF+FUTD9SHfpILp4qjDXPQuVazAyO0/5Tkg="
    assert SIGNATURE_HEADER == "x-twitter-webhooks-signature"
    assert signature_valid(body, good, SECRET)
    assert not signature_valid(body + b" ", good, SECRET)  # the body was altered
    assert not signature_valid(body, good, "wrong secret")
    assert not signature_valid(body, None, SECRET)
    assert not signature_valid(body, "sha256=", SECRET)


def test_credential_kinds() -> None:
    assert credential_kind({"access_token": "a", "refresh_token": "r"}) == "oauth2"
    oauth1 = {
        "consumer_key": "k",
        "consumer_secret": "s",
        "access_token": "t",
        "access_token_secret": "ts",
    }
    assert credential_kind(oauth1) == "oauth1"
    assert credential_kind({"bearer_token": "b"}) == "bearer"
    with pytest.raises(AuthError):
        credential_kind({})


def test_token_expiry_uses_a_margin() -> None:
    assert not token_expired({"access_token": "a"})  # unknown: learnt from a 401
    assert token_expired({"expires_at": "1000"}, now=950.0)  # within the 60 s margin
    assert not token_expired({"expires_at": "1000"}, now=900.0)


def test_authorization_url_carries_an_s256_pkce_challenge() -> None:
    url, verifier = authorization_url(
        client_id="cid", redirect_uri="https://desk.example/x/callback", state="st4te"
    )
    parsed = urlparse(url)
    assert parsed.scheme == "https" and parsed.netloc == "x.com"
    assert parsed.path == "/i/oauth2/authorize"
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    digest = hashlib.sha256(verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert query["code_challenge_method"] == "S256"
    assert query["client_id"] == "cid" and query["state"] == "st4te"
    assert "offline.access" in query["scope"].split() and "dm.read" in query["scope"].split()
    assert 43 <= len(verifier) <= 128


def _reply(text: str, *, private: bool = False) -> OutboundReply:
    return OutboundReply(
        network="x",
        text=text,
        account_handle="LigneAzur_SAV",
        idempotency_key="k",
        in_reply_to_id=None if private else "1",
        recipient_id="2" if private else None,
        private=private,
    )


def test_cost_estimates() -> None:
    assert estimate_cost_ops(_reply("Nous regardons.")) == [("reply", 1)]
    assert estimate_cost_ops(_reply("Voir https://ligneazur.fr/aide")) == [("reply_url", 1)]
    assert estimate_cost_ops(_reply("Voir ligneazur.fr")) == [("reply_url", 1)]
    assert estimate_cost_ops(_reply("Votre numéro ?", private=True)) == [("dm_send", 1)]
    assert estimate_cost_ops(_reply("Photo", private=False), images=2) == [
        ("reply", 1),
        ("media_upload", 2),
    ]


def _connector(**options: object) -> XConnector:
    account = AccountSpec(
        network="x",
        handle="LigneAzur_SAV",
        external_id="1001",
        credentials={"bearer_token": "b"},
        options=options,
    )
    return XConnector(account, "mentions")


def test_character_count_follows_twitter_text_v3() -> None:
    yaml = pytest.importorskip("yaml")
    path = shared_data("twitter-text-conformance/validate.yml")
    cases = yaml.safe_load(path.read_text())["tests"][
        "WeightedTweetsWithDiscountedEmojiCounterTest"
    ]
    connector = _connector()
    assert connector.text_limit() == 280
    assert len(cases) > 10
    for case in cases:
        assert connector.count_length(case["text"]) == case["expected"]["weightedLength"], case[
            "description"
        ]
    assert _connector(char_limit=25_000).text_limit() == 25_000


def test_streams_follow_credentials_and_listening() -> None:
    listening = {"listening": ['"Ligne Azur" -is:retweet', "LigneAzur -from:LigneAzur_SAV"]}
    bearer = AccountSpec(
        network="x", handle="LigneAzur_SAV", credentials={"bearer_token": "b"}, options=listening
    )
    assert XConnector.streams(bearer) == ["mentions", "search:0", "search:1", "own"]
    user = AccountSpec(
        network="x",
        handle="LigneAzur_SAV",
        credentials={"access_token": "a"},
        options={"own_posts": False},
    )
    assert XConnector.streams(user) == ["mentions", "dm"]
    assert XConnector(bearer, "search:1").source == "x:LigneAzur_SAV:search:1"
    with pytest.raises(ValueError):
        XConnector(bearer, "search:2")
    with pytest.raises(ValueError):
        XConnector(bearer, "likes")
