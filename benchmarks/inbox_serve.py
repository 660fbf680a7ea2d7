"""The inbox benchmark's parts that need a running desk: `carebird serve` in its own process on
loopback, 20 clients of `hey` against it (requests/s, p50/p99), and the live delay from a
message entering the pipeline to the event that puts it in an open inbox."""

from __future__ import annotations

import json
import math
import os
import queue
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, tuple_

from carebird.auth.service import create_agent, issue_token
from carebird.db.database import Database
from carebird.flows.intake import after_batch, process_batch
from carebird.ingest.base import InboundItem
from carebird.ingest.models import Message
from tests.factories import intake_for

ENSURE_HEY = Path(__file__).resolve().parent.parent / "scripts" / "ensure-hey.sh"


def ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50_ms": math.nan, "p99_ms": math.nan}
    values = sorted(values)
    p99 = values[min(len(values) - 1, math.ceil(len(values) * 0.99) - 1)]
    return {"p50_ms": round(statistics.median(values) * 1000, 1), "p99_ms": round(p99 * 1000, 1)}


def token_for(db: Database, *, email: str, role: str = "agent") -> str:
    with db.session() as s, s.begin():
        agent = create_agent(s, email=email, name="Bench " + role, password=None, role=role)
        return issue_token(s, agent=agent, kind="api", name="bench")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(url: str, port: int, workers: int = 1) -> Iterator[None]:
    """`carebird serve --workers N` on 127.0.0.1:`port`, stopped (terminate, then kill) on
    exit."""
    env = {
        **os.environ,
        "CAREBIRD_DATABASE_URL": url,
        "CAREBIRD_ENV": "test",
        "CAREBIRD_SECRET_KEY": "bench-" + "x" * 30,
        "CAREBIRD_ADMIN_PASSWORD": "bench-password-123",
    }
    command = [sys.executable, "-m", "carebird", "serve", "--host", "127.0.0.1"]
    command += ["--workers", str(workers)]
    proc = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert proc.poll() is None, "carebird serve stopped"
                assert time.monotonic() < deadline, "carebird serve did not start"
                time.sleep(0.2)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --- load -----------------------------------------------------------------------------------
def hey(port: int, path: str, token: str, *, clients: int, seconds: float) -> dict[str, Any]:
    """`clients` concurrent clients for `seconds` on one URL: requests/s, p50/p99, statuses."""
    if shutil.which("hey") is None:
        subprocess.run(["bash", str(ENSURE_HEY)], check=True, timeout=600)
    command = ["hey", "-z", f"{max(1, round(seconds))}s", "-c", str(clients), "-t", "30"]
    command += ["-H", f"Authorization: Bearer {token}", f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 90
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    pct = {p: float(v) for p, v in re.findall(r"(\d+)%+ in ([\d.]+) secs", out)}
    codes = {c: int(n) for c, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", out)}
    return {
        "requests_per_s": round(float(rate.group(1)), 1) if rate else 0.0,
        "p50_ms": round(pct.get("50", math.nan) * 1000, 1),
        "p99_ms": round(pct.get("99", math.nan) * 1000, 1),
        "statuses": codes,
    }


# --- live delay -----------------------------------------------------------------------------
def _listen(
    port: int,
    token: str,
    received: queue.Queue[tuple[int, int, float]],
    ready: threading.Event,
    stop: threading.Event,
) -> None:
    """Read the event stream, putting (case id, newest message id, arrival time) of each
    case's event."""
    headers = {"Authorization": f"Bearer {token}"}
    url = f"http://127.0.0.1:{port}/api/events/stream"
    with (
        httpx.Client(timeout=httpx.Timeout(10, read=None)) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        ready.set()
        for line in response.iter_lines():
            if stop.is_set():
                return
            if line.startswith("data: {"):
                at = time.perf_counter()
                payload = json.loads(line[6:])
                case_id, mid = payload.get("case_id"), payload.get("message_id")
                if case_id is not None and mid is not None:
                    received.put((case_id, mid, at))


def _feed(
    db: Database, items: list[InboundItem], rate: float
) -> tuple[dict[int, dict[int, float]], float]:
    """Messages into the pipeline as they arrive at `rate`: every tick, those due since the
    last one, as one batch (as a connector hands them over). Returns each case's messages
    (id: arrival time), and the rate achieved."""
    started: dict[int, dict[int, float]] = {}
    index = {it.external_id: i for i, it in enumerate(items)}
    begin, n = time.perf_counter(), 0
    while n < len(items):
        due_n = min(len(items), int((time.perf_counter() - begin) * rate) + 1)
        batch, n = items[n:due_n], due_n
        with db.session() as s, s.begin():
            after_batch(s, process_batch(s, batch, intake=intake_for()))
            keys = [(it.network, it.external_id) for it in batch]
            found = s.execute(
                select(Message.id, Message.case_id, Message.external_id).where(
                    tuple_(Message.network, Message.external_id).in_(keys)
                )
            ).all()
        for mid, case_id, ext in found:
            if case_id is not None:  # a message kept out of every case shows in no inbox
                # when it arrived, not when processed
                started.setdefault(case_id, {})[mid] = begin + index[ext] / rate
        wait = begin + n / rate - time.perf_counter()
        time.sleep(max(0.0, min(wait, 0.02)))
    return started, len(items) / (time.perf_counter() - begin)


def live_delay(
    db: Database, port: int, items: list[InboundItem], *, rate: float, token: str
) -> dict[str, Any]:
    """From a message's arrival to the event that shows it on an open inbox's stream (a desk
    serving on `port`), p50/p99. A case's event names its newest message: the row it puts on
    the page shows every message of the case up to that one (a batch with two messages of one
    case announces the case once)."""
    received: queue.Queue[tuple[int, int, float]] = queue.Queue()
    stop, ready = threading.Event(), threading.Event()
    reader = threading.Thread(
        target=_listen, args=(port, token, received, ready, stop), daemon=True
    )
    reader.start()
    assert ready.wait(30)
    with db.session() as s, s.begin():  # load the classifier before the clock runs
        after_batch(s, process_batch(s, items[:1], intake=intake_for()))
    time.sleep(0.5)
    started, achieved = _feed(db, items[1:], rate)
    expected = sum(len(m) for m in started.values())
    delays: list[float] = []
    deadline = time.monotonic() + 15
    while len(delays) < expected and time.monotonic() < deadline:
        try:
            case_id, newest, at = received.get(timeout=0.5)
        except queue.Empty:
            continue
        waiting = started.get(case_id, {})
        for mid in [m for m in waiting if m <= newest]:
            delays.append(at - waiting.pop(mid))
    stop.set()
    return {
        "rate_asked": rate,
        "rate_achieved": round(achieved, 1),
        "delivered": len(delays),
        "expected": expected,
        **ms(delays),
    }
