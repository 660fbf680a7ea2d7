"""Adding network accounts from the CLI and the API: secrets sealed, never shown again;
usage, health and the cost of a reply told before it is sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from carebird.cli.main import cli
from carebird.config import Settings
from carebird.db.database import Database
from carebird.errors import CarebirdError
from carebird.ingest.accounts import get_account
from carebird.ingest.usage import DbMeter, month_of, prices_for
from tests.factories import TestClient, agent_with_token, bearer, case_of, customer, ingest, item

SECRET = "AT-s3cr3t-value"


def run(settings: Settings, *args: str, refused: bool = False) -> str:
    """The command's output; with `refused`, the domain error it stopped on (main() prints it)."""
    env = {"CAREBIRD_SECRET_KEY": settings.secret_key}
    result = CliRunner(env=env).invoke(cli, ["--database", settings.database_url, *args])
    if refused:
        assert isinstance(result.exception, CarebirdError), result.output
        return str(result.exception)
    assert result.exit_code == 0, result.output
    return result.output


def test_accounts_from_the_cli(settings: Settings, db: Database, tmp_path: Path) -> None:
    creds = tmp_path / "x.json"
    creds.write_text(json.dumps({"access_token": SECRET, "refresh_token": "r", "client_id": "c"}))
    added = json.loads(
        run(
            settings,
            *("accounts", "add", "x", "--handle", "@LigneAzur_SAV"),
            *("--credentials-file", str(creds), "--listen", '"Ligne Azur" -is:retweet'),
            *("--cap", "250"),
        )
    )
    assert added["handle"] == "LigneAzur_SAV" and added["monthly_cap"] == 250
    assert added["credential_names"] == ["access_token", "client_id", "refresh_token"]
    assert added["options"]["listening"] == ['"Ligne Azur" -is:retweet']
    listed = run(settings, "accounts", "list")
    assert "LigneAzur_SAV" in listed and SECRET not in listed
    with db.engine.connect() as conn:
        assert SECRET not in conn.execute(text("SELECT credentials FROM network_accounts")).scalar()
    # Bad input is refused with a clear message and changes nothing.
    out = run(
        settings, "accounts", "add", "x", "--handle", "other", "--credential", "foo=1", refused=True
    )
    assert "x credentials need" in out
    out = run(settings, "accounts", "add", "x", "--handle", "LigneAzur_SAV", refused=True)
    assert "exists" in out
    meter = DbMeter(db, account_id=added["id"], prices=prices_for("x"), cap=250)
    meter.record("post_read", 200)
    usage = json.loads(run(settings, "accounts", "usage"))
    assert usage["cost"] == pytest.approx(1.0) and usage["cap"] == 250
    assert usage["near_cap"] is False
    meter.record("reply_url", 1000)  # $200 more: past 80 % of the cap
    assert json.loads(run(settings, "accounts", "usage"))["near_cap"] is True
    assert usage["month"] == month_of(datetime.now(UTC))


def test_accounts_through_the_api(client: TestClient, db: Database) -> None:
    _, admin = agent_with_token(db, "admin")
    _, supervisor = agent_with_token(db, "supervisor")
    body = {
        "network": "mastodon",
        "handle": "LigneAzur_SAV",
        "credentials": {"access_token": SECRET},
        "options": {"base_url": "https://social.example"},
        "monthly_cap": 10,
    }
    made = client.post("/api/accounts", json=body, headers=bearer(admin))
    assert made.status_code == 201, made.text
    assert SECRET not in made.text and made.json()["credential_names"] == ["access_token"]
    assert client.post("/api/accounts", json=body, headers=bearer(admin)).status_code == 409
    assert client.post("/api/accounts", json=body, headers=bearer(supervisor)).status_code == 403
    listed = client.get("/api/accounts", headers=bearer(supervisor))
    assert listed.status_code == 200 and SECRET not in listed.text
    account_id = made.json()["id"]
    paused = client.patch(
        f"/api/accounts/{account_id}", json={"active": False}, headers=bearer(admin)
    )
    assert paused.json()["active"] is False and paused.json()["monthly_cap"] == 10
    with db.session() as s:
        assert get_account(s, account_id).active is False
    usage = client.get(f"/api/accounts/{account_id}/usage", headers=bearer(supervisor)).json()
    assert usage["cost"] == 0 and usage["cap"] == 10 and usage["share_of_cap"] == 0
    assert usage["near_cap"] is False
    health = client.get("/api/sources/health", headers=bearer(supervisor))
    assert health.status_code == 200 and health.json() == []


def test_the_cost_of_a_reply_is_told_before_sending(client: TestClient, db: Database) -> None:
    first = item(customer(1), "my order 12345678 is late", network="x")
    ingest(db, [first])
    case_id = case_of(db, first.external_id)
    _, agent = agent_with_token(db, "agent")

    def quote(text: str, private: bool = False) -> dict[str, object]:
        r = client.post(
            f"/api/cases/{case_id}/replies/estimate",
            json={"text": text, "private": private},
            headers=bearer(agent),
        )
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    assert quote("Sorry, we are on it ^AB")["cost"] == pytest.approx(0.015)
    with_link = quote("See https://status.example.com ^AB")
    assert with_link["cost"] == pytest.approx(0.2) and with_link["ops"] == [["reply_url", 1]]
    assert quote("Call 06 12 34 56 78", private=True)["cost"] == pytest.approx(0.015)
    assert quote("Call 06 12 34 56 78")["personal_data"] == ["phone"]
    refused = client.post(
        f"/api/cases/{case_id}/replies",
        json={"text": "Call 06 12 34 56 78"},
        headers=bearer(agent),
    )
    assert refused.status_code == 422 and "private message" in refused.text
    queued = client.post(
        f"/api/cases/{case_id}/replies", json={"text": "On it ^AB"}, headers=bearer(agent)
    )
    assert queued.status_code == 202 and queued.json()["cost"] == pytest.approx(0.015)
