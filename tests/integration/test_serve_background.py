"""The README's own path without the simulation: an account stored with `carebird accounts add`,
`carebird serve` started as a subprocess, a mention posted on a Mastodon server (mastodon-mock)
→ a case; a reply queued through the API → posted exactly once, in the thread. And on SQLite, a
second `serve` on the same file refuses the background work while the first keeps sending."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from carebird.config import Settings
from carebird.db.database import Database
from carebird.reply.models import OutboxItem
from tests.support.mastodon_harness import BRAND, MastodonHarness
from tests.support.processes import Carebird, run_cli, wait_for

ADMIN = "admin@carebird.test"


@pytest.fixture
def mastodon() -> Iterator[MastodonHarness]:
    with MastodonHarness() as peer:
        yield peer


def _env(settings: Settings) -> dict[str, str]:
    return {
        "CAREBIRD_DATABASE_URL": settings.database_url,
        "CAREBIRD_SECRET_KEY": settings.secret_key,
        "CAREBIRD_ADMIN_EMAIL": ADMIN,
        "CAREBIRD_ADMIN_PASSWORD": "a-long-admin-password-1",
        "CAREBIRD_OPENING_HOURS": "Mon-Sun 00:00-24:00",
        "CAREBIRD_POLL_OPEN_SECONDS": "0.5",
    }


def _add_account(env: dict[str, str], workdir: Path, peer: MastodonHarness) -> None:
    creds = workdir / "mastodon.json"
    creds.write_text(json.dumps(dict(peer.brand.credentials)))
    run_cli(
        env,
        workdir,
        *("accounts", "add", "mastodon", "--handle", BRAND),
        *("--credentials-file", str(creds), "--option", f"base_url={peer.base_url}"),
    )


def _token(env: dict[str, str], workdir: Path) -> str:
    out = run_cli(env, workdir, "tokens", "create", "--email", ADMIN)
    return out.strip().split()[-1]


def _case_of(server: Carebird, token: str, text: str) -> int | None:
    status, page = server.call("GET", "/api/cases?status=new,open&limit=50", token)
    assert status == 200, page
    for case in page["items"]:
        if text in json.dumps(case):
            return int(case["id"])
    return None


def test_serve_without_simulation_polls_and_sends(
    settings: Settings, mastodon: MastodonHarness, tmp_path: Path
) -> None:
    env = _env(settings)
    run_cli(env, tmp_path, "db", "upgrade")
    _add_account(env, tmp_path, mastodon)
    server = Carebird("serve", env=env, workdir=tmp_path).wait_healthy()
    try:
        token = _token(env, tmp_path)
        (mention,) = mastodon.post_mentions(1, text="ma commande 4471 n'est jamais arrivée")
        case_id = wait_for("the mention to become a case", lambda: _case_of(server, token, "4471"))
        status, queued = server.call(
            "POST",
            f"/api/cases/{case_id}/replies",
            token,
            {"text": "Bonjour, nous regardons votre commande.", "idempotency_key": "serve-test-1"},
        )
        assert status == 202, queued
        replies = wait_for("the reply on the server", lambda: mastodon.replies_to(mention))
        time.sleep(3)  # several outbox passes later, still one post
        assert len(mastodon.replies_to(mention)) == 1 == len(replies)
        assert "nous regardons votre commande" in replies[0]["text"]
        status, detail = server.call("GET", f"/api/cases/{case_id}", token)
        assert status == 200 and "nous regardons votre commande" in json.dumps(detail)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- serve said:\n{server.output()[-6000:]}") from exc
    finally:
        server.stop()
    assert "Traceback" not in server.output(), server.output()


def test_a_second_serve_on_one_sqlite_file_refuses_background_work(
    mastodon: MastodonHarness, tmp_path: Path
) -> None:
    sqlite = Settings(database_url=f"sqlite:///{tmp_path / 'desk.db'}", secret_key="s" * 40)
    env = _env(sqlite)
    run_cli(env, tmp_path, "db", "upgrade")
    _add_account(env, tmp_path, mastodon)
    first = Carebird("serve", env=env, workdir=tmp_path).wait_healthy()
    second = Carebird("serve", env=env, workdir=tmp_path).wait_healthy()
    try:
        wait_for("the refusal", lambda: "already run by" in second.output(), timeout=30)
        assert "serves the web only" in second.output()
        token = _token(env, tmp_path)
        mentions = mastodon.post_mentions(3, text="mon train est en retard, code 9090")
        wait_for("three cases", lambda: _count_cases(first, token) >= 3)
        status, page = second.call("GET", "/api/cases?status=new,open&limit=50", token)
        for case in page["items"]:
            status, _ = second.call(  # queued through the second process's web
                "POST", f"/api/cases/{case['id']}/replies", token, {"text": "Nous regardons."}
            )
            assert status == 202
        wait_for("three replies", lambda: all(mastodon.replies_to(m) for m in mentions))
        time.sleep(3)
        assert [len(mastodon.replies_to(m)) for m in mentions] == [1, 1, 1]
    finally:
        second.stop()
        first.stop()


def _count_cases(server: Carebird, token: str) -> int:
    status, page = server.call("GET", "/api/cases?status=new,open&limit=50", token)
    return int(page["total"]) if status == 200 else 0


class SlowPosts:
    """ASGI wrapper: a status being posted is held `seconds` before the server handles it."""

    def __init__(self, app: Any, seconds: float) -> None:
        self.app, self.seconds = app, seconds
        self.in_flight = threading.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and (scope["method"], scope["path"]) == (
            "POST",
            "/api/v1/statuses",
        ):
            self.in_flight.set()
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


def test_sigterm_lets_the_current_send_finish(
    settings: Settings, mastodon: MastodonHarness, tmp_path: Path
) -> None:
    env = _env(settings)
    run_cli(env, tmp_path, "db", "upgrade")
    _add_account(env, tmp_path, mastodon)
    slow = SlowPosts(mastodon.lost.app, 3.0)
    mastodon.lost.app = slow  # type: ignore[assignment]
    server = Carebird("serve", env=env, workdir=tmp_path).wait_healthy()
    try:
        token = _token(env, tmp_path)
        (mention,) = mastodon.post_mentions(1, text="colis 5150 perdu")
        case_id = wait_for("the case", lambda: _case_of(server, token, "5150"))
        body = {"text": "On s'en occupe."}
        status, _ = server.call("POST", f"/api/cases/{case_id}/replies", token, body)
        assert status == 202
        assert slow.in_flight.wait(30), "the reply never reached the network"
        server.proc.send_signal(signal.SIGTERM)  # while the post is on its way
        # uvicorn shuts down gracefully, then re-raises the signal it caught: -15 after a
        # clean stop; the point is what it did before leaving.
        assert server.proc.wait(timeout=60) in (0, -signal.SIGTERM), server.output()
    finally:
        server.stop()
    assert "Traceback" not in server.output(), server.output()
    assert len(mastodon.replies_to(mention)) == 1
    database = Database(settings.database_url)
    with database.session() as s:
        row = s.scalars(select(OutboxItem)).one()
        assert row.status == "sent" and row.external_id  # recorded before the process ended
    database.dispose()


def _found(server: Carebird, token: str, word: str) -> bool:
    """Whether a case's messages hold `word` (the inbox's search: any status)."""
    statuses = "new,open,waiting_customer,resolved"
    status, page = server.call("GET", f"/api/inbox?q={word}&status={statuses}", token)
    return status == 200 and bool(page["items"])


def _runner_pid(lock: Path) -> int | None:
    """The process holding the SQLite desk's runner lock (its lock file names it)."""
    text = lock.read_text() if lock.exists() else ""
    return int(text.split()[1]) if text.startswith("pid ") else None


