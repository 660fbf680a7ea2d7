"""`carebird doctor`: a fresh database passes the database checks and fails on the secret; an
account's credentials are asked of its network (the local peers); workers and streams are
reported from their tables."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from carebird.cli.main import cli
from carebird.config import Settings
from carebird.db.database import Database
from carebird.db.migrate import alembic_config, upgrade
from carebird.ingest.accounts import add_account
from carebird.ingest.health import record_failure, record_success
from carebird.live.runners import WorkerBeat
from carebird.ops.doctor import Check, run_checks
from tests.support.bluesky_harness import BlueskyHarness
from tests.support.mastodon_harness import BRAND, BRAND_TOKEN, MastodonHarness
from tests.support.pg_cluster import PgCluster
from tests.support.x_harness import CLIENT_ID, XHarness

SCRIPTS = ScriptDirectory.from_config(alembic_config("sqlite://"))
HEAD = SCRIPTS.get_current_head()


def doctor(url: str, workdir: Path, **env: str) -> tuple[int, dict[str, Any]]:
    """`carebird doctor --json` in its own process, with no CAREBIRD_* but what is given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAREBIRD_")}
    proc = subprocess.run(
        [sys.executable, "-m", "carebird", "doctor", "--json"],
        cwd=workdir,  # no carebird.toml there
        env={**clean, "CAREBIRD_DATABASE_URL": url, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, json.loads(proc.stdout)


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


def statuses(checks: list[Check]) -> dict[str, str]:
    return {c.name: c.status for c in checks}


def test_a_fresh_database_passes_the_database_checks_and_fails_on_the_secret(
    db_url: str, tmp_path: Path
) -> None:
    code, report = doctor(db_url, tmp_path)
    checks = by_name(report)
    assert code == 1 and report["ok"] is False
    assert checks["secret_key"]["status"] == "fail"
    assert "CAREBIRD_SECRET_KEY is not set" in checks["secret_key"]["detail"]
    assert checks["database"]["status"] == "ok"
    assert checks["migrations"]["status"] == "ok"
    assert checks["migrations"]["data"] == {"current": HEAD, "head": HEAD}
    assert checks["workers"]["status"] == "warn"  # nothing ever ran: said, not failed

    code, report = doctor(db_url, tmp_path, CAREBIRD_SECRET_KEY="change-me-please")  # old habit
    assert code == 1
    assert "too short (16 characters" in by_name(report)["secret_key"]["detail"]

    code, report = doctor(db_url, tmp_path, CAREBIRD_SECRET_KEY=secrets.token_urlsafe(32))
    assert code == 0 and report["ok"] is True
    assert {c["status"] for c in report["checks"]} <= {"ok", "warn"}
    assert by_name(report)["secret_key"]["status"] == "ok"


def test_dev_env_turns_the_default_secret_into_a_warning(db_url: str, tmp_path: Path) -> None:
    code, report = doctor(db_url, tmp_path, CAREBIRD_ENV="dev")
    assert code == 0
    assert by_name(report)["secret_key"]["status"] == "warn"


@pytest.fixture
def empty_db_url(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, on the test's engine."""
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = f"doctor_empty_{os.getpid()}"
    cluster.create_database(name)
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


def test_a_database_behind_head_fails_the_migrations_check(empty_db_url: str) -> None:
    settings = Settings(database_url=empty_db_url, secret_key=secrets.token_urlsafe(32))
    assert HEAD is not None
    previous = SCRIPTS.get_revision(HEAD).down_revision
    assert isinstance(previous, str)
    db = Database(empty_db_url)
    try:
        db.engine.connect().close()  # the SQLite file exists, empty
        assert statuses(run_checks(settings))["migrations"] == "fail"
        upgrade(db.engine, previous)
        checks = {c.name: c for c in run_checks(settings)}
        assert checks["migrations"].status == "fail"
        assert f"at {previous}, head is {HEAD}" in checks["migrations"].detail
        upgrade(db.engine)
        assert statuses(run_checks(settings))["migrations"] == "ok"
    finally:
        db.dispose()


def test_a_missing_sqlite_file_is_reported_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.db"
    code, report = doctor(f"sqlite:///{path}", tmp_path, CAREBIRD_SECRET_KEY="k" * 40)
    assert code == 1
    assert by_name(report)["database"]["status"] == "fail"
    assert "carebird db upgrade" in by_name(report)["database"]["detail"]
    assert not path.exists()


def test_an_unreachable_database_fails(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    url = f"postgresql://carebird@127.0.0.1:{port}/carebird"
    code, report = doctor(url, tmp_path, CAREBIRD_SECRET_KEY="k" * 40)
    checks = by_name(report)
    assert code == 1 and checks["database"]["status"] == "fail"
    assert "cannot connect" in checks["database"]["detail"]
    assert "migrations" not in checks  # nothing more can be known


def _beat(db: Database, name: str, *, age: float, stopped: bool = False) -> None:
    now = datetime.now(UTC)
    with db.session() as s, s.begin():
        s.add(
            WorkerBeat(
                name=name,
                kind="worker",
                host="host",
                pid=1,
                started_at=now - timedelta(hours=1),
                heartbeat_at=now - timedelta(seconds=age),
                stopped_at=now if stopped else None,
                info={},
            )
        )


def test_workers_alive_stopped_or_gone(settings: Settings, db: Database) -> None:
    def workers() -> Check:
        return next(c for c in run_checks(settings) if c.name == "workers")

    _beat(db, "host:1:worker", age=3600, stopped=True)
    assert workers().status == "warn"  # stopped cleanly: none run, said so
    _beat(db, "host:2:worker", age=600)
    gone = workers()
    assert gone.status == "fail" and "host:2:worker" in gone.detail  # killed: no stop recorded
    _beat(db, "host:3:worker", age=2)
    alive = workers()
    assert alive.status == "ok" and alive.data["alive"] == 1
    assert "host:3:worker" in alive.detail and "host:2:worker" not in alive.detail


def test_streams_report_their_last_poll_and_errors(settings: Settings, db: Database) -> None:
    now = datetime.now(UTC)
    with db.session() as s, s.begin():
        for source in ("x:a:mentions", "x:a:dm"):
            record_success(
                s, source=source, network="x", account_id=None, now=now, items=4,
                newest_item_at=None,
            )  # fmt: skip
        for _ in range(3):
            record_failure(
                s, source="x:a:dm", network="x", account_id=None, now=now, error="HTTP 401: nope"
            )
    checks = {c.name: c for c in run_checks(settings)}
    assert checks["stream:x:a:mentions"].status == "ok"
    assert "last success" in checks["stream:x:a:mentions"].detail
    assert checks["stream:x:a:dm"].status == "fail"
    assert "3 failed polls" in checks["stream:x:a:dm"].detail
    assert "HTTP 401: nope" in checks["stream:x:a:dm"].detail


def _accounts_add(settings: Settings, *args: str) -> None:
    result = CliRunner(env={"CAREBIRD_SECRET_KEY": settings.secret_key}).invoke(
        cli, ["--database", settings.database_url, "accounts", "add", *args]
    )
    assert result.exit_code == 0, result.output


def test_a_mastodon_account_is_checked_on_its_server(settings: Settings, tmp_path: Path) -> None:
    name = f"account:mastodon:{BRAND}"
    with MastodonHarness() as peer:
        creds = tmp_path / "creds.json"

        def add(token: str, *extra: str) -> None:
            creds.write_text(json.dumps({"access_token": token}))
            _accounts_add(
                settings,
                *("mastodon", "--handle", BRAND, "--credentials-file", str(creds)),
                *("--option", f"base_url={peer.base_url}", *extra),
            )

        add(BRAND_TOKEN)
        code, report = doctor(
            settings.database_url, tmp_path, CAREBIRD_SECRET_KEY=settings.secret_key
        )
        check = by_name(report)[name]
        assert code == 0, report
        assert check["status"] == "ok" and check["data"]["as"] == BRAND
        assert check["data"]["external_id"] == str(peer.brand_account_id)

        add("a-revoked-token", "--replace")
        code, report = doctor(
            settings.database_url, tmp_path, CAREBIRD_SECRET_KEY=settings.secret_key
        )
        check = by_name(report)[name]
        assert code == 1 and check["status"] == "fail"
        assert "credentials not accepted" in check["detail"]

    # Another secret key cannot open the stored credentials: said, before any network call.
    code, report = doctor(settings.database_url, tmp_path, CAREBIRD_SECRET_KEY="o" * 40)
    assert code == 1 and "cannot be decrypted" in by_name(report)[name]["detail"]


def _store(settings: Settings, db: Database, spec: Any, credentials: dict[str, str]) -> None:
    with db.session() as s, s.begin():
        add_account(
            s,
            secret_key=settings.secret_key,
            network=spec.network,
            handle=spec.handle,
            credentials=credentials,
            options=dict(spec.options),
            external_id=spec.external_id,
            replace=True,
        )


@pytest.mark.parametrize("kind", ["oauth2", "bearer"])
def test_x_credentials_are_asked_of_x(settings: Settings, db: Database, kind: str) -> None:
    with XHarness(credentials=kind) as peer:
        name = f"account:x:{peer.brand.handle}"
        _store(settings, db, peer.brand, dict(peer.brand.credentials))
        check = {c.name: c for c in run_checks(settings)}[name]
        assert check.status == "ok", check
        assert check.data["external_id"] == peer.brand_user.id
        bad = (
            {"bearer_token": "not-a-token"}
            if kind == "bearer"
            else {"access_token": "no", "refresh_token": "no", "client_id": CLIENT_ID}
        )
        _store(settings, db, peer.brand, bad)
        check = {c.name: c for c in run_checks(settings)}[name]
        assert check.status == "fail" and "credentials not accepted" in check.detail


def test_bluesky_credentials_are_asked_of_the_pds(settings: Settings, db: Database) -> None:
    with BlueskyHarness() as peer:
        name = f"account:bluesky:{peer.brand.handle}"
        # `accounts add bluesky` asks for "password" (an app password); the session reads both.
        _store(settings, db, peer.brand, {"password": peer.brand.credentials["app_password"]})
        check = {c.name: c for c in run_checks(settings)}[name]
        assert check.status == "ok", check
        assert check.data["external_id"] == peer.brand_account.did
        _store(settings, db, peer.brand, {"password": "wrong-password"})
        check = {c.name: c for c in run_checks(settings)}[name]
        assert check.status == "fail" and "login refused" in check.detail
