"""Real-browser fixtures: a carebird server in a subprocess and Debian's Chromium via Playwright.

Chromium is never downloaded (`playwright install`): scripts/ensure-chromium.sh installs
Debian's package and Playwright drives /usr/bin/chromium through `executable_path`.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

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
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
ADMIN = re.compile(r"^admin login: (\S+)\s+password: (\S+)\s*$", re.MULTILINE)
START_TIMEOUT = 60.0  # seconds for the server to print its banner and answer /healthz


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


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start `python -m carebird ARGS` on a free port in tmp_path; stopped at teardown."""
    running: list[tuple[subprocess.Popen[bytes], list[IO[bytes]]]] = []

    def start(*args: str, database_url: str, **env: str) -> Server:
        port = free_port()
        out_path, err_path = tmp_path / f"server{port}.out", tmp_path / f"server{port}.err"
        out, err = out_path.open("wb"), err_path.open("wb")  # files, not pipes: never fill up
        clean = {k: v for k, v in os.environ.items() if not k.startswith("CAREBIRD_")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "carebird", *args, "--port", str(port)],
            cwd=tmp_path,
            env={**clean, "CAREBIRD_DATABASE_URL": database_url, **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        running.append((proc, [out, err]))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"carebird {' '.join(args)} did not start (exit code {proc.poll()}):\n"
                    f"{out_path.read_text()}\n{err_path.read_text()}"
                )
            time.sleep(0.2)
        return Server(url=url, output=out_path.read_text())

    yield start
    for proc, files in running:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        for f in files:
            f.close()


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


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def sign_in(page: Page, url: str, email: str, password: str) -> None:
    """Type the credentials into the /login form and press the button, as a person would."""
    page.goto(f"{url}/login")
    page.locator("input[name=email]").press_sequentially(email)
    page.locator("input[name=password]").press_sequentially(password)
    page.locator("form.login button[type=submit]").click()
    page.wait_for_url(f"{url}/")


def screenshot(page: Page, name: str) -> Path:
    """Save the page at desktop and phone widths under artifacts/screenshots/NAME-*.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser = page.context.browser
    assert browser is not None
    state = page.context.storage_state()
    page.screenshot(path=SCREENSHOTS / f"{name}-desktop.png")
    phone = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        storage_state=state,
        locale="fr-FR",
    )
    try:
        small = phone.new_page()
        small.goto(page.url)
        small.screenshot(path=SCREENSHOTS / f"{name}-phone.png")
        # A phone page must fit its screen: no sideways scrolling.
        width = small.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name} is {width}px wide on a {PHONE['width']}px phone"
    finally:
        phone.close()
    return SCREENSHOTS
