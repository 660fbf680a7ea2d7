"""Forty parallel guesses against a real server (uvicorn on loopback), on both engines.

The throttle's lock check and its count are one step, so the guesses check at most the
allowed number of passwords; and no login holds a second pooled connection, so an agent
working at the same time is not stalled behind them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from carebird.auth import service, throttle
from carebird.auth.service import create_agent
from carebird.db.database import Database
from tests.factories import agent_with_token, bearer
from tests.integration.test_live_stream import serve

GUESSES = 40
PASSWORD = "correct horse battery"


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the server checks (the server runs in this process)."""
    checked: list[str] = []
    lock = threading.Lock()
    real: Callable[[str | None, str], bool] = service.verify_password

    def counting(password_hash: str | None, password: str) -> bool:
        with lock:
            checked.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(service, "verify_password", counting)
    return checked


def storm(base: str, token: str, bodies: list[dict[str, str]]) -> tuple[Counter[int], bool]:
    """Send `bodies` to the login at once while an agent reads /api/me; (codes, whether the
    agent was served without queueing behind the storm: its slowest wait under a second, or,
    on a loaded machine, under half the storm's length — a stalled desk makes it the whole)."""
    codes: Counter[int] = Counter()
    latencies: list[float] = []
    start = threading.Barrier(len(bodies) + 1)
    limits = httpx.Limits(max_connections=len(bodies) + 8)
    with httpx.Client(base_url=base, timeout=60, limits=limits) as client:

        def guess(body: dict[str, str]) -> None:
            start.wait()
            codes[client.post("/api/auth/login", json=body).status_code] += 1

        def work() -> None:
            start.wait()
            for _ in range(5):
                time.sleep(0.02)
                began = time.monotonic()
                response = client.get("/api/me", headers=bearer(token))
                latencies.append(time.monotonic() - began)
                assert response.status_code == 200

        threads = [threading.Thread(target=guess, args=(b,)) for b in bodies]
        threads.append(threading.Thread(target=work))
        began_storm = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        length = time.monotonic() - began_storm
    assert len(latencies) == 5, "the agent's requests did not all answer"
    slowest = max(latencies)
    print(f"the agent waited {slowest:.3f} s at most, the storm lasted {length:.3f} s")
    return codes, slowest < 1.0 or slowest < length / 2


def test_forty_parallel_guesses_check_five_passwords_and_stall_nobody(
    app: FastAPI, db: Database, verifications: list[str]
) -> None:
    with db.session() as s, s.begin():
        create_agent(
            s, email="target@example.test", name="Tar Get", password=PASSWORD, role="agent"
        )
    _, token = agent_with_token(db, "agent")
    wrong = [{"email": "target@example.test", "password": f"guess-{n:04d}"} for n in range(GUESSES)]
    with serve(app) as base:
        codes, served = storm(base, token, wrong)
        print(f"{len(verifications)} of {GUESSES} checked")
        assert codes == Counter({401: 5, 429: GUESSES - 5})
        assert len(verifications) == 5
        assert served
        with db.session() as s:
            assert throttle.failures(s, kind="email", value="target@example.test") == 5
        # Locked: the right password is not even checked.
        right = httpx.post(f"{base}/api/auth/login", json={**wrong[0], "password": PASSWORD})
        assert right.status_code == 429 and len(verifications) == 5


def test_parallel_guesses_across_emails_check_twenty_passwords_per_address(
    app: FastAPI, db: Database, verifications: list[str]
) -> None:
    _, token = agent_with_token(db, "agent")
    bodies = [{"email": f"u{n}@example.test", "password": "not-it-at-all"} for n in range(GUESSES)]
    with serve(app) as base:
        codes, served = storm(base, token, bodies)
    assert codes == Counter({401: 20, 429: GUESSES - 20})
    assert len(verifications) == 20
    assert served
    with db.session() as s:
        assert throttle.failures(s, kind="ip", value="127.0.0.1") == 20


def test_a_right_password_takes_its_attempt_back_from_the_address(
    app: FastAPI, db: Database
) -> None:
    with db.session() as s, s.begin():
        create_agent(s, email="ok@example.test", name="Okay", password=PASSWORD, role="agent")
    with db.session() as s:
        for n in range(19):  # nineteen failures from the server's address
            throttle.record_login_failure(s, email=f"w{n}@example.test", ip="127.0.0.1")
    with serve(app) as base:
        ok = {"email": "ok@example.test", "password": PASSWORD}
        assert httpx.post(f"{base}/api/auth/login", json=ok).status_code == 200
        with db.session() as s:  # the 20th attempt was right: the address is not locked
            assert throttle.failures(s, kind="ip", value="127.0.0.1") == 19
            assert throttle.failures(s, kind="email", value="ok@example.test") == 0
        wrong = {"email": "w19@example.test", "password": "not-it-at-all"}
        assert httpx.post(f"{base}/api/auth/login", json=wrong).status_code == 401
        assert httpx.post(f"{base}/api/auth/login", json=ok).status_code == 429
