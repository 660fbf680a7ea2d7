"""X credentials: the three kinds an account may hold, the OAuth 2.0 PKCE flow and refresh.

Credential mappings (stored encrypted by the desk, handed over in `AccountSpec.credentials`):

    oauth2  access_token, refresh_token, expires_at (unix seconds), client_id[, client_secret]
            — user context from the OAuth 2.0 authorisation-code flow with PKCE.
    oauth1  consumer_key, consumer_secret, access_token, access_token_secret
            — OAuth 1.0a user context.
    bearer  bearer_token — app-only: public reads (mentions, search), no DMs, no posting.
            May sit beside either user kind; the SDK then prefers it for public reads.

The code exchange goes through xdk's `OAuth2PKCEAuth` (the authorisation URL is built here:
oauthlib refuses plain http). Refresh does
not: xdk refreshes through oauthlib, which needs a client secret (X's native/public clients have
none) and refuses plain http (our local test peer), so `refresh_oauth2` posts the standard
refresh grant itself, through the SDK's own `requests` session.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

import requests
from requests.auth import HTTPBasicAuth
from xdk.oauth2_auth import OAuth2PKCEAuth

from carebird.errors import AuthError, TransientNetworkError

API_BASE = "https://api.x.com"
AUTHORIZE_BASE = "https://x.com/i"
DEFAULT_SCOPES = (
    "tweet.read",
    "tweet.write",
    "users.read",
    "dm.read",
    "dm.write",
    "media.write",
    "offline.access",  # without it X issues no refresh token
)
EXPIRY_MARGIN = 60.0  # refresh this many seconds before the announced expiry


def credential_kind(creds: Mapping[str, str]) -> str:
    if creds.get("consumer_key") and creds.get("access_token_secret"):
        return "oauth1"
    if creds.get("access_token"):
        return "oauth2"
    if creds.get("bearer_token"):
        return "bearer"
    raise AuthError("X account has no usable credentials (oauth2, oauth1 or bearer_token)")


def authorization_url(
    *,
    client_id: str,
    redirect_uri: str,
    scopes: tuple[str, ...] = DEFAULT_SCOPES,
    state: str | None = None,
    authorize_base: str = AUTHORIZE_BASE,
) -> tuple[str, str]:
    """Where to send the brand's operator to authorise us, and the PKCE code verifier to keep
    (server side, with `state`) until the callback brings the code back.

    Built here rather than by xdk, whose oauthlib session refuses a plain-http authorisation
    URL (the local test peer)."""
    verifier = secrets.token_urlsafe(96)[:128]  # RFC 7636: 43 to 128 characters
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state or secrets.token_urlsafe(24),
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
    }
    return f"{authorize_base.rstrip('/')}/oauth2/authorize?{urlencode(query)}", verifier


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636 4.2)."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def exchange_code(
    code: str,
    code_verifier: str,
    *,
    client_id: str,
    redirect_uri: str,
    client_secret: str | None = None,
    base_url: str = API_BASE,
) -> dict[str, str]:
    """Trade the callback's code for tokens; returns the credential mapping to store."""
    pkce = OAuth2PKCEAuth(
        base_url=base_url.rstrip("/"),
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=redirect_uri,
    )
    try:
        token = pkce.exchange_code(code, code_verifier)
    except ValueError as exc:  # xdk reports a refused exchange as ValueError
        raise AuthError(f"X refused the authorisation code: {exc}") from exc
    return _credentials(token, client_id=client_id, client_secret=client_secret)


def token_expired(creds: Mapping[str, str], now: float | None = None) -> bool:
    expires_at = creds.get("expires_at")
    if not expires_at:
        return False  # unknown: we learn it from a 401
    return (now if now is not None else time.time()) >= float(expires_at) - EXPIRY_MARGIN


def refresh_oauth2(
    session: requests.Session, base_url: str, creds: Mapping[str, str], *, timeout: float
) -> dict[str, str]:
    """Use the refresh token; X rotates it, so the result replaces the stored credentials."""
    refresh_token, client_id = creds.get("refresh_token"), creds.get("client_id")
    if not refresh_token or not client_id:
        raise AuthError("X access token expired and no refresh_token/client_id to renew it")
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    secret = creds.get("client_secret")
    auth = None
    if secret:
        auth = HTTPBasicAuth(client_id, secret)  # confidential client
    else:
        form["client_id"] = client_id  # public client
    try:
        response = session.post(
            f"{base_url.rstrip('/')}/2/oauth2/token", data=form, auth=auth, timeout=timeout
        )
    except requests.RequestException as exc:
        raise TransientNetworkError(f"X token refresh failed: {exc}") from exc
    if response.status_code >= 500:
        raise TransientNetworkError(f"X token refresh: HTTP {response.status_code}")
    if not response.ok:
        raise AuthError(f"X refused the refresh token: HTTP {response.status_code}")
    return {**creds, **_credentials(response.json(), client_id=client_id, client_secret=secret)}


def _credentials(
    token: Mapping[str, object], *, client_id: str, client_secret: str | None
) -> dict[str, str]:
    creds = {"access_token": str(token["access_token"]), "client_id": client_id}
    if token.get("refresh_token"):
        creds["refresh_token"] = str(token["refresh_token"])
    if token.get("expires_in"):
        creds["expires_at"] = f"{time.time() + float(str(token['expires_in'])):.0f}"
    if token.get("scope"):
        creds["scope"] = str(token["scope"])
    if client_secret:
        creds["client_secret"] = client_secret
    return creds


class TokenState:
    """The live OAuth 2.0 credentials of one account, shared by its connectors in this process.

    X rotates the refresh token at each refresh and the old one stops working: if the mentions,
    search, DM and sending connectors of an account each refreshed with their own copy, all but
    the first would be refused. They share one state, found through any refresh token of its
    lineage, and a connector whose token went stale adopts the one already renewed.
    """

    _lineage: dict[str, TokenState] = {}
    _registry_lock = threading.Lock()

    def __init__(self, creds: Mapping[str, str]) -> None:
        self.creds = dict(creds)
        self.lock = threading.Lock()

    @classmethod
    def for_credentials(cls, creds: Mapping[str, str]) -> TokenState:
        refresh_token = creds.get("refresh_token")
        if not refresh_token:
            return cls(creds)
        with cls._registry_lock:
            state = cls._lineage.get(refresh_token)
            if state is None:
                state = cls._lineage[refresh_token] = cls(creds)
            return state

    def refresh(
        self,
        session: requests.Session,
        base_url: str,
        *,
        stale_access_token: str,
        timeout: float,
        save: Callable[[dict[str, str]], None] | None,
    ) -> tuple[dict[str, str], bool]:
        """The renewed credentials, and whether this call renewed them (or adopted them)."""
        with self.lock:
            if self.creds.get("access_token") != stale_access_token:
                return self.creds, False  # a sibling connector renewed them meanwhile
            new = refresh_oauth2(session, base_url, self.creds, timeout=timeout)
            if save is not None:
                save(dict(new))  # stored before we use it: the old refresh token is now dead
            self.creds = new
            if new.get("refresh_token"):
                with self._registry_lock:
                    self._lineage[new["refresh_token"]] = self
            return new, True
