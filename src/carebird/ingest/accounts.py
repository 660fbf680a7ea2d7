"""The desk's network accounts: adding them with encrypted credentials, and handing each
connector an `AccountSpec` that can store rotated tokens back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.crypto import seal, unseal
from carebird.db.database import Database
from carebird.errors import Conflict, InvalidInput, NotFound
from carebird.ingest.base import AuthorInfo
from carebird.ingest.calls import AccountSpec
from carebird.ingest.models import NetworkAccount
from carebird.plugins import connector_names

# What each network needs to sign in; checked when an account is added.
REQUIRED_CREDENTIALS: dict[str, tuple[tuple[str, ...], ...]] = {
    # any one of these sets
    "x": (
        ("access_token", "refresh_token", "client_id"),  # OAuth 2.0 user context (PKCE)
        ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),  # OAuth 1.0a
        ("bearer_token",),  # app-only: listening searches only
    ),
    "mastodon": (("access_token",),),
    "bluesky": (("app_password",), ("password",)),  # an app password; the handle identifies
}


@dataclass(frozen=True)
class AccountPublic:
    """What the API and CLI show of an account: never its secrets."""

    id: int
    network: str
    handle: str
    external_id: str | None
    role: str
    active: bool
    monthly_cap: float | None
    options: dict[str, Any]
    credential_names: list[str]


def add_account(
    session: Session,
    *,
    secret_key: str,
    network: str,
    handle: str,
    credentials: Mapping[str, str],
    options: Mapping[str, Any] | None = None,
    role: str = "support",
    monthly_cap: float | None = None,
    external_id: str | None = None,
    replace: bool = False,
) -> NetworkAccount:
    """Store an account; its credentials are sealed before they reach the database."""
    handle = handle.strip().lstrip("@")
    if not handle:
        raise InvalidInput("an account needs a handle")
    if network not in connector_names():
        raise InvalidInput(
            f"unknown network {network!r}; installed: {', '.join(connector_names())}"
        )
    if role not in ("support", "brand"):
        raise InvalidInput("role must be support or brand")
    if monthly_cap is not None and monthly_cap < 0:
        raise InvalidInput("the monthly cap cannot be negative")
    account = session.scalar(
        select(NetworkAccount).where(
            NetworkAccount.network == network, NetworkAccount.handle == handle
        )
    )
    if account is not None and not replace:
        raise Conflict(f"{network} account {handle} exists (use replace to update it)")
    _check_credentials(network, credentials)
    if account is None:
        account = NetworkAccount(network=network, handle=handle)
        session.add(account)
    account.credentials = seal(secret_key, credentials)
    account.options = dict(options or {})
    account.role = role
    account.monthly_cap = monthly_cap
    account.external_id = external_id or account.external_id
    account.active = True
    session.flush()
    return account


def store_connection(
    session: Session,
    *,
    secret_key: str,
    network: str,
    who: AuthorInfo,
    credentials: Mapping[str, str],
    options: Mapping[str, Any],
) -> NetworkAccount:
    """An account the desk just connected (page or API): a new one, or the same one again
    (same network and handle: new credentials, its settings kept, active again)."""
    account = session.scalar(
        select(NetworkAccount).where(
            NetworkAccount.network == network, NetworkAccount.handle == who.handle
        )
    )
    if account is None:
        account = add_account(
            session,
            secret_key=secret_key,
            network=network,
            handle=who.handle,
            credentials=credentials,
            options=options,
            external_id=who.external_id,
        )
    else:
        _check_credentials(network, credentials)
        account.credentials = seal(secret_key, credentials)
        account.options = {**(account.options or {}), **options}
        account.external_id = who.external_id
        account.active = True
    account.display_name = who.display_name[:200]
    session.flush()
    return account


def disconnect_account(session: Session, account_id: int) -> NetworkAccount:
    """Stop polling and sending for an account and forget its sealed credentials (its history
    and settings stay; connecting it again brings it back)."""
    account = get_account(session, account_id)
    account.active = False
    account.credentials = None
    session.flush()
    return account


def _check_credentials(network: str, credentials: Mapping[str, str]) -> None:
    sets = REQUIRED_CREDENTIALS.get(network)
    if not sets:
        return
    given = {k for k, v in credentials.items() if v}
    if not any(set(need) <= given for need in sets):
        wanted = " or ".join("+".join(need) for need in sets)
        raise InvalidInput(f"{network} credentials need {wanted}")


def public(account: NetworkAccount, secret_key: str) -> AccountPublic:
    return AccountPublic(
        id=account.id,
        network=account.network,
        handle=account.handle,
        external_id=account.external_id,
        role=account.role,
        active=account.active,
        monthly_cap=account.monthly_cap,
        options=dict(account.options or {}),
        credential_names=sorted(unseal(secret_key, account.credentials)),
    )


def list_accounts(session: Session) -> list[NetworkAccount]:
    return list(session.scalars(select(NetworkAccount).order_by(NetworkAccount.id)))


def get_account(session: Session, account_id: int) -> NetworkAccount:
    account = session.get(NetworkAccount, account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    return account


def account_spec(db: Database, account: NetworkAccount, *, secret_key: str) -> AccountSpec:
    """The connector's view of an account; rotated tokens are sealed and stored at once."""
    account_id = account.id

    def save(new: dict[str, str]) -> None:
        with db.session() as session, session.begin():
            row = session.get(NetworkAccount, account_id)
            if row is not None:
                row.credentials = seal(secret_key, new)

    return AccountSpec(
        network=account.network,
        handle=account.handle,
        external_id=account.external_id,
        credentials=unseal(secret_key, account.credentials),
        options=dict(account.options or {}),
        save_credentials=save,
    )
