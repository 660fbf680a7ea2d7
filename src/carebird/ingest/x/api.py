"""One X account's API access: the official `xdk` SDK, with what it lacks added underneath.

Why xdk rather than tweepy: xdk is X's own SDK, generated from the current OpenAPI spec, so it
covers every endpoint we use (v2 media upload and DM conversations included) and takes a
`base_url` — the only way to aim it at a local peer. Tweepy 4.17 hard-codes
https://api.twitter.com and has no v2 media upload.

What xdk lacks, and how we add it without rewriting its client:
    rate-limit headers   a `requests` response hook on the SDK's session reads them, and keeps
                         the raw response: we normalise the exact JSON (xdk's pydantic models
                         are for the "post" spelling only);
    timeouts             xdk passes none: a transport adapter mounted on its session sets one;
    field spelling       xdk only writes `post.fields`; the field parameters of the account's
                         spelling go on the session's `params` for that one request, and the
                         OAuth 1.0a signer (a subclass of xdk's) signs them too;
    token refresh        see x_auth (public clients, http peer, tokens shared per account).
Retries are not here: the caller wraps each request in `Backoff.run`.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlparse

import pydantic
import requests
from requests.adapters import HTTPAdapter
from xdk import Client
from xdk.oauth1_auth import OAuth1

from carebird.errors import AuthError, ConnectorError, RateLimited, TransientNetworkError
from carebird.ingest.calls import AccountSpec, CallMeter, RateLimit
from carebird.ingest.x.auth import API_BASE, TokenState, credential_kind, token_expired
from carebird.ingest.x.normalize import SPELLINGS

log = logging.getLogger(__name__)
Params = Mapping[str, Mapping[str, str]]  # query parameters by spelling


class _SigningOAuth1(OAuth1):
    """xdk's OAuth 1.0a signer, also signing the parameters we add on the session."""

    extra: Mapping[str, str] = {}

    def build_request_header(self, method: str, url: str, body: str = "") -> str:
        if self.extra:
            url = f"{url}{'&' if urlparse(url).query else '?'}{urlencode(self.extra)}"
        return str(super().build_request_header(method, url, body))


class _TimeoutAdapter(HTTPAdapter):
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        return super().send(
            request, stream, self.timeout if timeout is None else timeout, verify, cert, proxies
        )


class _Unauthorized(Exception):
    pass


