"""`carebird demo` in a real browser: the simulated network fills an open inbox live."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.browser.conftest import Server, admin_login, screenshot, sign_in

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one Chromium

ROWS = "#inbox li.case[data-id]"


def row_ids(page: Page) -> set[str]:
    return set(page.locator(ROWS).evaluate_all("rows => rows.map(r => r.dataset.id)"))


def watch_errors(page: Page) -> list[str]:
    """Uncaught script errors and console errors (a CSP violation is one) seen by the page."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))

    def console(msg: ConsoleMessage) -> None:
        where = msg.location.get("url", "")
        if msg.type == "error":
            errors.append(f"console: {msg.text} ({where})")

    page.on("console", console)
    return errors


def test_demo_inbox_fills_live_and_opens_a_case(
    start_server: Callable[..., Server], page: Page, tmp_path: Path
) -> None:
    server = start_server(
        "demo", database_url=f"sqlite:///{tmp_path / 'demo.db'}", CAREBIRD_SIM_SPEED="120"
    )
    email, password = admin_login(server.output)
    errors = watch_errors(page)
    sign_in(page, server.url, email, password)

    page.locator(ROWS).first.wait_for()
    before = row_ids(page)
    assert before
    page.evaluate("window.carebirdTestMark = 1")  # gone if the page is reloaded
    # The live stream brings them (no eval: the CSP forbids wait_for_function's string code).
    unseen = ROWS + "".join(f':not([data-id="{i}"])' for i in sorted(before))
    page.locator(unseen).first.wait_for(timeout=30_000)
    assert page.evaluate("window.carebirdTestMark") == 1, "the inbox was reloaded"
    screenshot(page, "demo-inbox", ready=ROWS)

    page.locator(ROWS).first.locator("a.open").click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    case_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("h1")).to_contain_text(case_id)
    messages = page.locator("#messages li.msg")
    expect(messages.first).to_be_visible()
    assert all(t.strip() for t in messages.locator("p.text").all_inner_texts())
    screenshot(page, "demo-case", ready="#messages li.msg")
    assert errors == []
