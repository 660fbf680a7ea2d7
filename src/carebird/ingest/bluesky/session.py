"""One authenticated atproto SDK client per connector, and every call made through it.

Sessions: the first call logs in with the account's handle and app password (createSession),
unless the credentials already hold session tokens from an earlier run. The SDK refreshes the
access token shortly before its `exp`; a token the server has already expired or revoked comes
back as 400 ExpiredToken / 401, and the call is retried once after refreshSession (or, if the
refresh token is dead too, a new createSession). Every new pair of tokens is handed to
`account.save_credentials` before it is used.

Calls: `call(what, fn)` runs `fn(client)` through `Backoff.run`: 5xx, timeouts and dropped
connections become `TransientNetworkError`, a 429 becomes `RateLimited(retry_after)` computed
from `ratelimit-reset`, so short waits are slept and long ones handed back to the poll loop.
Every HTTP response's ratelimit-* headers are reported to the meter (an httpx response hook).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import httpx
from atproto_client import Client
from atproto_client.client.session import Session, SessionEvent
from atproto_client.exceptions import (
    BadRequestError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.models.common import XrpcError
from atproto_client.request import Request

from carebird.errors import AuthError, ConnectorError, RateLimited, TransientNetworkError
from carebird.ingest.calls import AccountSpec, Backoff, CallMeter, RateLimit

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_BASE_URL = "https://bsky.social"
_TOKEN_ERRORS = {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"}


def error_name(exc: RequestErrorBase) -> str:
    content = exc.response.content if exc.response is not None else None
    return content.error if isinstance(content, XrpcError) else ""


def error_message(exc: RequestErrorBase) -> str:
    content = exc.response.content if exc.response is not None else None
    return (content.message or "") if isinstance(content, XrpcError) else ""


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class BlueskySession:
    def __init__(
        self,
        account: AccountSpec,
        meter: CallMeter,
        backoff: Backoff,
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = 20.0,
    ) -> None:
        self.account, self.meter, self.backoff, self.clock = account, meter, backoff, clock
        self.base_url = str(account.options.get("base_url", DEFAULT_BASE_URL)).rstrip("/")
        self.handle = account.handle.lstrip("@")
        self._credentials = dict(account.credentials)
        hooks = {"response": [self._observe]}
        self.client = Client(self.base_url, request=Request(timeout=timeout, event_hooks=hooks))
        self.client.on_session_change(self._session_changed)
        self._chat: Client | None = None
        self._did: str | None = None
        self._lock = threading.RLock()  # one login / refresh at a time

    # -- identity -------------------------------------------------------------------------

    @property
    def did(self) -> str:
        if self._did is None:  # log in through `call`: retries and error mapping apply
            self.call("com.atproto.server.createSession", lambda _client: None)
        assert self._did is not None
        return self._did

    @property
    def chat(self) -> Client:
        """A clone of the client that sends `atproto-proxy: did:web:api.bsky.chat#bsky_chat`."""
        if self._chat is None:
            self._chat = self.client.with_bsky_chat_proxy()
        return self._chat

    def close(self) -> None:
        if self._chat is not None:
            self._chat.request.close()
        self.client.request.close()

    # -- calls ----------------------------------------------------------------------------

    def call(self, what: str, fn: Callable[[Client], T], *, chat: bool = False) -> T:
        """`fn(client)` with login, token refresh, error mapping and retries."""

        def attempt() -> T:
            try:
                return self._authenticated(fn, chat)
            except RateLimitExceededError as exc:
                raise RateLimited(f"{what}: 429", retry_after=self._retry_after(exc)) from exc
            except RequestErrorBase as exc:
                status = exc.response.status_code if exc.response is not None else None
                if status is None or status >= 500 or status == 408:
                    raise TransientNetworkError(f"{what}: {exc}") from exc
                raise XrpcFailure(what, status, error_name(exc), error_message(exc)) from exc

        return self.backoff.run(attempt, what=what)

    def _authenticated(self, fn: Callable[[Client], T], chat: bool) -> T:
        with self._lock:
            self._ensure_login()
        try:
            return fn(self.chat if chat else self.client)
        except (BadRequestError, UnauthorizedError) as exc:
            status = exc.response.status_code if exc.response is not None else None
            if error_name(exc) not in _TOKEN_ERRORS and status != 401:
                raise
            log.info("bluesky %s: %s, renewing the session", self.handle, error_name(exc) or exc)
            with self._lock:
                self._renew()
            return fn(self.chat if chat else self.client)

    def _retry_after(self, exc: RateLimitExceededError) -> float:
        # atproto_client ships no py.typed: name the types its properties document.
        retry_after: float | None = exc.retry_after
        reset_at: datetime | None = exc.reset_at
        if retry_after is not None:
            return retry_after
        if reset_at is not None:
            return max(0.0, reset_at.timestamp() - self.clock())
        return 60.0  # a 429 without a window: wait a minute

    def _observe(self, response: httpx.Response) -> None:
        headers = response.headers
        if "ratelimit-limit" not in headers and "ratelimit-remaining" not in headers:
            return
        endpoint = response.request.url.path.rsplit("/", 1)[-1]
        reset = _int_header(headers, "ratelimit-reset")
        limit = RateLimit(
            limit=_int_header(headers, "ratelimit-limit"),
            remaining=_int_header(headers, "ratelimit-remaining"),
            reset_at=float(reset) if reset is not None else None,
        )
        self.meter.observe(endpoint, limit)

    # -- sessions -------------------------------------------------------------------------

    def _ensure_login(self) -> None:
        if self._did is not None:
            return
        creds = self._credentials
        if creds.get("access_jwt") and creds.get("refresh_jwt") and creds.get("did"):
            session = Session(
                self.handle, creds["did"], creds["access_jwt"], creds["refresh_jwt"], self.base_url
            )
            try:
                self.client.login(session_string=session.encode(), fetch_bsky_profile=False)
                self._did = creds["did"]
                return
            except RequestErrorBase as exc:  # the SDK refreshed at once and that failed
                log.info("bluesky %s: saved session unusable (%s)", self.handle, exc)
        self._create_session()

    def _create_session(self) -> None:
        password = self._credentials.get("app_password") or self._credentials.get("password")
        if not password:
            raise AuthError(f"bluesky {self.handle}: no app_password in the credentials")
        try:
            self._login(password)
        except RateLimitExceededError:
            raise
        except (BadRequestError, UnauthorizedError) as exc:
            raise AuthError(f"bluesky {self.handle}: login refused: {exc}") from exc
        self.meter.record("other", 0)

    def _login(self, password: str) -> None:
        self.client.login(self.handle, password, fetch_bsky_profile=False)

    def _renew(self) -> None:
        """Refresh the session; if the refresh token is refused too, log in again."""
        if self._did is None:
            self._create_session()
            return
        try:
            self.client._refresh_and_set_session()  # the SDK's own refresh: saves via callback
            self.meter.record("other", 0)
        except (BadRequestError, UnauthorizedError) as exc:
            log.info("bluesky %s: refresh refused (%s), logging in again", self.handle, exc)
            self._create_session()

    def _session_changed(self, event: SessionEvent, session: Session) -> None:
        self._did = session.did
        if event is SessionEvent.IMPORT:
            return
        tokens = {
            "did": session.did,
            "access_jwt": session.access_jwt,
            "refresh_jwt": session.refresh_jwt,
        }
        self._credentials.update(tokens)
        if self.account.save_credentials is not None:
            self.account.save_credentials(dict(self._credentials))


class XrpcFailure(ConnectorError):
    """A request the server refused for good (4xx other than 429), with its XRPC error name."""

    def __init__(self, what: str, status: int, error: str, message: str) -> None:
        super().__init__(f"{what}: {status} {error}: {message}".rstrip(": "))
        self.status, self.error, self.message = status, error, message
