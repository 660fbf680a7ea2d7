"""Connecting the brand's accounts from the desk: X through OAuth 2.0 with PKCE, Mastodon
through its app registration and authorisation-code flow, Bluesky with a handle and an app
password. Each ends in `store_connection`: the credentials sealed, the account's identity as
the network reports it (users/me, verify_credentials, getSession).

An authorisation under way is a `Pending`: its state, PKCE verifier and target, sealed with
the desk's secret key (the page keeps it in a short-lived cookie). The callback's state must
equal the sealed one, before `PENDING_TTL` seconds; the page then forgets it, so a replayed
callback finds nothing under way (and X or Mastodon refuse a code used twice anyway).

Instance addresses an admin types are checked before the desk calls them (`instance_url`):
http(s) only, a bare server name, and in production https to a public address only.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
import socket
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.crypto import seal, unseal
from carebird.errors import AuthError, ConnectorError, InvalidInput, TransientNetworkError
from carebird.ingest.accounts import store_connection
from carebird.ingest.base import AuthorInfo
from carebird.ingest.calls import AccountSpec, Backoff
from carebird.ingest.models import NetworkAccount, OAuthApp
from carebird.ingest.x import auth as x_auth
from carebird.plugins import connector_class

PENDING_TTL = 600.0  # seconds an authorisation may take on the network's side
TIMEOUT = 15.0
MASTODON_SCOPES = "read write"
BLUESKY_SERVICE = "https://bsky.social"
_PENDING_KIND = "carebird oauth pending v1"


@dataclass(frozen=True)
class Pending:
    """An authorisation the desk started and waits the callback of."""

    network: str
    state: str
    verifier: str  # the PKCE code verifier (X); "" for Mastodon
    instance: str  # the network's API base URL
    client_id: str
    redirect_uri: str
    expires_at: float


def seal_pending(secret_key: str, pending: Pending) -> str:
    values = {k: str(v) for k, v in asdict(pending).items()}
    return seal(secret_key, {"kind": _PENDING_KIND, **values})


def open_pending(secret_key: str, sealed: str | None, *, network: str, state: str) -> Pending:
    """The authorisation a callback answers; refused unless its state is the one we sent."""
    if not sealed:
        raise InvalidInput(
            "no authorisation is under way in this browser (or it was used already): "
            "start again from the Accounts page"
        )
    try:
        data = unseal(secret_key, sealed)
    except InvalidInput:
        raise InvalidInput("the authorisation under way is unreadable: start again") from None
    if data.get("kind") != _PENDING_KIND or data.get("network") != network:
        raise InvalidInput(f"no {network} authorisation is under way: start again")
    if not state or not secrets.compare_digest(state.encode(), data.get("state", "").encode()):
        raise InvalidInput("the authorisation's state does not match: start again")
    pending = Pending(
        network=data["network"],
        state=data["state"],
        verifier=data["verifier"],
        instance=data["instance"],
        client_id=data["client_id"],
        redirect_uri=data["redirect_uri"],
        expires_at=float(data["expires_at"]),
    )
    if time.time() > pending.expires_at:
        raise InvalidInput("the authorisation took too long: start again")
    return pending


def refused(network: str, error: str | None) -> None:
    """A callback that carries the network's refusal (the operator pressed Cancel)."""
    if error:
        raise InvalidInput(f"{network} did not authorise the desk ({error[:100]})")


# -- addresses ----------------------------------------------------------------------------


def instance_url(raw: str, *, allow_private: bool) -> str:
    """`https://host[:port]` of a server an admin named; refuses anything else (no path, no
    credentials, no other scheme; in production https to a public address only)."""
    raw = raw.strip()
    if not raw:
        raise InvalidInput("type the server's address, e.g. https://mastodon.social")
    if "://" not in raw:
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise InvalidInput(f"{raw[:200]!r} is not a server address") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput("a server address starts with https://")
    host = parts.hostname
    if (
        not host
        or parts.username is not None
        or parts.password is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise InvalidInput("a server address is a name alone, e.g. https://mastodon.social")
    if not _is_host(host):
        raise InvalidInput(f"{host[:100]!r} is not a server name, e.g. mastodon.social")
    scheme = parts.scheme.lower()
    if not allow_private:
        if scheme != "https":
            raise InvalidInput("a server address must use https://")
        _public_only(host, port or 443)
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}{f':{port}' if port else ''}"


