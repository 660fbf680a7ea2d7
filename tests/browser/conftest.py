"""Real-browser fixtures: a carebird server in a subprocess and Debian's Chromium via Playwright.

Chromium is never downloaded (`playwright install`): scripts/ensure-chromium.sh installs
Debian's package and Playwright drives /usr/bin/chromium through `executable_path`.
Screenshots go to $CAREBIRD_TEST_ARTIFACTS/screenshots (default: the system's temporary
directory), never into the repository.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

CHROMIUM = Path("/usr/bin/chromium")
# The machine's network is closed: keep Chromium from phoning home (or hanging trying).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
ADMIN = re.compile(r"^admin login: (\S+)\s+password: (\S+)\s*$", re.MULTILINE)
START_TIMEOUT = 60.0  # seconds for the server to print its banner and answer /healthz
TIMEOUT_MS = 15_000
# Generous waits (never sleeps): the suite shares two cores with the rest of `make test`.
expect.set_options(timeout=TIMEOUT_MS)


def artifacts() -> Path:
    root = os.environ.get("CAREBIRD_TEST_ARTIFACTS")
    base = Path(root) if root else Path(tempfile.gettempdir()) / "carebird-test-artifacts"
    path = base / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True, slots=True)
class Server:
    url: str
    output: str  # what it printed on standard output at start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    try:
        with opener.open(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def running_server(
    *args: str, database_url: str, workdir: Path, port: int | None = None, **env: str
) -> Iterator[Server]:
    """`python -m carebird ARGS --port P` in workdir, until the block ends."""
    port = port or free_port()
    out_path, err_path = workdir / f"server{port}.out", workdir / f"server{port}.err"
    files: list[IO[bytes]] = [out_path.open("wb"), err_path.open("wb")]  # never fill a pipe
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAREBIRD_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "carebird", *args, "--port", str(port)],
        cwd=workdir,
        env={**clean, "CAREBIRD_DATABASE_URL": database_url, **env},
        stdin=subprocess.DEVNULL,
        stdout=files[0],
        stderr=files[1],
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"carebird {' '.join(args)} did not start (exit code {proc.poll()}):\n"
                    f"{out_path.read_text()}\n{err_path.read_text()}"
                )
            time.sleep(0.2)
        yield Server(url=url, output=out_path.read_text())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        for f in files:
            f.close()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start `python -m carebird ARGS` on a free port in tmp_path; stopped at teardown."""
    stack: list[Iterator[Server]] = []

    def start(*args: str, database_url: str, **env: str) -> Server:
        cm = running_server(*args, database_url=database_url, workdir=tmp_path, **env)
        server = cm.__enter__()
        stack.append(cm)  # type: ignore[arg-type]
        return server

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)  # type: ignore[attr-defined]


def admin_login(output: str) -> tuple[str, str]:
    """The admin e-mail and generated password that `carebird demo` printed."""
    found = ADMIN.search(output)
    assert found is not None, f"no admin password in the demo's output:\n{output}"
    return found.group(1), found.group(2)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (make test does)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_context(browser: Browser, *, locale: str = "fr-FR", **kw: object) -> BrowserContext:
    context = browser.new_context(viewport=DESKTOP, locale=locale, **kw)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = new_context(browser)
    yield context.new_page()
    context.close()


def sign_in(page: Page, url: str, email: str, password: str) -> None:
    """Type the credentials into the /login form and press the button, as a person would."""
    page.goto(f"{url}/login")
    page.locator("input[name=email]").press_sequentially(email)
    page.locator("input[name=password]").press_sequentially(password)
    page.locator("form.login button[type=submit]").click()
    page.wait_for_url(f"{url}/")


def screenshot(page: Page, name: str, *, ready: str = "main") -> Path:
    """Save the page at desktop and phone widths as NAME-desktop.png and NAME-phone.png.

    `ready` is a selector the phone's copy of the page waits for (what the scripts draw)."""
    folder = artifacts()
    browser = page.context.browser
    assert browser is not None
    state = page.context.storage_state()
    page.screenshot(path=folder / f"{name}-desktop.png", full_page=True)
    phone = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        storage_state=state,
        locale="fr-FR",
    )
    phone.set_default_timeout(TIMEOUT_MS)
    try:
        small = phone.new_page()
        small.goto(page.url)
        small.locator(ready).first.wait_for()
        small.screenshot(path=folder / f"{name}-phone.png", full_page=True)
        # A phone page must fit its screen: no sideways scrolling.
        width = small.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name} is {width}px wide on a {PHONE['width']}px phone"
    finally:
        phone.close()
    return folder
