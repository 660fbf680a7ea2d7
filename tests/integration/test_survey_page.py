"""The survey's public page under hostile use, and the account's survey switches from the
Accounts page, the API and the CLI. The page needs no sign-in and no cookie, escapes what it
shows, is never cached, and answers bad, expired or used links with a clear 404/410 page (a
429 once an address tried too many unknown links), never a 500."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from sqlalchemy import select, update

from carebird.auth.throttle import failures
from carebird.cli.main import cli
from carebird.config import Settings
from carebird.crypto import seal
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.ingest.accounts import get_account
from carebird.ingest.models import NetworkAccount
from carebird.reply.survey import Survey
from carebird.reply.surveying import SurveySetup
from tests.factories import TestClient, agent_with_token, bearer
from tests.integration.test_survey import _account, _answered_case, _resolve, _surveys, _token

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HOSTILE = '<script>alert("x")</script>&"\'\u202e'


def _live_token(db: Database) -> str:
    _account(db, {"enabled": True})
    _resolve(db, _answered_case(db, 1), SurveySetup("https://desk.example"))  # now's clock
    return _token(_surveys(db)[0])


def _score(db: Database) -> int | None:
    with db.session() as s:
        return s.scalars(select(Survey.score)).one()


def test_the_form_escapes_the_brand_and_works_without_login_or_cookies(
    app: FastAPI, db: Database
) -> None:
    token = _live_token(db)
    with db.session() as s, s.begin():
        s.execute(update(NetworkAccount).values(display_name=HOSTILE))
    anonymous = TestClient(app)
    page = anonymous.get(f"/survey/{token}", headers={"accept-language": "fr"})
    assert page.status_code == 200, page.text
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "set-cookie" not in page.headers and "<script" not in page.text
    assert (
        'lang="en"' in page.text
    )  # the survey's language (an English customer), not the browser's
    assert [f'value="{n}"' in page.text for n in range(1, 6)] == [True] * 5


@pytest.mark.parametrize("score", ["0", "6", "4.5", "abc", "", "<b>5</b>", "٣", "9" * 500])
def test_a_bad_score_is_a_422_page_and_records_nothing(
    app: FastAPI, db: Database, score: str
) -> None:
    token = _live_token(db)
    anonymous = TestClient(app)
    refused = anonymous.post(f"/survey/{token}", data={"score": score})
    assert refused.status_code == 422 and refused.headers["cache-control"] == "no-store"
    assert "<b>5</b>" not in refused.text and 'name="score"' in refused.text
    assert _score(db) is None
    assert anonymous.post(f"/survey/{token}").status_code == 422  # no score at all
    assert anonymous.post(f"/survey/{token}", data={"score": " 5 "}).status_code == 200
    assert _score(db) == 5


def test_unknown_expired_and_used_links_get_a_clear_page(app: FastAPI, db: Database) -> None:
    token = _live_token(db)
    anonymous = TestClient(app)
    for bad in ("nope", token[:-1], token + "x", "%3Cscript%3E", "a" * 5000):
        got = anonymous.get(f"/survey/{bad}")
        assert got.status_code == 404, (bad[:20], got.status_code)
        assert "Invalid link" in got.text or "Lien invalide" in got.text
        assert "<script>" not in got.text and got.headers["cache-control"] == "no-store"
        assert anonymous.post(f"/survey/{bad}", data={"score": "5"}).status_code == 404
    with db.session() as s, s.begin():
        s.execute(update(Survey).values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = anonymous.get(f"/survey/{token}")
    assert expired.status_code == 410 and "expired" in expired.text
    assert anonymous.post(f"/survey/{token}", data={"score": "5"}).status_code == 410
    assert _score(db) is None
    with db.session() as s, s.begin():
        s.execute(update(Survey).values(expires_at=utcnow() + timedelta(days=1)))
    assert anonymous.post(f"/survey/{token}", data={"score": "2"}).status_code == 200
    used = anonymous.post(f"/survey/{token}", data={"score": "5"})
    assert used.status_code == 410 and "first answer is kept" in used.text
    assert _score(db) == 2


def test_an_address_guessing_links_is_locked_out_not_the_desk(app: FastAPI, db: Database) -> None:
    token = _live_token(db)
    anonymous = TestClient(app)
    assert anonymous.get(f"/survey/{token}").status_code == 200  # a real link counts nothing
    with db.session() as s:
        assert failures(s, kind="ip", value="testclient") == 0
    statuses = [anonymous.get(f"/survey/guess{n}").status_code for n in range(25)]
    assert statuses[:20] == [404] * 20 and set(statuses[20:]) == {429}
    locked = anonymous.get(f"/survey/{token}")
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
    with db.session() as s:
        assert failures(s, kind="ip", value="testclient") == 20  # locked: no more writes


def test_the_survey_switches_on_the_page_the_api_and_the_cli(
    client: TestClient, settings: Settings, db: Database
) -> None:
    sealed = seal(settings.secret_key, {"access_token": "t0ken"})
    account_id = _account(db, None, credentials=sealed)
    _, admin = agent_with_token(db, "admin")
    client.cookies.set("carebird_session", admin)
    page = client.get("/accounts").text
    found = CSRF.search(page)
    assert found is not None and f'action="/accounts/{account_id}/survey"' in page
    saved = client.post(
        f"/accounts/{account_id}/survey",
        data={"csrf_token": found.group(1), "enabled": "1"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/accounts?done=survey"
    assert _options(db, account_id)["survey"] == {"enabled": True, "public_allowed": False}
    assert client.post(f"/accounts/{account_id}/survey", data={"enabled": "1"}).status_code == 403
    client.cookies.clear()

    url = f"/api/accounts/{account_id}"
    on = client.patch(url, json={"survey": {"enabled": True, "public_allowed": True}},
                      headers=bearer(admin))  # fmt: skip
    assert on.status_code == 200, on.text
    assert on.json()["options"]["survey"] == {"enabled": True, "public_allowed": True}
    for bad in ({"enabled": "yes"}, {"enabled": True, "later": 3}, "on"):
        refused = client.patch(url, json={"survey": bad}, headers=bearer(admin))
        assert refused.status_code == 422, bad
    whole = client.patch(url, json={"options": {"survey": {"enabled": 1}}}, headers=bearer(admin))
    assert whole.status_code == 422 and "survey.enabled" in whole.text
    assert _options(db, account_id)["survey"] == {"enabled": True, "public_allowed": True}

    runner = CliRunner(env={"CAREBIRD_SECRET_KEY": settings.secret_key})
    base = ["--database", settings.database_url, "accounts", "set", str(account_id)]
    out = runner.invoke(cli, [*base, "--no-survey-public"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["options"]["survey"] == {
        "enabled": True,
        "public_allowed": False,
    }
    out = runner.invoke(cli, [*base, "--no-survey"])
    assert out.exit_code == 0, out.output
    assert _options(db, account_id)["survey"] == {"enabled": False, "public_allowed": False}


def _options(db: Database, account_id: int) -> dict[str, object]:
    with db.session() as s:
        return dict(get_account(s, account_id).options)