_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)


def _is_host(host: str) -> bool:
    """An IP address or a DNS name (IDNA allowed): nothing an HTTP client would choke on."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        name = host.encode("idna").decode("ascii").rstrip(".")
    except UnicodeError:
        return False
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(part) for part in name.split("."))


def _public_only(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise InvalidInput(f"no server answers to the name {host!r}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise InvalidInput(f"{host!r} is a private or local address: refused")


# -- identity -----------------------------------------------------------------------------


def verify_identity(spec: AccountSpec) -> AuthorInfo:
    """Who the network says these credentials are (the connector's `check_credentials`)."""
    cls = connector_class(spec.network)
    connector = cls(spec, cls.streams(spec)[0], backoff=Backoff(attempts=2, max_wait=2.0))
    try:
        info: AuthorInfo = connector.check_credentials()
    finally:
        close = getattr(connector, "close", None)
        if close is not None:
            close()
    if not info.handle or not info.external_id:
        raise ConnectorError(f"{spec.network} did not say who this account is")
    return info


# -- X ------------------------------------------------------------------------------------


def start_x(
    *, client_id: str | None, redirect_uri: str, authorize_base: str
) -> tuple[str, Pending]:
    """X's consent page for the desk's app, and what to keep until the callback."""
    if not client_id:
        raise InvalidInput("the desk has no X app: set CAREBIRD_X_CLIENT_ID (and its secret)")
    state = secrets.token_urlsafe(24)
    url, verifier = x_auth.authorization_url(
        client_id=client_id, redirect_uri=redirect_uri, state=state, authorize_base=authorize_base
    )
    expires = time.time() + PENDING_TTL
    return url, Pending("x", state, verifier, "", client_id, redirect_uri, expires)


def finish_x(
    session: Session,
    *,
    secret_key: str,
    pending: Pending,
    code: str,
    client_secret: str | None,
    api_base: str,
) -> NetworkAccount:
    """Trade the callback's code for tokens, ask X who they are, store the account."""
    if not code:
        raise InvalidInput("X's answer holds no authorisation code")
    creds = x_auth.exchange_code(
        code,
        pending.verifier,
        client_id=pending.client_id,
        redirect_uri=pending.redirect_uri,
        client_secret=client_secret,
        base_url=api_base,
    )
    options = {} if api_base.rstrip("/") == x_auth.API_BASE else {"base_url": api_base}
    me = verify_identity(AccountSpec(network="x", handle="me", credentials=creds, options=options))
    return store_connection(
        session, secret_key=secret_key, network="x", who=me, credentials=creds, options=options
    )


# -- Mastodon -----------------------------------------------------------------------------


def _post(url: str, form: dict[str, str], what: str) -> dict[str, Any]:
    try:
        response = requests.post(url, data=form, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        raise ConnectorError(f"{what}: the server did not answer ({type(exc).__name__})") from exc
    if not response.ok:
        raise ConnectorError(f"{what}: the server refused (HTTP {response.status_code})")
    try:
        body = response.json()
    except json.JSONDecodeError:
        raise ConnectorError(f"{what}: the server's answer is not JSON") from None
    if not isinstance(body, dict):
        raise ConnectorError(f"{what}: unexpected answer")
    return body


def mastodon_app(
    session: Session, *, secret_key: str, instance: str, redirect_uri: str
) -> tuple[str, str]:
    """The desk's (client id, client secret) on `instance`: registered once, then reused."""
    app = session.scalar(
        select(OAuthApp).where(
            OAuthApp.network == "mastodon",
            OAuthApp.instance == instance,
            OAuthApp.redirect_uri == redirect_uri,
        )
    )
    if app is not None:
        return app.client_id, unseal(secret_key, app.client_secret)["client_secret"]
    form = {
        "client_name": "carebird",
        "redirect_uris": redirect_uri,
        "scopes": MASTODON_SCOPES,
    }
    body = _post(f"{instance}/api/v1/apps", form, "registering the desk on the instance")
    client_id, client_secret = str(body.get("client_id", "")), str(body.get("client_secret", ""))
    if not client_id or not client_secret:
        raise ConnectorError("the instance registered no client id or secret")
    session.add(
        OAuthApp(
            network="mastodon",
            instance=instance,
            redirect_uri=redirect_uri,
            client_id=client_id,
            client_secret=seal(secret_key, {"client_secret": client_secret}),
        )
    )
    session.flush()
    return client_id, client_secret


def start_mastodon(
    session: Session, *, secret_key: str, instance: str, redirect_uri: str, allow_private: bool
) -> tuple[str, Pending]:
    base = instance_url(instance, allow_private=allow_private)
    client_id, _ = mastodon_app(
        session, secret_key=secret_key, instance=base, redirect_uri=redirect_uri
    )
    state = secrets.token_urlsafe(24)
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": MASTODON_SCOPES,
        "state": state,
    }
    expires = time.time() + PENDING_TTL
    pending = Pending("mastodon", state, "", base, client_id, redirect_uri, expires)
    return f"{base}/oauth/authorize?{urlencode(query)}", pending


def finish_mastodon(
    session: Session, *, secret_key: str, pending: Pending, code: str
) -> NetworkAccount:
    if not code:
        raise InvalidInput("the instance's answer holds no authorisation code")
    client_id, client_secret = mastodon_app(
        session, secret_key=secret_key, instance=pending.instance, redirect_uri=pending.redirect_uri
    )
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": pending.redirect_uri,
        "scope": MASTODON_SCOPES,
    }
    token = _post(f"{pending.instance}/oauth/token", form, "exchanging the authorisation code")
    access = str(token.get("access_token") or "")
    if not access:
        raise AuthError("the instance gave no access token")
    creds = {"access_token": access}
    options = {"base_url": pending.instance}
    host = urlsplit(pending.instance).hostname or ""
    me = verify_identity(
        AccountSpec(network="mastodon", handle=f"me@{host}", credentials=creds, options=options)
    )
    user = me.handle.partition("@")[0]
    who = AuthorInfo(me.external_id, f"{user}@{host}", me.display_name, me.followers)
    return store_connection(
        session,
        secret_key=secret_key,
        network="mastodon",
        who=who,
        credentials=creds,
        options=options,
    )


