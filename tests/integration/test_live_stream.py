"""The server-sent event stream over real HTTP (uvicorn on loopback), on both engines.

Two apps with their own Database objects on one database stand for two uvicorn workers: a
case ingested through one reaches a stream opened on the other, because the fan-out goes
through the database.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from carebird.config import Settings
from carebird.db.database import Database
from carebird.web.api import live
from carebird.web.app import create_app
from tests.factories import agent_with_token, bearer, case_of, customer, item
from tests.integration.test_live_events import ingest_live


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run `app` on a free loopback port in a thread; yield its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        ws="none",
        http="h11",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Listener:
    """Reads one SSE response in a thread; events and comments land in a queue."""

    def __init__(self, base: str, token: str, *, last_event_id: int | None = None) -> None:
        headers = bearer(token)
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.client = httpx.Client(base_url=base, timeout=httpx.Timeout(30, read=None))
        self.items: queue.Queue[dict[str, Any]] = queue.Queue()
        self.status: int | None = None
        self._closed = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(headers,), daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "no response from the stream"

    def _run(self, headers: dict[str, str]) -> None:
        try:
            with self.client.stream("GET", "/api/events/stream", headers=headers) as response:
                self.status = response.status_code
                self.content_type = response.headers.get("content-type", "")
                self._ready.set()
                fields: dict[str, Any] = {}
                for line in response.iter_lines():
                    if self._closed.is_set():
                        return  # leaving the block closes the connection
                    if line == "":
                        if fields:
                            self.items.put(fields)
                        fields = {}
                    elif line.startswith(":"):
                        self.items.put({"comment": line[1:].strip()})
                    else:
                        name, _, value = line.partition(":")
                        fields[name] = value[1:] if value.startswith(" ") else value
        except (httpx.HTTPError, RuntimeError):
            pass  # closed by the test
        finally:
            self._ready.set()

    def next_event(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        """The next event of `kind` (skipping others), its data decoded."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {kind} event within {timeout} s"
            got = self.items.get(timeout=left)
            if got.get("event") == kind:
                return {"id": int(got["id"]), **json.loads(got["data"])}

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=10)
        self.client.close()


@pytest.fixture(autouse=True)
def quick_keepalive(monkeypatch: pytest.MonkeyPatch) -> None:
    # Keep-alives every 0.5 s let a test's reader notice it was closed, and the server its
    # client gone, at once.
    monkeypatch.setattr(live, "KEEPALIVE_SECONDS", 0.5)
    monkeypatch.setattr(live, "TICK_SECONDS", 0.25)


@pytest.fixture
def two_apps(settings: Settings, db_url: str) -> Iterator[tuple[Database, str, Database, str]]:
    """Two apps (two "workers") with their own Database objects on one database."""
    db_a, db_b = Database(db_url), Database(db_url)
    try:
        with (
            serve(create_app(settings, db=db_a)) as url_a,
            serve(create_app(settings, db=db_b)) as url_b,
        ):
            yield db_a, url_a, db_b, url_b
    finally:
        db_a.dispose()
        db_b.dispose()


def test_a_new_case_reaches_a_stream_on_another_worker(
    two_apps: tuple[Database, str, Database, str],
) -> None:
    db_a, _, db_b, url_b = two_apps
    _, token = agent_with_token(db_b, "viewer")
    stream = Listener(url_b, token)
    try:
        assert stream.status == 200 and stream.content_type.startswith("text/event-stream")
        assert stream.items.get(timeout=5) == {"retry": "3000"}
        ingest_live(db_a, [item(customer(1), "mon colis n'arrive pas", external_id="s1")])
        event = stream.next_event("case.new")
        assert event["case_id"] == case_of(db_a, "s1") and event["kind"] == "case.new"
        assert event["status"] == "new" and event["network"] == "x"
        assert {"priority", "category", "assignee_id", "message_id"} <= set(event)
    finally:
        stream.close()


def test_the_stream_resumes_from_last_event_id(
    two_apps: tuple[Database, str, Database, str],
) -> None:
    db_a, url_a, db_b, url_b = two_apps
    _, token = agent_with_token(db_b, "agent")
    first = Listener(url_b, token)
    try:
        ingest_live(db_a, [item(customer(1), "bonjour, colis perdu", external_id="r1")])
        seen = first.next_event("case.new")
    finally:
        first.close()
    # While nobody listens, two more cases arrive.
    ingest_live(db_a, [item(customer(2), "where is my refund", external_id="r2")])
    ingest_live(db_a, [item(customer(3), "app crashes", external_id="r3")])
    again = Listener(url_a, token, last_event_id=seen["id"])  # the other worker this time
    try:
        missed = [again.next_event("case.new") for _ in range(2)]
        assert [m["case_id"] for m in missed] == [case_of(db_a, "r2"), case_of(db_a, "r3")]
        assert missed[0]["id"] > seen["id"]
        ingest_live(db_a, [item(customer(4), "still nothing", external_id="r4")])
        assert again.next_event("case.new")["case_id"] == case_of(db_a, "r4")
        deadline = time.monotonic() + 10
        while again.items.get(timeout=deadline - time.monotonic()).get("comment") != "keep-alive":
            pass
    finally:
        again.close()


def test_a_resume_point_that_was_purged_asks_for_a_reload(
    two_apps: tuple[Database, str, Database, str],
) -> None:
    _, _, db_b, url_b = two_apps
    _, token = agent_with_token(db_b, "viewer")
    stream = Listener(url_b, token, last_event_id=10**9)  # from another database, or the future
    try:
        assert stream.items.get(timeout=5) == {"retry": "3000"}
        assert stream.items.get(timeout=5) == {"event": "reset", "data": "{}"}
    finally:
        stream.close()


def test_a_stream_ends_after_its_lifetime_for_the_browser_to_reconnect(
    two_apps: tuple[Database, str, Database, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "STREAM_MAX_SECONDS", 0.5)
    _, _, db_b, url_b = two_apps
    _, token = agent_with_token(db_b, "viewer")
    stream = Listener(url_b, token)
    try:
        stream._thread.join(timeout=10)
        assert not stream._thread.is_alive()  # the server closed the response
        assert stream.items.get(timeout=1) == {"retry": "3000"}
    finally:
        stream.close()
