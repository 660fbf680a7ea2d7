"""Real `carebird` processes for tests: `serve` and `worker` started as a user would, their
output kept in files (never a pipe that could fill), stopped with SIGTERM or killed with -9."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

START_TIMEOUT = 90.0
# The accurate tier re-reads messages in the background, changing what the fast tier said:
# off unless a test asks for it (tests/integration/test_reclassify.py does).
QUIET_TIERS = {"CAREBIRD_ACCURATE_TIER": "false"}


def run_cli(env: dict[str, str], workdir: Path, *args: str, status: int = 0) -> str:
    """`python -m carebird ARGS` as a user runs it, with only `env`'s CAREBIRD_* settings;
    its standard output (the command must exit with `status`: succeed by default)."""
    done = subprocess.run(
        [sys.executable, "-m", "carebird", *args],
        cwd=workdir,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("CAREBIRD_")},
            **QUIET_TIERS,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == status, done.stdout + done.stderr
    return done.stdout


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Carebird:
    """One `python -m carebird ARGS` process."""

    def __init__(self, *args: str, env: dict[str, str], workdir: Path, port: int | None = None):
        self.args = list(args)
        self.port = port
        if args and args[0] in ("serve", "demo"):
            self.port = port or free_port()
            self.args += ["--port", str(self.port)]
        name = f"{args[0]}-{self.port or ''}-{time.monotonic_ns()}"
        self.out_path, self.err_path = workdir / f"{name}.out", workdir / f"{name}.err"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("CAREBIRD_")}
        self._files = [self.out_path.open("wb"), self.err_path.open("wb")]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "carebird", *self.args],
            cwd=workdir,
            env={**clean, **QUIET_TIERS, **env},
            stdin=subprocess.DEVNULL,
            stdout=self._files[0],
            stderr=self._files[1],
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.out_path.read_text(errors="replace") + self.err_path.read_text(errors="replace")

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> Carebird:
        deadline = time.monotonic() + timeout
        while not self._healthy():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"carebird {' '.join(self.args)} did not start "
                    f"(exit code {self.proc.poll()}):\n{self.output()}"
                )
            time.sleep(0.2)
        return self

    def _healthy(self) -> bool:
        try:
            with _OPENER.open(f"{self.url}/healthz", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._close()

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._close()
        return int(self.proc.returncode)

    def _close(self) -> None:
        for f in self._files:
            f.close()

    def call(
        self, method: str, path: str, token: str, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """A JSON API call with a bearer token: (status, decoded body)."""
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with _OPENER.open(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60.0, every: float = 0.2) -> Any:
    """Poll `check` until it returns something truthy; fail saying `what` never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)
