"""The peer's HTTP face: routes, auth, rate limits, faults, and spec checks on both sides.

Every API request goes through `XPeerApp.dispatch`: injected faults first (a 429 storm, a
500/503, a slow answer), then credentials, the endpoint's rate-limit window, the query and body
against the spec of the spelling spoken, the handler, and finally the response body against the
matching response schema of BOTH specs. An invalid response is a peer bug: in strict mode it is
recorded (the harness raises it at exit) and answered 500. The OAuth 2.0 token endpoint and
the consent page (/i/oauth2/authorize, approved at once by `tokens.approver`) are in neither
spec and go unchecked.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support.x_peer import handlers
from tests.support.x_peer.auth import Tokens, Unauthorized
from tests.support.x_peer.spec import SpecError, specs
from tests.support.x_peer.state import XState

Handler = Callable[["Call"], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as in the specs, e.g. /2/users/{id}/mentions
    handler: Handler
    limit: int  # requests per 15-minute window, X's published figure for the endpoint
    user_context: bool = False  # refused to app-only bearer tokens

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS = [
    Endpoint("GET", "/2/users/{id}/mentions", handlers.mentions, 450),
    Endpoint("GET", "/2/users/{id}/tweets", handlers.user_posts, 900),
    Endpoint("GET", "/2/tweets/search/recent", handlers.search_recent, 450),
    Endpoint("GET", "/2/tweets", handlers.posts_by_ids, 900),
    Endpoint("POST", "/2/tweets", handlers.create_post, 200, user_context=True),
    Endpoint("GET", "/2/dm_events", handlers.dm_events, 300, user_context=True),
    Endpoint(
        "GET",
        "/2/dm_conversations/with/{participant_id}/dm_events",
        handlers.dm_conversation,
        300,
        user_context=True,
    ),
    Endpoint(
        "POST",
        "/2/dm_conversations/with/{participant_id}/messages",
        handlers.send_dm,
        200,
        user_context=True,
    ),
    Endpoint("POST", "/2/media/upload", handlers.media_upload, 500, user_context=True),
    Endpoint("GET", "/2/users/by/username/{username}", handlers.user_by_username, 900),
    Endpoint("GET", "/2/users", handlers.users_by_ids, 900),
    Endpoint("GET", "/2/users/me", handlers.me, 75, user_context=True),
]
WINDOW = 900.0


@dataclass
class Call:
    """One request as a handler sees it."""

    state: XState
    spelling: str
    actor: str | None  # the user acting, None for app-only
    path: dict[str, str]
    query: dict[str, Any]
    body: Any = None


@dataclass(frozen=True)
class Fault:
    status: int
    retry_after: float = 0.0
    lose: bool = False  # do the work, then answer `status`: the client never sees the outcome


@dataclass
class Window:
    limit: int
    reset_at: float
    used: int = 0


@dataclass
class PeerConfig:
    spelling: str = "tweet"
    validate: bool = True
    window: float = WINDOW
    limits: dict[str, int] = field(default_factory=dict)  # endpoint key -> limit override


class XPeerApp:
    def __init__(self, state: XState, tokens: Tokens, config: PeerConfig) -> None:
        self.state, self.tokens, self.config = state, tokens, config
        self.faults: list[Fault] = []  # for the next requests, in order
        self.delays: list[float] = []
        self.windows: dict[tuple[str, str], Window] = {}
        self.invalid: list[str] = []  # responses refused by a spec (peer bugs)
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (key, url, query) seen
        self.served: set[str] = set()  # endpoint keys answered 2xx
        self.statuses: list[tuple[str, int]] = []  # (endpoint key, status) of each answer
        routes = [Route(e.path, self._route(e), methods=[e.method]) for e in ENDPOINTS]
        routes.append(Route("/2/oauth2/token", self._token, methods=["POST"]))
        routes.append(Route("/i/oauth2/authorize", self._authorize, methods=["GET"]))
        self.app = Starlette(routes=routes)

    # -- plumbing ---------------------------------------------------------------------------

    def _route(self, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        async def route(request: Request) -> Response:
            return await self.dispatch(endpoint, request)

        return route

    def _error(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        endpoint: Endpoint | None = None,
    ) -> Response:
        body = {"code": status, "message": message}
        if endpoint is not None:
            self._check(endpoint, status, body)
        return JSONResponse(body, status_code=status, headers=headers)

    def _check(self, endpoint: Endpoint, status: int, body: Any) -> bool:
        if not self.config.validate:
            return True
        ok = True
        for spec in specs().values():
            try:
                spec.check_response(endpoint.path, endpoint.method, status, body)
            except SpecError as exc:
                self.invalid.append(str(exc))
                ok = False
        return ok

    def _headers(self, window: Window) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(window.limit),
            "x-rate-limit-remaining": str(max(window.limit - window.used, 0)),
            "x-rate-limit-reset": str(math.ceil(window.reset_at)),
        }

    def _window(self, endpoint: Endpoint, identity: str) -> Window:
        now = time.time()
        key = (endpoint.key, identity)
        window = self.windows.get(key)
        if window is None or now >= window.reset_at:
            limit = self.config.limits.get(endpoint.key, endpoint.limit)
            window = self.windows[key] = Window(limit, now + self.config.window)
        return window

    async def dispatch(self, endpoint: Endpoint, request: Request) -> Response:
        response = await self._dispatch(endpoint, request)
        self.statuses.append((endpoint.key, response.status_code))
        return response

    async def _dispatch(self, endpoint: Endpoint, request: Request) -> Response:
        query = dict(request.query_params)
        self.requests.append((endpoint.key, str(request.url), query))
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        fault = self.faults.pop(0) if self.faults else None
        if fault is not None and not fault.lose:
            if fault.status == 429:
                reset = math.ceil(time.time() + fault.retry_after)
                headers = {
                    "x-rate-limit-limit": str(endpoint.limit),
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(reset),
                }
                return self._error(429, "Too Many Requests", headers, endpoint=endpoint)
            return self._error(fault.status, "Injected failure", endpoint=endpoint)
        raw_body = await request.body()
        form = (
            raw_body.decode()
            if "form-urlencoded" in request.headers.get("content-type", "")
            else ""
        )
        try:
            actor, identity = self.tokens.identify(
                request.method,
                str(request.url),
                request.headers.get("authorization", ""),
                form,
            )
        except Unauthorized as exc:
            return self._error(401, f"Unauthorized: {exc}", endpoint=endpoint)
        window = self._window(endpoint, identity)
        if window.used >= window.limit:
            return self._error(429, "Too Many Requests", self._headers(window), endpoint=endpoint)
        window.used += 1
        headers = self._headers(window)
        if endpoint.user_context and actor is None:
            return self._error(
                403, "Unsupported Authentication: user context needed", headers, endpoint=endpoint
            )
        spec = specs()[self.config.spelling]
        try:
            values = spec.check_query(endpoint.path, endpoint.method, query)
            body = json.loads(raw_body) if raw_body and not form else None
            if endpoint.method == "POST":
                spec.check_body(endpoint.path, endpoint.method, body)
        except (SpecError, ValueError) as exc:
            return self._error(400, str(exc), headers, endpoint=endpoint)
        call = Call(
            self.state, self.config.spelling, actor, dict(request.path_params), values, body
        )
        try:
            with self.state.lock:
                status, payload = endpoint.handler(call)
        except handlers.ApiError as exc:
            return self._error(exc.status, exc.message, headers, endpoint=endpoint)
        if not self._check(endpoint, status, payload):
            return self._error(500, "peer bug: response refused by the spec", headers)
        if status < 300:
            self.served.add(endpoint.key)
        if fault is not None:  # done, but the answer is lost on the way
            return self._error(fault.status, "Injected failure after the work", endpoint=endpoint)
        return JSONResponse(payload, status_code=status, headers=headers)

    async def _authorize(self, request: Request) -> Response:
        """X's consent page, answered at once by `tokens.approver` (or refused with `deny`):
        back to the client's redirect URI with a code and the state, as X does."""
        q = request.query_params
        client_id, redirect_uri, state = (
            q.get("client_id", ""),
            q.get("redirect_uri", ""),
            q.get("state", ""),
        )
        if (
            client_id not in self.tokens.clients
            or not redirect_uri
            or q.get("response_type") != "code"
            or q.get("code_challenge_method") != "S256"
            or not q.get("code_challenge")
        ):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if self.tokens.deny or self.tokens.approver is None:
            answer = {"error": "access_denied", "state": state}
        else:
            code = self.tokens.authorize(
                self.tokens.approver, client_id, redirect_uri, q["code_challenge"]
            )
            answer = {"state": state, "code": code}
        sep = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(f"{redirect_uri}{sep}{urlencode(answer)}", status_code=302)

    async def _token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        basic = None
        auth = request.headers.get("authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            basic = (user, secret)
        try:
            token = self.tokens.token_grant(form, basic)
        except Unauthorized as exc:
            return JSONResponse(
                {"error": "invalid_request", "error_description": str(exc)}, status_code=400
            )
        return JSONResponse(token)