# -- Bluesky ------------------------------------------------------------------------------


def connect_bluesky(
    session: Session,
    *,
    secret_key: str,
    handle: str,
    app_password: str,
    service: str = "",
    allow_private: bool,
) -> NetworkAccount:
    """Log in with the app password (createSession); it is sealed and never shown again."""
    handle = handle.strip().lstrip("@")
    if not handle or len(handle) > 200 or any(c.isspace() for c in handle):
        raise InvalidInput("a Bluesky handle looks like name.bsky.social")
    if not app_password.strip():
        raise InvalidInput("type the account's app password")
    base = instance_url(service or BLUESKY_SERVICE, allow_private=allow_private)
    options = {} if base == BLUESKY_SERVICE else {"base_url": base}
    tokens: dict[str, str] = {}
    spec = AccountSpec(
        network="bluesky",
        handle=handle,
        credentials={"app_password": app_password},
        options=options,
        save_credentials=tokens.update,
    )
    try:
        me = verify_identity(spec)
    except AuthError:
        raise InvalidInput("Bluesky refused this handle and app password") from None
    except TransientNetworkError as exc:  # a name typed wrong, or a server that is down
        raise InvalidInput(f"the server {base} did not answer ({exc}): check the address") from None
    creds = {"app_password": app_password, **tokens}
    return store_connection(
        session,
        secret_key=secret_key,
        network="bluesky",
        who=me,
        credentials=creds,
        options=options,
    )
