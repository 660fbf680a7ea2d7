"""XPeer: the local X API v2 peer, served by uvicorn on 127.0.0.1 in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from tests.support.x_peer.app import ENDPOINTS, Fault, PeerConfig, XPeerApp
from tests.support.x_peer.auth import Tokens
from tests.support.x_peer.spec import specs
from tests.support.x_peer.state import XState


class XPeer:
    """Start with `with XPeer() as peer:`; `peer.base_url` is what the connector calls.

    spelling   "tweet" (spec 2.159 names) or "post" (spec 2.167 names) for what it accepts and
               answers; validate: check every response against both specs (on in tests);
    window     seconds of a rate-limit window (900 like X; shorter to test resets);
    limits     per-endpoint request limits overriding X's, keyed "GET /2/users/{id}/mentions".
    """

    def __init__(
        self,
        *,
        spelling: str = "tweet",
        validate: bool = True,
        window: float = 900.0,
        limits: dict[str, int] | None = None,
        token_lifetime: float = 7200.0,
    ) -> None:
        if spelling not in ("tweet", "post"):
            raise ValueError("spelling is 'tweet' or 'post'")
        specs()  # loaded once; a test skips here where ../shared/data is absent
        self.state = XState()
        self.tokens = Tokens(lifetime=token_lifetime)
        self.config = PeerConfig(spelling, validate, window, dict(limits or {}))
        self.web = XPeerApp(self.state, self.tokens, self.config)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    @property
    def spelling(self) -> str:
        return self.config.spelling

    def start(self) -> XPeer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.web.app, log_level="warning", lifespan="off", ws="none", access_log=False
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="x-peer", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the X peer did not start")
            time.sleep(0.005)
        self._server, self._thread, self._socket = server, thread, sock
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._socket.close()
            self._server = self._thread = None

    def __enter__(self) -> XPeer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- faults -----------------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, *, retry_after: float = 0.0) -> None:
        """The next `times` API requests answer `status` without doing anything."""
        self.web.faults.extend([Fault(status, retry_after)] * times)

    def lose_next(self, status: int = 503, times: int = 1) -> None:
        """The next `times` API requests are carried out, then answered `status`."""
        self.web.faults.extend([Fault(status, lose=True)] * times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        self.web.delays.extend([seconds] * times)

    # -- checks -----------------------------------------------------------------------------

    def assert_valid(self) -> None:
        """Raise if any response the peer sent was refused by one of the specs."""
        if self.web.invalid:
            raise AssertionError("X peer sent invalid responses:\n" + "\n".join(self.web.invalid))

    @property
    def endpoints(self) -> list[str]:
        return [e.key for e in ENDPOINTS]
