"""The peer's HTTP face: XRPC over Starlette, served by uvicorn in a thread on 127.0.0.1.

Every request passes, in order: fault injection (`fail_next`), the rate-limit window (every
answer carries ratelimit-limit / -remaining / -reset / -policy, as Bluesky sends), the chat proxy
header for chat.bsky.*, authentication (Bearer access JWT; refreshSession takes the refresh JWT),
params and input validated against the lexicons, the handler, and the output validated against
the lexicon. In strict mode a lexicon violation either way is recorded in `violations` and
answered with an error, so a test sees both the failure and its cause.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.bsky_peer.handlers import CHAT_PROXY, METHODS
from tests.support.bsky_peer.lexicon import HERE, Lexicons
from tests.support.bsky_peer.state import PeerState, XrpcError

log = logging.getLogger(__name__)


@dataclass
class Fault:
    status: int
    retry_after: float = 0.0
    after_commit: bool = False  # run the method, then fail: the client cannot know it worked
    only: str | None = None  # restrict to one method
    skip: int = 0  # let this many matching requests through first


class BlueskyPeer:
    """A local Bluesky (PDS + AppView + chat) for tests. Use as a context manager."""

    def __init__(
        self,
        lexicon_dir: Path,
        *,
        strict: bool = True,
        rate_limit: int = 3000,
        window: int = 300,
        access_ttl: float = 7200.0,
    ) -> None:
        self.state = PeerState(access_ttl=access_ttl)
        self.lexicons = Lexicons([lexicon_dir, HERE / "lexicons"])
        self.state.lexicons = self.lexicons
        self.strict = strict
        self.violations: list[str] = []
        self.calls: list[str] = []  # every method called, in order
        self.rate_limit, self.window = rate_limit, window
        self._window_start, self._used = time.time(), 0
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- control --------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        retry_after: float = 0.0,
        after_commit: bool = False,
        only: str | None = None,
        skip: int = 0,
    ) -> None:
        """The next `times` requests (of method `only`, after letting `skip` of them through)
        answer `status`; with `after_commit` the method runs first, then fails."""
        with self._lock:
            self._faults.extend(
                Fault(status, retry_after, after_commit, only, skip if i == 0 else 0)
                for i in range(times)
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def __enter__(self) -> BlueskyPeer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        app = Starlette(routes=[Route("/xrpc/{nsid}", self._endpoint, methods=["GET", "POST"])])
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="bsky-peer", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Bluesky peer did not start")
            time.sleep(0.005)
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    # -- HTTP -----------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        nsid = request.path_params["nsid"]
        query: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            query.setdefault(key, []).append(value)
        body = await request.body()
        status, payload, headers = self.handle(request.method, nsid, request.headers, query, body)
        return Response(
            json.dumps(payload, ensure_ascii=False) if payload is not None else b"",
            status_code=status,
            headers=headers,
            media_type="application/json" if payload is not None else None,
        )

    def handle(
        self, verb: str, nsid: str, headers: Any, query: dict[str, list[str]], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        limit_headers, fault = self._admit(nsid)
        self.calls.append(nsid)
        if fault is not None and not fault.after_commit:
            return self._fault(fault, limit_headers)
        try:
            with self.state.lock:
                out = self._call(verb, nsid, headers, query, body)
        except XrpcError as exc:
            return exc.status, {"error": exc.error, "message": exc.message}, limit_headers
        if fault is not None:
            return self._fault(fault, limit_headers)
        return 200, out, limit_headers

    def _admit(self, nsid: str) -> tuple[dict[str, str], Fault | None]:
        with self._lock:
            now = time.time()
            if now - self._window_start >= self.window:
                self._window_start, self._used = now, 0
            self._used += 1
            reset = int(self._window_start + self.window)
            headers = {
                "ratelimit-limit": str(self.rate_limit),
                "ratelimit-remaining": str(max(0, self.rate_limit - self._used)),
                "ratelimit-reset": str(reset),
                "ratelimit-policy": f"{self.rate_limit};w={self.window}",
            }
            fault = None
            if self._faults and self._faults[0].only in (None, nsid):
                if self._faults[0].skip > 0:
                    self._faults[0].skip -= 1
                else:
                    fault = self._faults.popleft()
            return headers, fault

    def _fault(self, fault: Fault, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if fault.status == 429:
            reset = math.ceil(time.time() + fault.retry_after)
            headers = {**headers, "ratelimit-remaining": "0", "ratelimit-reset": str(reset)}
            return 429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, headers
        error = "InternalServerError" if fault.status == 500 else "UpstreamFailure"
        return fault.status, {"error": error, "message": "Injected failure"}, headers

    def _call(
        self, verb: str, nsid: str, headers: Any, query: dict[str, list[str]], body: bytes
    ) -> Any:
        method, schema = METHODS.get(nsid), self.lexicons.method(nsid)
        if method is None or schema is None:
            raise XrpcError(501, "MethodNotImplemented", f"Method Not Implemented: {nsid}")
        expected = "GET" if schema["type"] == "query" else "POST"
        if verb != expected:
            raise XrpcError(400, "InvalidRequest", f"{nsid} takes {expected}")
        if method.chat and headers.get("atproto-proxy") != CHAT_PROXY:
            self._violation(f"{nsid}: called without atproto-proxy: {CHAT_PROXY}")
            raise XrpcError(400, "InvalidRequest", "chat methods go through the bsky_chat proxy")
        caller = self._authenticate(nsid, method.auth, headers.get("authorization"))
        params, errors = self.lexicons.parse_params(schema.get("parameters"), query)
        data: Any = None
        if schema["type"] == "procedure" and "input" in schema:
            encoding = schema["input"].get("encoding")
            if encoding == "application/json":
                try:
                    data = json.loads(body or b"null")
                except ValueError:
                    raise XrpcError(400, "InvalidRequest", "body is not JSON") from None
                errors += self.lexicons.check(schema["input"]["schema"], data, nsid, "input")
            else:
                data = (body, headers.get("content-type", "application/octet-stream"))
        if errors:
            self._violation(f"{nsid} request: " + "; ".join(errors))
            raise XrpcError(400, "InvalidRequest", "; ".join(errors))
        out = method.handler(self.state, caller, params, data)
        output = schema.get("output", {}).get("schema")
        if output is not None:
            problems = self.lexicons.check(output, out, nsid, "output")
            if problems:
                self._violation(f"{nsid} response: " + "; ".join(problems))
                if self.strict:
                    raise XrpcError(500, "InternalServerError", "; ".join(problems))
        return out

    def _authenticate(self, nsid: str, need: str, header: str | None) -> str | None:
        token = header[7:] if header and header.lower().startswith("bearer ") else None
        if need == "none":
            return None
        state = self.state
        if need == "refresh":
            did = state.refresh.pop(token, None) if token else None  # refresh tokens: single use
            if did is None:
                raise XrpcError(400, "ExpiredToken", "Token has been revoked")
            return did
        if token is None:
            if need == "access":
                raise XrpcError(401, "AuthenticationRequired", "Authentication Required")
            return None
        session = state.access.get(token)
        if session is None:
            raise XrpcError(400, "InvalidToken", "Token could not be verified")
        if session.expired:
            raise XrpcError(400, "ExpiredToken", "Token has expired")
        return session.did

    def _violation(self, text: str) -> None:
        log.warning("bluesky peer: %s", text)
        self.violations.append(text)