class XHttpError(ConnectorError):
    """X refused a request (a 4xx other than 401 and 429)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class XApi:
    """Requests for one account: auth, rate-limit headers, errors mapped to carebird's."""

    def __init__(
        self, account: AccountSpec, *, meter: CallMeter, timeout: float | None = None
    ) -> None:
        self.account = account
        self.meter = meter
        creds = dict(account.credentials)
        self.kind = credential_kind(creds)
        self.base_url = str(account.options.get("base_url") or API_BASE).rstrip("/")
        self.timeout = float(timeout or account.options.get("timeout", 30.0))
        spelling = str(account.options.get("field_spelling", "tweet"))
        if spelling not in SPELLINGS:
            raise ValueError(f"field_spelling must be one of {SPELLINGS}, not {spelling!r}")
        self.spelling = spelling
        self.tokens = TokenState.for_credentials(creds) if self.kind == "oauth2" else None
        self._signer: _SigningOAuth1 | None = None
        if self.kind == "oauth1":
            self._signer = _SigningOAuth1(
                api_key=creds["consumer_key"],
                api_secret=creds["consumer_secret"],
                callback="oob",
                access_token=creds["access_token"],
                access_token_secret=creds["access_token_secret"],
            )
        self.client = Client(
            base_url=self.base_url,
            bearer_token=creds.get("bearer_token") or None,
            access_token=self.tokens.creds["access_token"] if self.tokens else None,
            auth=self._signer,
        )
        session = self.client.session
        session.hooks["response"].append(self._on_response)
        adapter = _TimeoutAdapter(self.timeout)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._lock = threading.RLock()
        self._endpoint = ""
        self._last: requests.Response | None = None

    @property
    def user_context(self) -> bool:
        return self.kind in ("oauth1", "oauth2")

    def request(
        self, endpoint: str, call: Callable[[Client], Any], *, params: Params | None = None
    ) -> dict[str, Any]:
        """Make one request with the SDK (`call`) and return the response's JSON body.

        `endpoint` names the operation for the meter ("GET /2/users/:id/mentions"); `params`
        are extra query parameters by spelling. A 401 on OAuth 2.0 refreshes the token once; a
        400 naming the other spelling's field parameter switches spelling once.
        """
        with self._lock:
            self._renew_if_expired()
            try:
                return self._with_spelling(endpoint, call, params)
            except _Unauthorized:
                if self.tokens is None or not self.tokens.creds.get("refresh_token"):
                    raise AuthError(f"X {endpoint}: credentials refused (HTTP 401)") from None
                self._renew(self.client.access_token)
            try:
                return self._with_spelling(endpoint, call, params)
            except _Unauthorized:
                raise AuthError(f"X {endpoint}: refused even after a token refresh") from None

    def _with_spelling(
        self, endpoint: str, call: Callable[[Client], Any], params: Params | None
    ) -> dict[str, Any]:
        try:
            return self._once(endpoint, call, params)
        except ConnectorError as exc:
            other = next(s for s in SPELLINGS if s != self.spelling)
            if params is None or not isinstance(exc, XHttpError) or exc.status != 400:
                raise
            names = [n for n in params[self.spelling] if "." in n or n == "expansions"]
            if not any(name in str(exc) for name in names):
                raise
            log.warning("X refused %s field names; switching to %s", self.spelling, other)
            self.spelling = other
            return self._once(endpoint, call, params)

    def _once(
        self, endpoint: str, call: Callable[[Client], Any], params: Params | None
    ) -> dict[str, Any]:
        extra = dict(params[self.spelling]) if params else {}
        session = self.client.session
        self._endpoint, self._last = endpoint, None
        self._add_params(session, extra)
        try:
            self._call(endpoint, call)
        finally:
            self._add_params(session, {})
        if self._last is None:
            raise ConnectorError(f"X {endpoint}: the SDK made no request")
        try:
            return dict(self._last.json())
        except ValueError as exc:  # a truncated body: the network's fault, try again
            raise TransientNetworkError(f"X {endpoint}: unreadable body") from exc

    def _add_params(self, session: requests.Session, extra: dict[str, str]) -> None:
        """Query parameters the session adds to its requests, and the signer signs."""
        session.params = extra
        if self._signer is not None:
            self._signer.extra = extra

    def _call(self, endpoint: str, call: Callable[[Client], Any]) -> None:
        """Make the SDK's request (`_on_response` keeps the response); its errors as ours."""
        try:
            result = call(self.client)
            if inspect.isgenerator(result):  # xdk's paginated reads: one page per request
                try:
                    next(result)
                finally:
                    result.close()
        except requests.HTTPError as exc:
            raise self._error(endpoint, exc.response) from exc
        except requests.RequestException as exc:  # refused, dropped, timed out, cut short
            raise TransientNetworkError(f"X {endpoint}: {exc}") from exc
        except pydantic.ValidationError:
            # xdk's models follow one spelling; the raw body below is what we read anyway
            log.debug("X %s: the SDK's model did not fit; using the raw body", endpoint)
        except ValueError as exc:  # xdk's own check: no credential of ours fits the endpoint
            if "Authentication required" not in str(exc):
                raise
            raise AuthError(f"X {endpoint}: {self.kind} credentials cannot call it") from exc

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last = response
        headers = response.headers
        if "x-rate-limit-limit" in headers or "x-rate-limit-remaining" in headers:
            self.meter.observe(self._endpoint or response.request.path_url, _rate_limit(headers))

    def _error(self, endpoint: str, response: requests.Response | None) -> Exception:
        if response is None:
            return TransientNetworkError(f"X {endpoint}: no response")
        status = response.status_code
        if status == 401:
            return _Unauthorized()
        if status == 429:
            limit = _rate_limit(response.headers)
            wait = (limit.reset_at - time.time()) if limit.reset_at else None
            if wait is None:
                wait = float(response.headers.get("retry-after", 60))
            return RateLimited(f"X {endpoint}: rate limited", retry_after=max(wait, 0.0))
        if status >= 500:
            return TransientNetworkError(f"X {endpoint}: HTTP {status}")
        return XHttpError(f"X {endpoint}: HTTP {status}: {response.text[:500]}", status=status)

    def _renew_if_expired(self) -> None:
        if self.tokens is None:
            return
        creds = self.tokens.creds
        if creds["access_token"] != self.client.access_token:
            self.client.access_token = creds["access_token"]  # renewed by a sibling connector
        if token_expired(creds) and creds.get("refresh_token"):
            self._renew(creds["access_token"])

    def _renew(self, stale: str | None) -> None:
        assert self.tokens is not None
        new, renewed = self.tokens.refresh(
            self.client.session,
            self.base_url,
            stale_access_token=stale or "",
            timeout=self.timeout,
            save=self.account.save_credentials,
        )
        if renewed:
            self.meter.record("other", 0)  # the token endpoint: a call, but not billed
        self.client.access_token = new["access_token"]


def _rate_limit(headers: Mapping[str, str]) -> RateLimit:
    def number(name: str) -> int | None:
        value = headers.get(name)
        return int(value) if value and value.strip().lstrip("-").isdigit() else None

    reset = number("x-rate-limit-reset")
    return RateLimit(
        limit=number("x-rate-limit-limit"),
        remaining=number("x-rate-limit-remaining"),
        reset_at=float(reset) if reset is not None else None,
    )
