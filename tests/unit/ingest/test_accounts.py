"""Accounts keep their credentials sealed; rotated tokens are stored back sealed."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from carebird.crypto import seal, unseal
from carebird.db.database import Database
from carebird.errors import Conflict, InvalidInput
from carebird.ingest.accounts import account_spec, add_account, get_account, public

KEY = "test-secret-" + "k" * 20
TOKENS = {"access_token": "AT-very-secret-1", "refresh_token": "RT-2", "client_id": "cid"}


def test_seal_round_trip_and_wrong_key() -> None:
    token = seal(KEY, {"password": "hunter2"})
    assert "hunter2" not in token
    assert unseal(KEY, token) == {"password": "hunter2"}
    with pytest.raises(InvalidInput, match="secret key"):
        unseal("another-key", token)


def test_credentials_are_encrypted_at_rest(db: Database) -> None:
    with db.session() as s, s.begin():
        account = add_account(
            s, secret_key=KEY, network="x", handle="@Brand_SAV", credentials=TOKENS, monthly_cap=50
        )
        assert account.handle == "Brand_SAV"
        assert public(account, KEY).credential_names == sorted(TOKENS)
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT credentials FROM network_accounts")).scalar_one()
    assert "AT-very-secret-1" not in stored and "RT-2" not in stored


def test_rotated_tokens_are_saved_sealed(db: Database) -> None:
    with db.session() as s, s.begin():
        account = add_account(s, secret_key=KEY, network="x", handle="b", credentials=TOKENS)
        account_id = account.id
    with db.session() as s:
        spec = account_spec(db, get_account(s, account_id), secret_key=KEY)
    assert spec.credentials["access_token"] == "AT-very-secret-1"
    assert spec.save_credentials is not None
    spec.save_credentials({**TOKENS, "access_token": "AT-rotated"})
    with db.session() as s:
        again = account_spec(db, get_account(s, account_id), secret_key=KEY)
    assert again.credentials["access_token"] == "AT-rotated"


def test_bad_accounts_are_refused(db: Database) -> None:
    with db.session() as s, s.begin():
        add_account(
            s, secret_key=KEY, network="mastodon", handle="b", credentials={"access_token": "t"}
        )
        with pytest.raises(Conflict):
            add_account(
                s, secret_key=KEY, network="mastodon", handle="b", credentials={"access_token": "t"}
            )
        with pytest.raises(InvalidInput, match="unknown network"):
            add_account(s, secret_key=KEY, network="myspace", handle="b", credentials={})
        with pytest.raises(InvalidInput, match="access_token"):
            add_account(s, secret_key=KEY, network="x", handle="c", credentials={"nope": "1"})
        with pytest.raises(InvalidInput, match="password"):
            add_account(s, secret_key=KEY, network="bluesky", handle="c", credentials={})
