"""deploy/: the systemd units' commands really run a desk on PostgreSQL (the web serves, the
worker beats), the shipped settings file fails closed, and the README, the units, the
Containerfile and compose.yaml all install and start carebird the same way."""

from __future__ import annotations

import configparser
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pytest
import yaml
from sqlalchemy import select

from carebird.config import Settings
from carebird.db.database import Database
from carebird.live.runners import STALE_AFTER, WorkerBeat
from tests.support.pg_cluster import PgCluster

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
CAREBIRD = Path(sys.executable).with_name("carebird")  # the venv's console script
START_TIMEOUT = 60.0


# -- reading the deployment files --------------------------------------------------------------


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys keep case
    assert parser.read(UNITS / name), name
    return parser


def exec_start(name: str) -> list[str]:
    return shlex.split(unit(name)["Service"]["ExecStart"])


def env_file(path: Path) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile= reads them (comments, double quotes)."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, line
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        out[key.strip()] = value
    return out


def readme_deploy() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Deploy\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def shell_commands(markdown: str) -> list[list[str]]:
    """Each command line of the ```sh blocks, as argv, without comments and `sudo [-u U]`."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", markdown, flags=re.S):
        for line in block.splitlines():
            argv = shlex.split(line, comments=True)
            if argv[:1] == ["sudo"]:
                argv = argv[3:] if argv[1:2] == ["-u"] else argv[1:]
            if argv:
                commands.append(argv)
    return commands


def containerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Containerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def is_install(argv: list[str]) -> bool:
    return argv[1:3] == ["-m", "venv"] or argv[1:3] == ["install", "."]


# -- running the units' commands ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthz(url: str) -> int | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    try:
        with opener.open(f"{url}/healthz", timeout=2) as response:
            return int(response.status)
    except OSError:
        return None


def clean_env(**env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CAREBIRD_")}
    return {**base, **env}


@contextmanager
def running(
    argv: list[str], env: dict[str, str], workdir: Path
) -> Iterator[subprocess.Popen[bytes]]:
    name = Path(argv[0]).name + "-" + "-".join(argv[1:]).replace("/", "_")
    files: list[IO[bytes]] = [
        (workdir / f"{name}.out").open("wb"),
        (workdir / f"{name}.err").open("wb"),
    ]
    proc = subprocess.Popen(argv, cwd=workdir, env=env, stdout=files[0], stderr=files[1])
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for f in files:
            f.close()


def output(workdir: Path, argv: list[str]) -> str:
    name = Path(argv[0]).name + "-" + "-".join(argv[1:]).replace("/", "_")
    return (workdir / f"{name}.out").read_text() + (workdir / f"{name}.err").read_text()


def wait_for(what: str, ready: Any, proc: subprocess.Popen[bytes], log: Any) -> Any:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        value = ready()
        if value:
            return value
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what} (exit code {proc.poll()}):\n{log()}")
        time.sleep(0.2)


@pytest.fixture
def deployed_env(pg_cluster: PgCluster, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The shipped settings file, filled in as the README says, on a new empty database."""
    name = f"deploy_{os.getpid()}"
    pg_cluster.create_database(name)
    port = free_port()
    settings = env_file(DEPLOY / "carebird.env.example")
    settings |= {
        "CAREBIRD_SECRET_KEY": secrets.token_urlsafe(32),
        "CAREBIRD_DATABASE_URL": pg_cluster.url(name),
        "CAREBIRD_PORT": str(port),
        "CAREBIRD_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    try:
        yield clean_env(**settings)
    finally:
        pg_cluster.drop_database(name)


def test_the_units_commands_run_a_desk_on_postgresql(
    deployed_env: dict[str, str], tmp_path: Path
) -> None:
    def command(name: str) -> list[str]:
        argv = exec_start(name)
        assert Path(argv[0]).name == "carebird", argv
        return [str(CAREBIRD), *argv[1:]]

    for name in ("carebird-migrate.service", "carebird-web.service", "carebird-worker.service"):
        service = unit(name)["Service"]
        assert service["EnvironmentFile"] == "/etc/carebird/carebird.env"
        assert service["User"] == "carebird"
    migrate = subprocess.run(
        command("carebird-migrate.service"), cwd=tmp_path, env=deployed_env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    db = Database(deployed_env["CAREBIRD_DATABASE_URL"])
    web_argv, worker_argv = command("carebird-web.service"), command("carebird-worker.service")
    url = f"http://127.0.0.1:{deployed_env['CAREBIRD_PORT']}"
    try:
        with (
            running(web_argv, deployed_env, tmp_path) as web,
            running(worker_argv, deployed_env, tmp_path) as worker,
        ):
            wait_for(
                "the web unit's command did not serve /healthz",
                lambda: healthz(url) == 200,
                web,
                lambda: output(tmp_path, web_argv),
            )

            def beat() -> WorkerBeat | None:
                with db.session() as s:
                    return s.scalar(
                        select(WorkerBeat).where(
                            WorkerBeat.kind == "worker", WorkerBeat.pid == worker.pid
                        )
                    )

            row = wait_for(
                "the worker unit's command wrote no heartbeat",
                beat,
                worker,
                lambda: output(tmp_path, worker_argv),
            )
            assert datetime.now(UTC) - row.heartbeat_at < STALE_AFTER and row.stopped_at is None
            assert "admin login" in output(tmp_path, web_argv)  # the journal tells the password
            # The README's check of a running deployment passes on it.
            doctor = subprocess.run(
                [str(CAREBIRD), "doctor", "--json"], cwd=tmp_path, env=deployed_env,
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            report = json.loads(doctor.stdout)
            assert doctor.returncode == 0, report
            workers = next(c for c in report["checks"] if c["name"] == "workers")
            assert workers["status"] == "ok", workers
            # systemd stops the worker with SIGTERM (KillSignal=), waiting TimeoutStopSec=:
            # it stops within that time, and says so in its row.
            stop = unit("carebird-worker.service")["Service"]
            assert stop["KillSignal"] == "SIGTERM"
            worker.terminate()
            worker.wait(timeout=int(stop["TimeoutStopSec"]))
        with db.session() as s:
            stopped = s.get(WorkerBeat, row.id)
            assert stopped is not None and stopped.stopped_at is not None
    finally:
        db.dispose()


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    for path in UNITS.glob("*.service"):
        text = path.read_text().replace("/opt/carebird/bin/carebird", str(CAREBIRD))
        (tmp_path / path.name).write_text(text)
    names = sorted(str(p) for p in tmp_path.glob("*.service"))
    assert len(names) == 3
    result = subprocess.run([analyze, "verify", *names], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "carebird" not in result.stderr, result.stderr


def test_the_shipped_settings_file_fails_closed_until_its_secret_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shipped = env_file(DEPLOY / "carebird.env.example")
    commented = re.findall(
        r"^#(CAREBIRD_\w+)=", (DEPLOY / "carebird.env.example").read_text(), re.M
    )
    fields = {f"CAREBIRD_{name.upper()}" for name in Settings.model_fields}
    assert set(shipped) | set(commented) <= fields  # no misspelt setting is silently ignored
    for key in [k for k in os.environ if k.startswith("CAREBIRD_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CAREBIRD_CONFIG", str(tmp_path / "absent.toml"))
    for key, value in shipped.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.env == "prod" and settings.opening_hours == "Mon-Sat 08:00-22:00"
    with pytest.raises(ValueError, match="CAREBIRD_SECRET_KEY is empty"):
        settings.check_secrets()
    monkeypatch.setenv("CAREBIRD_SECRET_KEY", secrets.token_urlsafe(32))
    Settings().check_secrets()
    # The README's doctor command sources the file with sh: it must read the same values.
    script = f"set -a && . {DEPLOY / 'carebird.env.example'} && env"
    sourced = subprocess.run(
        ["sh", "-c", script], env={"PATH": os.environ["PATH"]}, capture_output=True, text=True
    )
    assert sourced.returncode == 0, sourced.stderr
    read = dict(line.split("=", 1) for line in sourced.stdout.splitlines() if "=" in line)
    assert {k: read.get(k) for k in shipped} == shipped


def test_readme_units_containerfile_and_compose_install_and_start_alike() -> None:
    readme = shell_commands(readme_deploy())
    starts = {tuple(argv) for argv in readme if argv[0] == "carebird"}
    assert ("carebird", "serve", "--no-worker") in starts and ("carebird", "worker") in starts

    # The units: the README's commands, run with the binary of the README's venv.
    venv = next(argv[3] for argv in readme if argv[1:3] == ["-m", "venv"])
    unit_argvs = [exec_start(p.name) for p in sorted(UNITS.glob("*.service"))]
    assert {argv[0] for argv in unit_argvs} == {f"{venv}/bin/carebird"}
    assert {("carebird", *argv[1:]) for argv in unit_argvs} == starts
    settings_file = unit("carebird-web.service")["Service"]["EnvironmentFile"]
    installed = ["deploy/carebird.env.example", settings_file]
    assert any(argv[0] == "install" and argv[-2:] == installed for argv in readme)

    # Compose: one service per command, the same commands.
    services = compose()["services"]
    commands = {tuple(s["command"]) for s in services.values() if "command" in s}
    assert commands == starts
    for name in ("web", "worker", "migrate"):
        env = services[name]["environment"]
        assert ":?" in env["CAREBIRD_SECRET_KEY"]  # compose refuses to start without one
        assert services[name]["build"]["dockerfile"] == "deploy/Containerfile"

    # The Containerfile: the README's install commands, and a start command among them.
    instructions = containerfile()
    runs = [
        shlex.split(part)
        for word, rest in instructions
        if word == "RUN"
        for part in rest.split("&&")
    ]
    readme_installs = [argv for argv in readme if is_install(argv)]
    assert len(readme_installs) == 2
    assert [argv for argv in runs if is_install(argv)] == readme_installs
    cmd = next(json.loads(rest) for word, rest in instructions if word == "CMD")
    assert tuple(cmd) in starts
    path = next(rest for word, rest in instructions if word == "ENV" and "PATH=" in rest)
    assert f"PATH={venv}/bin:" in path


def test_the_image_copies_enough_to_build_the_package(tmp_path: Path) -> None:
    """What the Containerfile COPYs is all `pip install .` needs: templates, migrations, model."""
    source = tmp_path / "src"
    source.mkdir()
    for word, rest in containerfile():
        if word == "COPY":
            *parts, _dest = shlex.split(rest)
            for part in parts:
                origin = ROOT / part
                if origin.is_dir():
                    shutil.copytree(
                        origin, source / part, ignore=shutil.ignore_patterns("__pycache__")
                    )
                else:
                    shutil.copy(origin, source / part)
    # setuptools' build_py lays out exactly what an install of `.` gets (code + package data).
    out = tmp_path / "build"
    built = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py",
         "--build-lib", str(out)],
        cwd=source, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    for needed in (
        "carebird/db/migrations/env.py",
        "carebird/web/templates/base.html",
        "carebird/cli/doctor.py",
    ):
        assert needed in names
    assert any(n.startswith("carebird/db/migrations/versions/0") for n in names)
    assert any(n.startswith("carebird/understand/models/") for n in names)


def test_demo_runs_with_no_settings_but_serve_refuses(tmp_path: Path) -> None:
    """`make demo` from a clean clone needs no credentials; a real desk needs its secret."""
    port = str(free_port())
    demo = [str(CAREBIRD), "demo", "--port", port]
    with running(demo, clean_env(), tmp_path) as proc:
        wait_for(
            "carebird demo did not start with no settings",
            lambda: healthz(f"http://127.0.0.1:{port}") == 200,
            proc,
            lambda: output(tmp_path, demo),
        )
    serve = subprocess.run(
        [str(CAREBIRD), "serve", "--port", port], cwd=tmp_path, env=clean_env(),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert serve.returncode != 0
    assert "CAREBIRD_SECRET_KEY is not set" in serve.stderr
    assert "Traceback" not in serve.stderr  # a message, not a crash