def _web_processes(pid: int) -> list[int]:
    """The live web processes uvicorn started for `serve` (`pid`)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    out = []
    for child in map(int, children):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            state = Path(f"/proc/{child}/status").read_text()
        except FileNotFoundError:
            continue
        if b"spawn_main" in cmdline and "State:\tZ" not in state:
            out.append(child)
    return out


def test_serve_workers_share_the_port_and_run_the_background_work_once(
    mastodon: MastodonHarness, tmp_path: Path
) -> None:
    """`serve --workers 2`: two web processes answer on one port, the command's own process
    does the background work (replies sent once), and a web process killed (-9) is replaced
    while the other one keeps answering."""
    sqlite = Settings(database_url=f"sqlite:///{tmp_path / 'desk.db'}", secret_key="s" * 40)
    env = _env(sqlite)
    run_cli(env, tmp_path, "db", "upgrade")
    _add_account(env, tmp_path, mastodon)
    server = Carebird("serve", "--workers", "2", env=env, workdir=tmp_path).wait_healthy()
    lock = tmp_path / "desk.db.runner.lock"
    try:
        web = wait_for("two web processes", lambda: len(_web_processes(server.proc.pid)) == 2)
        assert web and _runner_pid(lock) == server.proc.pid  # the supervisor does the work
        token = _token(env, tmp_path)
        mentions = mastodon.post_mentions(2, text="colis 5151 jamais livré")
        wait_for("two cases", lambda: _count_cases(server, token) >= 2)
        for _ in range(10):  # any process may answer: each one reads the same desk
            status, page = server.call("GET", "/api/cases?status=new,open&limit=50", token)
            assert status == 200 and page["total"] == 2
        for case in page["items"]:
            status, _ = server.call(
                "POST", f"/api/cases/{case['id']}/replies", token, {"text": "Nous regardons."}
            )
            assert status == 202
        wait_for("two replies", lambda: all(mastodon.replies_to(m) for m in mentions))
        time.sleep(3)  # several outbox passes later
        assert [len(mastodon.replies_to(m)) for m in mentions] == [1, 1]

        killed = _web_processes(server.proc.pid)[0]
        os.kill(killed, signal.SIGKILL)
        for _ in range(10):  # the other one answers meanwhile
            assert _found(server, token, "5151")
        wait_for(
            "a replacement",
            lambda: (
                (now := _web_processes(server.proc.pid)) and len(now) == 2 and killed not in now
            ),
        )
        mastodon.post_mentions(1, text="colis 6262 abîmé")
        wait_for("the next mention", lambda: _found(server, token, "6262"))
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- serve said:\n{server.output()[-6000:]}") from exc
    finally:
        server.stop()
    assert "Traceback" not in server.output(), server.output()


def test_serve_workers_refuse_the_simulation(tmp_path: Path) -> None:
    env = _env(Settings(database_url=f"sqlite:///{tmp_path / 'desk.db'}", secret_key="s" * 40))
    server = Carebird("serve", "--workers", "2", "--simulate", env=env, workdir=tmp_path)
    assert server.proc.wait(timeout=60) == 2
    server.stop()
    assert "the simulation runs in one process" in server.output()
