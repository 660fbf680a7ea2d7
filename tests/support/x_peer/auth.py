"""Who is calling the peer: an app bearer token, an OAuth 2.0 user token, or OAuth 1.0a.

OAuth 1.0a signatures are verified (HMAC-SHA1 over the method, URL and every parameter, with
oauthlib's reference implementation), so a client that signs the wrong parameters is refused.
OAuth 2.0 access tokens expire; refresh rotates both tokens and kills the old refresh token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from oauthlib.oauth1.rfc5849 import signature as oauth1_signature
from oauthlib.oauth1.rfc5849.utils import escape, parse_authorization_header


class Unauthorized(Exception):
    pass


@dataclass
class OAuth2Grant:
    user_id: str
    client_id: str
    expires_at: float
    refresh_token: str


@dataclass
class PendingCode:
    user_id: str
    client_id: str
    redirect_uri: str
    challenge: str


@dataclass
class Tokens:
    """The peer's credential book."""

    clock: Callable[[], float] = time.time
    lifetime: float = 7200.0
    app_bearer: dict[str, str] = field(default_factory=dict)  # token -> app name
    access: dict[str, OAuth2Grant] = field(default_factory=dict)
    refresh: dict[str, tuple[str, str]] = field(default_factory=dict)  # -> (user, client)
    oauth1: dict[tuple[str, str], tuple[str, str, str]] = field(default_factory=dict)
    codes: dict[str, PendingCode] = field(default_factory=dict)
    clients: dict[str, str | None] = field(default_factory=dict)  # client_id -> secret
    refreshes: int = 0
    approver: str | None = None  # the user signed in on X's consent page (None: nobody)
    deny: bool = False  # the user presses "Cancel" on the consent page
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- issuing ----------------------------------------------------------------------------

    def issue_oauth2(self, user_id: str, client_id: str) -> dict[str, object]:
        with self.lock:
            access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            self.access[access] = OAuth2Grant(
                user_id, client_id, self.clock() + self.lifetime, refresh
            )
            self.refresh[refresh] = (user_id, client_id)
            return {
                "token_type": "bearer",
                "expires_in": int(self.lifetime),
                "access_token": access,
                "refresh_token": refresh,
                "scope": "tweet.read tweet.write users.read dm.read dm.write offline.access",
            }

    def issue_oauth1(self, user_id: str, consumer_key: str, consumer_secret: str) -> dict[str, str]:
        token, secret = secrets.token_hex(16), secrets.token_urlsafe(24)
        self.oauth1[(consumer_key, token)] = (user_id, consumer_secret, secret)
        return {
            "consumer_key": consumer_key,
            "consumer_secret": consumer_secret,
            "access_token": token,
            "access_token_secret": secret,
        }

    def authorize(self, user_id: str, client_id: str, redirect_uri: str, challenge: str) -> str:
        """The user consents on X's page: a code for the PKCE exchange."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = PendingCode(user_id, client_id, redirect_uri, challenge)
        return code

    def expire_all(self) -> None:
        with self.lock:
            for grant in self.access.values():
                grant.expires_at = 0.0

    # -- the token endpoint -----------------------------------------------------------------

    def token_grant(self, form: Mapping[str, str], basic: tuple[str, str] | None) -> dict:
        client_id = basic[0] if basic else form.get("client_id", "")
        if client_id not in self.clients:
            raise Unauthorized("unknown client")
        secret = self.clients[client_id]
        if secret is not None and (basic is None or basic[1] != secret):
            raise Unauthorized("a confidential client must authenticate")
        grant = form.get("grant_type")
        if grant == "refresh_token":
            with self.lock:
                owner = self.refresh.pop(form.get("refresh_token", ""), None)
                if owner is None or owner[1] != client_id:
                    raise Unauthorized("invalid refresh token")
                self.refreshes += 1
            return self.issue_oauth2(owner[0], client_id)
        if grant == "authorization_code":
            pending = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            if (
                pending is None
                or pending.client_id != client_id
                or pending.redirect_uri != form.get("redirect_uri")
                or pending.challenge != challenge
            ):
                raise Unauthorized("invalid authorization code or PKCE verifier")
            return self.issue_oauth2(pending.user_id, client_id)
        raise Unauthorized(f"unsupported grant_type {grant!r}")

    # -- checking a request -----------------------------------------------------------------

    def identify(
        self, method: str, url: str, authorization: str, form_body: str = ""
    ) -> tuple[str | None, str]:
        """(user id or None for app-only, an identity key for rate limits)."""
        if authorization.startswith("Bearer "):
            token = authorization[7:].strip()
            if token in self.app_bearer:
                return None, f"app:{self.app_bearer[token]}"
            grant = self.access.get(token)
            if grant is None:
                raise Unauthorized("unknown access token")
            if self.clock() >= grant.expires_at:
                raise Unauthorized("expired access token")
            return grant.user_id, f"user:{grant.user_id}"
        if authorization.startswith("OAuth "):
            return self._oauth1(method, url, authorization, form_body)
        raise Unauthorized("no credentials")

    def _oauth1(self, method: str, url: str, authorization: str, form_body: str) -> tuple[str, str]:
        header = {k: unquote(v) for k, v in parse_authorization_header(authorization)}
        key = (header.get("oauth_consumer_key", ""), header.get("oauth_token", ""))
        found = self.oauth1.get(key)
        if found is None:
            raise Unauthorized("unknown OAuth 1.0a consumer key or token")
        user_id, consumer_secret, token_secret = found
        params = oauth1_signature.collect_parameters(
            uri_query=url.partition("?")[2],
            body=form_body or None,
            headers={"Authorization": authorization},
            exclude_oauth_signature=True,
        )
        base = oauth1_signature.signature_base_string(
            method.upper(),
            oauth1_signature.base_string_uri(url.partition("?")[0]),
            oauth1_signature.normalize_parameters(params),
        )
        signing_key = f"{escape(consumer_secret)}&{escape(token_secret)}"
        digest = hmac.new(signing_key.encode(), base.encode(), hashlib.sha1).digest()
        expected = base64.b64encode(digest).decode()
        if not secrets.compare_digest(expected, header.get("oauth_signature", "")):
            raise Unauthorized("bad OAuth 1.0a signature")
        return user_id, f"user:{user_id}"
