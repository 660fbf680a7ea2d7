"""The desk in a real browser: `carebird demo` fills the inbox live; customer markup stays text."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Page, expect

from carebird.auth.service import create_agent
from carebird.db.database import Database
from tests.browser.conftest import Server, admin_login, screenshot, sign_in
from tests.factories import case_of, customer, ingest, item, private

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one Chromium

ROWS = "#inbox tbody tr[data-id]"
SCRIPT = "<script>alert('xss')</script>"
IMG = "<img src=x onerror=alert(1)>"
PASSWORD = "correct horse battery"


def row_ids(page: Page) -> set[str]:
    return set(page.locator(ROWS).evaluate_all("rows => rows.map(r => r.dataset.id)"))


def assert_nothing_injected(page: Page) -> None:
    """The customer's markup made no element: no image, no script beyond the page's own."""
    assert page.evaluate("document.querySelectorAll('img[src=x], main script').length") == 0
    sources = page.evaluate("[...document.scripts].map(s => s.getAttribute('src'))")
    assert set(sources) <= {"/static/inbox.js"}


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
    # The page polls the API (no eval: its CSP forbids wait_for_function's string predicates).
    unseen = ROWS + "".join(f':not([data-id="{i}"])' for i in sorted(before))
    page.locator(unseen).first.wait_for(timeout=30_000)
    assert page.evaluate("window.carebirdTestMark") == 1, "the inbox was reloaded"
    screenshot(page, "inbox")

    page.locator(ROWS).first.locator("a").click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    case_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("h1")).to_contain_text(case_id)
    messages = page.locator("ol.messages li.msg")
    expect(messages.first).to_be_visible()
    assert all(t.strip() for t in messages.locator("p.text").all_inner_texts())
    screenshot(page, "case")
    assert errors == []


def test_customer_markup_renders_as_text(
    start_server: Callable[..., Server], page: Page, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'xss.db'}"
    db = Database(url)
    try:
        db.upgrade()
        evil = customer(1)
        ingest(db, [item(evil, SCRIPT, external_id="x1"), private(evil, IMG, minutes=1)])
        case_id = case_of(db, "x1")
        with db.session() as s, s.begin():
            create_agent(
                s, email="ana@example.test", name="Ana Agent", password=PASSWORD, role="agent"
            )
    finally:
        db.dispose()
    server = start_server("serve", "--no-simulate", database_url=url)
    dialogs: list[str] = []

    def dialog(d: Dialog) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    errors = watch_errors(page)
    sign_in(page, server.url, "ana@example.test", PASSWORD)

    # Let inbox.js redraw the table once from the API, then check its rendering too.
    served_time = page.locator(f"{ROWS} time").first.inner_text()
    page.locator(ROWS).first.evaluate("row => { row.dataset.served = '1'; }")
    expect(page.locator("#inbox tr[data-served]")).to_have_count(0)
    expect(page.locator(f"{ROWS} time").first).to_have_text(served_time)  # same format
    expect(page.locator(f"{ROWS} td").get_by_text(SCRIPT, exact=True)).to_be_visible()
    assert_nothing_injected(page)

    page.locator(f'#inbox a[href="/cases/{case_id}"]').click()
    page.wait_for_url(f"{server.url}/cases/{case_id}")
    texts = page.locator("ol.messages p.text")
    expect(texts.get_by_text(SCRIPT, exact=True)).to_be_visible()
    expect(texts.get_by_text(IMG, exact=True)).to_be_visible()
    assert_nothing_injected(page)
    screenshot(page, "case-markup")
    assert dialogs == []
    assert errors == []
