"""The published expected wait: JSON, SVG badge and page without login, opt-in per account
(page, API, CLI), rounded, "closed — we answer from 8:00" in French or English, escaped,
cacheable, 404 for anything not published (never a 500)."""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from carebird.cli.main import cli
from carebird.config import Settings
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.ingest.accounts import add_account
from carebird.ingest.models import NetworkAccount
from carebird.insights.wait_store import WaitRow
from tests.factories import TestClient, agent_with_token, bearer

PARIS = ZoneInfo("Europe/Paris")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _account(db: Database, handle: str = "LigneAzur", *, published: bool = True) -> int:
    with db.session() as s, s.begin():
        account = NetworkAccount(
            network="x",
            handle=handle,
            options={"publish_wait": True} if published else {},
        )
        s.add(account)
        s.flush()
        return account.id


def _store(db: Database, account_id: int, *, seconds: float, opens_at: datetime | None = None,
           computed_at: datetime | None = None) -> None:  # fmt: skip
    with db.session() as s, s.begin():
        row = WaitRow(account_id=account_id, computed_at=computed_at or utcnow(), seconds=seconds,
                      open_seconds=min(seconds, 1200), opens_at=opens_at, basis="recent",
                      sample=5, backlog=2, agents=1)  # fmt: skip
        s.merge(row)


def test_the_published_figure_needs_no_login_and_is_cacheable(
    client: TestClient, db: Database
) -> None:
    account_id = _account(db)
    _store(db, account_id, seconds=23 * 60)
    got = client.get(f"/public/wait/{account_id}.json?lang=en")
    assert got.status_code == 200
    assert got.headers["cache-control"] == "public, max-age=60"
    assert got.headers["access-control-allow-origin"] == "*"
    assert "set-cookie" not in got.headers
    body = got.json()
    assert (body["status"], body["wait_minutes"], body["text"]) == ("open", 25, "~25 min")
    assert body["account"] == "LigneAzur" and body["lang"] == "en"
    # By handle too, any case; French from the browser's languages.
    fr = client.get("/public/wait/@ligneazur.json", headers={"accept-language": "fr-CA,en;q=0.5"})
    assert fr.json()["lang"] == "fr" and fr.json()["wait_minutes"] == 25
    badge = client.get(f"/public/wait/{account_id}.svg?lang=en")
    assert badge.status_code == 200 and badge.headers["content-type"].startswith("image/svg+xml")
    assert "~25 min" in badge.text and "reply time" in badge.text
    assert badge.headers["cache-control"] == "public, max-age=60"
    page = client.get(f"/public/wait/{account_id}?lang=en")
    assert page.status_code == 200 and "We answer within about 25 min." in page.text
    assert page.headers["cache-control"] == "public, max-age=60"
    assert "Délai de réponse estimé" in client.get(f"/public/wait/{account_id}?lang=fr").text


def test_outside_hours_it_says_when_the_desk_answers_again(
    client: TestClient, db: Database
) -> None:
    account_id = _account(db)
    today = utcnow().astimezone(PARIS).date()
    eight = datetime.combine(today, time(8, 0), tzinfo=PARIS)
    _store(db, account_id, seconds=3 * 3600, opens_at=eight)
    en = client.get(f"/public/wait/{account_id}.json?lang=en").json()
    assert en["status"] == "closed" and en["text"] == "Closed — we answer from 8:00"
    assert en["opens_at_local"] == "8:00" and en["wait_minutes"] == 20
    fr = client.get(f"/public/wait/{account_id}", headers={"accept-language": "fr"})
    assert "Fermé — nous répondons dès 8:00" in fr.text
    # Another day: the day is named.
    _store(db, account_id, seconds=3 * 3600, opens_at=eight + timedelta(days=2))
    day = (today + timedelta(days=2)).strftime("%A")
    assert client.get(f"/public/wait/{account_id}.json?lang=en").json()["text"] == (
        f"Closed — we answer from {day} 8:00"
    )


def test_no_fresh_estimate_is_said_so(client: TestClient, db: Database) -> None:
    account_id = _account(db)
    assert client.get(f"/public/wait/{account_id}.json").json()["status"] == "unknown"
    _store(db, account_id, seconds=600, computed_at=utcnow() - timedelta(hours=2))
    stale = client.get(f"/public/wait/{account_id}.json?lang=en").json()
    assert stale["status"] == "unknown" and stale["text"] == "Not available right now"


def test_what_is_shown_is_escaped(client: TestClient, db: Database) -> None:
    account_id = _account(db, '<script>alert("x")</script>')
    _store(db, account_id, seconds=600)
    page = client.get(f"/public/wait/{account_id}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert client.get(f"/public/wait/{account_id}.json").json()["account"].startswith("<script>")


@pytest.mark.parametrize(
    "name",
    ["999", "Nobody", "a" * 300, "9" * 40, "..", "%3Cb%3E", "x.json.json", "LigneAzur.png"],
)
def test_anything_not_published_is_a_404(client: TestClient, db: Database, name: str) -> None:
    _account(db)
    got = client.get(f"/public/wait/{name}")
    assert got.status_code == 404, got.text


def test_an_account_not_opted_in_is_a_404(client: TestClient, db: Database) -> None:
    account_id = _account(db, "Quiet", published=False)
    _store(db, account_id, seconds=600)
    for suffix in ("", ".json", ".svg"):
        assert client.get(f"/public/wait/{account_id}{suffix}").status_code == 404
        assert client.get(f"/public/wait/Quiet{suffix}").status_code == 404


def test_publishing_is_switched_on_the_page_the_api_and_the_cli(
    client: TestClient, db: Database, settings: Settings
) -> None:
    with db.session() as s, s.begin():
        account_id = add_account(s, secret_key=settings.secret_key, network="x",
                                 handle="Switch", credentials={"bearer_token": "t"}).id  # fmt: skip
    _, token = agent_with_token(db, "admin")
    url = f"/api/accounts/{account_id}"
    assert client.patch(url, json={"publish_wait": "yes"}, headers=bearer(token)).status_code == 422
    on = client.patch(url, json={"publish_wait": True}, headers=bearer(token))
    assert on.status_code == 200
    assert client.get(f"/public/wait/{account_id}.json").status_code == 200
    client.cookies.set("carebird_session", token)
    found = CSRF.search(client.get("/accounts").text)
    assert found is not None
    saved = client.post(f"/accounts/{account_id}/settings",
                        data={"csrf_token": found.group(1), "role": "support", "signature": "none"},
                        follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303  # the box unticked: off
    client.cookies.clear()
    assert client.get(f"/public/wait/{account_id}.json").status_code == 404
    out = CliRunner(env={"CAREBIRD_SECRET_KEY": settings.secret_key}).invoke(
        cli, ["--database", db.url, "accounts", "set", str(account_id), "--publish-wait"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["options"]["publish_wait"] is True
    assert client.get(f"/public/wait/{account_id}.svg").status_code == 200
