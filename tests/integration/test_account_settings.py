"""An account's settings from the Accounts page, the API and the CLI (one function): listening
queries, cap, role, signature, opening hours, time zone and holidays; bad values are a 4xx that
changes nothing; a disconnected account forgets its credentials and cannot be resumed."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from carebird.cli.main import cli
from carebird.config import Settings
from carebird.db.database import Database
from carebird.errors import InvalidInput
from carebird.flows.accounts import check_holidays
from carebird.ingest.accounts import add_account, get_account
from tests.factories import TestClient, agent_with_token, bearer

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def an_account(settings: Settings, db: Database) -> int:
    with db.session() as s, s.begin():
        account = add_account(
            s,
            secret_key=settings.secret_key,
            network="mastodon",
            handle="LigneAzur_SAV",
            credentials={"access_token": "t0ken"},
            options={"base_url": "https://social.example", "char_limit": 500},
        )
        return account.id


def options_of(db: Database, account_id: int) -> dict[str, object]:
    with db.session() as s:
        return dict(get_account(s, account_id).options)


GOOD = {
    "listening": "Ligne Azur\n  \n#LigneAzur -from:LigneAzur_SAV",
    "monthly_cap": "12,5",
    "role": "brand",
    "signature": "none",
    "opening_hours": "Mon-Fri 08:00-20:00; Sat 09:00-18:00",
    "timezone": "America/Montreal",
    "holidays": "12-25, 2026-12-31 01-01",
}


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("opening_hours", "weekdays 9 to 5", "cannot read opening hours"),
        ("timezone", "Mars/Olympus", "unknown time zone"),
        ("holidays", "2026-02-30", "holiday"),
        ("holidays", "25/12", "holiday"),
        ("holidays", "13-01", "holiday"),
        ("monthly_cap", "lots", "monthly cap"),
        ("monthly_cap", "-3", "monthly cap"),
        ("role", "owner", "role"),
        ("signature", "<b>full name</b>", "signature"),
    ],
)
def test_the_page_refuses_bad_settings(
    client: TestClient, settings: Settings, db: Database, field: str, value: str, said: str
) -> None:
    account_id = an_account(settings, db)
    _, token = agent_with_token(db, "admin")
    client.cookies.set("carebird_session", token)
    found = CSRF.search(client.get("/accounts").text)
    assert found is not None
    before = options_of(db, account_id)
    form = {**GOOD, field: value, "csrf_token": found.group(1)}
    refused = client.post(f"/accounts/{account_id}/settings", data=form)
    assert refused.status_code == 422 and said in refused.text
    assert "<b>full name</b>" not in refused.text  # escaped wherever it is shown
    assert options_of(db, account_id) == before


def test_settings_through_the_page_the_api_and_the_cli(
    client: TestClient, settings: Settings, db: Database
) -> None:
    account_id = an_account(settings, db)
    _, token = agent_with_token(db, "admin")
    client.cookies.set("carebird_session", token)
    found = CSRF.search(client.get("/accounts").text)
    assert found is not None
    csrf = found.group(1)
    assert client.post(f"/accounts/{account_id}/settings", data=GOOD).status_code == 403  # CSRF
    saved = client.post(
        f"/accounts/{account_id}/settings",
        data={**GOOD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/accounts?done=saved"
    assert options_of(db, account_id) == {
        "base_url": "https://social.example",
        "char_limit": 500,  # what the form does not show stays
        "listening": ["Ligne Azur", "#LigneAzur -from:LigneAzur_SAV"],
        "signature": "none",
        "opening_hours": "Mon-Fri 08:00-20:00; Sat 09:00-18:00",
        "timezone": "America/Montreal",
        "holidays": ["01-01", "12-25", "2026-12-31"],
    }
    with db.session() as s:
        account = get_account(s, account_id)
        assert (account.role, account.monthly_cap) == ("brand", 12.5)
    page = client.get("/accounts").text
    assert "#LigneAzur -from:LigneAzur_SAV" in page and "2026-12-31" in page

    # The API: the same checks, the same storage.
    _, admin = agent_with_token(db, "admin")
    _, supervisor = agent_with_token(db, "supervisor")
    url = f"/api/accounts/{account_id}"
    assert (
        client.patch(url, json={"role": "support"}, headers=bearer(supervisor)).status_code == 403
    )
    for bad in (
        {"opening_hours": "sometimes"},
        {"holidays": ["31-12"]},
        {"timezone": "Nowhere/City"},
        {"options": {"opening_hours": "sometimes"}},
        {"signature": "loud"},
        {"listening": "not a list"},
    ):
        answer = client.patch(url, json=bad, headers=bearer(admin))
        assert answer.status_code == 422, (bad, answer.text)
    made = client.post(
        "/api/accounts",
        json={
            "network": "mastodon",
            "handle": "other",
            "credentials": {"access_token": "t"},
            "options": {"base_url": "https://social.example", "holidays": ["12/25"]},
        },
        headers=bearer(admin),
    )
    assert made.status_code == 422 and "holiday" in made.text
    changed = client.patch(
        url, json={"opening_hours": "", "monthly_cap": None, "holidays": []}, headers=bearer(admin)
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["monthly_cap"] is None and "opening_hours" not in body["options"]
    assert body["options"]["holidays"] == [] and body["options"]["timezone"] == "America/Montreal"

    # The CLI: the same function.
    env = {"CAREBIRD_SECRET_KEY": settings.secret_key}
    base = ["--database", settings.database_url, "accounts"]
    runner = CliRunner(env=env)
    out = runner.invoke(
        cli, [*base, "set", str(account_id), "--hours", "lun-sam 08h00-22h00", "--holiday", "05-01"]
    )
    assert out.exit_code == 0, out.output
    shown = json.loads(out.output)
    assert shown["options"]["opening_hours"] == "lun-sam 08h00-22h00"
    assert shown["options"]["holidays"] == ["05-01"]
    bad = runner.invoke(cli, [*base, "set", str(account_id), "--holiday", "2026-13-01"])
    assert isinstance(bad.exception, InvalidInput)

    # Disconnecting forgets the credentials; resuming needs connecting again.
    gone = client.post(f"/api/accounts/{account_id}/disconnect", headers=bearer(admin))
    assert gone.status_code == 200 and gone.json()["credential_names"] == []
    assert gone.json()["active"] is False
    resume = client.patch(url, json={"active": True}, headers=bearer(admin))
    assert resume.status_code == 422 and "connect it again" in resume.text
    row = re.search(
        r'<tr class="account off"[^>]*data-account-id="(\d+)"', client.get("/accounts").text
    )
    assert row is not None and row.group(1) == str(account_id)


def test_holidays_are_days_of_the_calendar() -> None:
    assert check_holidays(["02-29", "2028-02-29", " 12-25 ", "12-25"]) == [
        "02-29",
        "12-25",
        "2028-02-29",
    ]
    for bad in ("2027-02-29", "00-10", "1-1", "2026-1-01", "christmas"):
        with pytest.raises(InvalidInput):
            check_holidays([bad])


def test_acknowledgements_are_switched_on_the_page(
    client: TestClient, settings: Settings, db: Database
) -> None:
    account_id = an_account(settings, db)
    _, token = agent_with_token(db, "admin")
    client.cookies.set("carebird_session", token)
    page = client.get("/accounts").text
    found = CSRF.search(page)
    assert found is not None and f'action="/accounts/{account_id}/acknowledgements"' in page
    form = {"csrf_token": found.group(1), "private": "1", "max_per_hour": "12",
            "automated_posts": "5", "automated_minutes": "15"}  # fmt: skip
    saved = client.post(
        f"/accounts/{account_id}/acknowledgements", data=form, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    assert options_of(db, account_id)["acknowledge"] == {
        "public": False, "private": True, "max_per_hour": 12, "automated_posts": 5,
        "automated_minutes": 15, "max_age_minutes": 60,
    }  # fmt: skip
    refused = client.post(
        f"/accounts/{account_id}/acknowledgements", data={**form, "max_per_hour": "0"}
    )
    assert refused.status_code == 422 and "max_per_hour" in refused.text
    assert options_of(db, account_id)["acknowledge"]["max_per_hour"] == 12
    # Unticking a box switches the channel off again.
    off = {k: v for k, v in form.items() if k != "private"}
    client.post(f"/accounts/{account_id}/acknowledgements", data=off)
    assert options_of(db, account_id)["acknowledge"]["private"] is False
