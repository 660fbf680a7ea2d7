"""The figures on small histories written through the real pipeline (both engines): no cases,
an acknowledgement and a "please DM us" that are contacts and not answers, next responses,
reopening and resolution, per agent, filters and their bad values."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from carebird.cases.calendars import Calendar, Calendars
from carebird.cases.log import record
from carebird.cases.models import Case, CaseEvent
from carebird.cases.service import change_status
from carebird.cli.main import cli
from carebird.db.base import as_utc, utcnow
from carebird.db.database import Database
from carebird.errors import InvalidInput
from carebird.ingest.base import AuthorInfo, MessageKind
from carebird.insights.contact import is_dm_request
from carebird.insights.drill import drill
from carebird.insights.figures import load_facts, metrics
from carebird.insights.query import parse_query
from tests.factories import (
    BRAND,
    T0,
    TestClient,
    agent_with_token,
    bearer,
    case_of,
    customer,
    ingest,
    item,
)

OFFICE = Calendars(Calendar.parse("Mon-Fri 09:00-17:00", "UTC"))  # T0: Monday 09:00 UTC


def report(db: Database, **filters: str) -> dict[str, Any]:
    with db.session() as s:
        query = parse_query(s, timezone="UTC", **filters)
        return metrics(s, query, OFFICE)


def test_no_cases_gives_counts_of_zero_and_no_times(db: Database) -> None:
    got = report(db)
    assert got["cases"] == got["support_cases"] == got["answered"] == 0
    for key in ("median_first_response_seconds", "p90_first_response_seconds",
                "answered_within_1h", "silence_rate", "reopen_rate",
                "median_resolution_seconds"):  # fmt: skip
        assert got[key] is None, key
    assert got["by_category"] == got["by_agent"] == got["sentiment_trend"] == []
    assert len(got["by_hour_of_week"]) == 168
    assert {c["cases"] for c in got["by_hour_of_week"]} == {0}


def test_acknowledgement_and_dm_request_are_contacts_not_answers(db: Database) -> None:
    a, b = customer(1), customer(2)
    ingest(db, [
        item(a, "Mon colis n'est jamais arrivé, commande bloquée", external_id="a1"),
        item(BRAND, "Bien reçu, nous revenons vers vous", minutes=2, external_id="a2",
             in_reply_to_id="a1", kind=MessageKind.ACKNOWLEDGEMENT),
        item(BRAND, "Bonjour, merci de nous écrire en message privé. ^AB", minutes=10,
             external_id="a3", in_reply_to_id="a1"),
        item(BRAND, "Votre colis repart demain, numéro de suivi par e-mail.", minutes=90,
             external_id="a4", in_reply_to_id="a1"),
        item(b, "Mon abonnement ne fonctionne plus depuis hier, aidez-moi", minutes=5,
             external_id="b1"),
        item(BRAND, "Bien reçu !", minutes=6, external_id="b2", in_reply_to_id="b1",
             kind=MessageKind.ACKNOWLEDGEMENT),
    ])  # fmt: skip
    assert is_dm_request("Bonjour, merci de nous écrire en message privé. ^AB")
    got = report(db)
    assert got["support_cases"] == 2 and got["answered"] == 1 and got["contacted"] == 2
    assert got["median_first_contact_seconds"] == pytest.approx((2 * 60 + 60) / 2)
    assert got["median_first_response_seconds"] == 90 * 60  # the acknowledgement and DM: no
    assert got["answered_within_1h"] == 0 and got["answered_within_24h"] == 0.5
    assert got["contacted_within_1h"] == 1
    assert got["silence_rate"] == 0.5 and got["no_contact_rate"] == 0
    assert got["contact_only"] == 1
    # Office hours from Monday 09:00: 90 minutes of open time too.
    assert got["median_first_response_business_seconds"] == 90 * 60
    with db.session() as s:
        facts = load_facts(s, parse_query(s, timezone="UTC"), OFFICE)
        q = parse_query(s, timezone="UTC")
    assert [f.id for f in drill(facts, q, slice_="contact_only")] == [case_of(db, "b1")]
    assert [f.id for f in drill(facts, q, slice_="answered")] == [case_of(db, "a1")]


def test_next_response_reopening_resolution_and_agents(db: Database) -> None:
    ana, _ = agent_with_token(db, "agent", email="ana@example.test")
    c = customer(3)
    ingest(db, [
        item(c, "Panne internet depuis ce matin, rien ne marche", external_id="c1"),
        item(BRAND, "Nous relançons votre box à distance.", minutes=30, external_id="c2",
             in_reply_to_id="c1"),
        item(c, "Toujours rien après la relance", minutes=40, external_id="c3",
             in_reply_to_id="c2"),
        item(c, "Vous êtes là ?", minutes=50, external_id="c4", in_reply_to_id="c2"),
        item(BRAND, "Un technicien passe demain matin.", minutes=100, external_id="c5",
             in_reply_to_id="c4"),
    ])  # fmt: skip
    case_id = case_of(db, "c1")
    with db.session() as s, s.begin():
        for ext, at in (("c2", 30), ("c5", 100)):  # what the sender writes for a posted reply
            record(s, case_id, "reply_sent", new=ext, actor_id=ana.id,
                   at=T0 + timedelta(minutes=at))  # fmt: skip
        s.execute(update(Case).where(Case.id == case_id).values(assignee_id=ana.id))
        change_status(s, case_id=case_id, status="resolved", actor_id=ana.id)
    minutes = (utcnow() - T0).total_seconds() / 60 + 1
    ingest(db, [item(c, "Ça recommence !", minutes=minutes, external_id="c6")])
    with db.session() as s, s.begin():
        change_status(s, case_id=case_id, status="resolved", actor_id=ana.id)
        last = s.scalars(
            select(CaseEvent.at).where(CaseEvent.case_id == case_id, CaseEvent.new == "resolved")
        ).all()
    got = report(db)
    assert got["next_responses"] == 1
    assert got["median_next_response_seconds"] == 60 * 60  # from 10:40 (first unanswered)
    assert got["reopened"] == 1 and got["reopen_rate"] == 1
    assert got["resolved"] == 1
    assert got["median_resolution_seconds"] == pytest.approx(
        (as_utc(max(last)) - T0).total_seconds()
    )
    (row,) = got["by_agent"]
    assert row["agent"] == "ana@example.test" and row["replies"] == 2
    assert row["first_answers"] == 1 and row["median_first_response_seconds"] == 30 * 60
    assert row["cases_handled"] == 1 and row["resolved"] == 1 and row["open_load"] == 0
    assert report(db, agent="ana@example.test")["cases"] == 1
    assert report(db, agent=str(ana.id))["cases"] == 1


def test_other_is_not_support_and_filters_narrow(db: Database) -> None:
    ingest(db, [
        item(customer(4), "My order never arrived and nobody answers", external_id="d1"),
        item(customer(5), "Ma facture est fausse, je suis furieux", external_id="e1",
             minutes=60 * 24 * 3),
    ])  # fmt: skip
    with db.session() as s, s.begin():
        s.execute(update(Case).where(Case.id == case_of(db, "e1")).values(category="other"))
    got = report(db)
    assert got["cases"] == 2 and got["support_cases"] == 1 and got["silence_rate"] == 1
    assert report(db, category="other")["support_cases"] == 0
    assert report(db, start="2026-03-03")["cases"] == 1
    assert report(db, end="2026-03-02")["cases"] == 1  # the last day is included
    assert report(db, network="mastodon")["cases"] == 0
    assert report(db, account="Brand_SAV")["cases"] == 2
    for bad in ({"category": "nonsense"}, {"language": "french!"}, {"start": "yesterday"},
                {"account": "nobody"}, {"team": "ghosts"}, {"agent": "who@example.test"},
                {"network": "X Y"}, {"start": "2026-03-05", "end": "2026-03-01"}):  # fmt: skip
        with pytest.raises(InvalidInput):
            report(db, **bad)


def test_cli_bad_filter_is_a_usage_error(db: Database) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--database", db.url, "metrics", "--category", "nope"])
    assert result.exit_code == 2 and "category" in result.output
    result = runner.invoke(cli, ["--database", db.url, "metrics", "--table", "nope"])
    assert result.exit_code == 2 and "no table" in result.output


def test_api_serves_the_figures_and_every_table(db: Database, client: TestClient) -> None:
    ingest(db, [
        item(customer(6), "Ma commande n'est jamais arrivée, aidez-moi", external_id="f1"),
        item(BRAND, "Votre colis est reparti ce matin.", minutes=20, external_id="f2",
             in_reply_to_id="f1"),
    ])  # fmt: skip
    _, token = agent_with_token(db, "supervisor")
    auth = bearer(token)
    got = client.get("/api/metrics", params={"from": "2026-03-01", "to": "2026-03-02"},
                     headers=auth).json()  # fmt: skip
    assert got["cases"] == 1 and got["median_first_response_seconds"] == 20 * 60
    assert (
        got["answered_within_1h"] == 1 and got["period"]["from"] == "2026-02-28T23:00:00+00:00"
    )  # Paris
    assert (
        client.get("/api/metrics", params={"from": "2026-03-03"}, headers=auth).json()["cases"] == 0
    )
    for name in ("summary", "by_category", "by_hour_of_week", "sentiment_trend", "cases"):
        csv_response = client.get(f"/api/metrics/{name}.csv", headers=auth)
        assert csv_response.status_code == 200, name
        assert csv_response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(csv_response.text)))
        assert rows == [
            {k: "" if v is None else str(v) for k, v in r.items()}
            for r in client.get(f"/api/metrics/{name}.json", headers=auth).json()
        ], name
    assert client.get("/api/metrics/nope.csv", headers=auth).status_code == 404
    for bad in ({"category": "x"}, {"from": "soon"}, {"account": "nobody"},
                {"language": "a" * 300}, {"from": "0001-01-01"}, {"to": "9999-12-31"},
                {"to": "9999-12-31T23:00:00-14:00"}, {"account": "²"}):  # fmt: skip
        response = client.get("/api/metrics", params=bad, headers=auth)
        assert response.status_code == 422, bad


def test_dashboard_pages_are_for_supervisors(db: Database, client: TestClient) -> None:
    hostile = AuthorInfo("h1", "<b>bold</b>", "<script>x</script>")
    ingest(db, [item(hostile, "Ma commande est bloquée depuis une semaine", external_id="g1")])
    period = {"from": "2026-03-01", "to": "2026-03-03"}
    assert client.get("/dashboard", follow_redirects=False).status_code == 303  # sign in
    _, agent = agent_with_token(db, "agent")
    assert client.get("/dashboard", headers=bearer(agent)).status_code == 403
    _, token = agent_with_token(db, "supervisor")
    auth = bearer(token)
    page = client.get("/dashboard", params=period, headers=auth)
    assert page.status_code == 200 and page.text.count("<svg") == 7
    assert 'data-key="silence_rate" href="/dashboard/cases?' in page.text
    drilled = client.get("/dashboard/cases", params=period | {"slice": "silent"}, headers=auth)
    assert drilled.status_code == 200
    assert f'data-case-id="{case_of(db, "g1")}"' in drilled.text
    assert "<b>bold</b>" not in drilled.text and "&lt;b&gt;bold&lt;/b&gt;" in drilled.text
    report = client.get("/dashboard/report", params={"week": "2026-W10"}, headers=auth)
    assert report.status_code == 200 and "2026-W10" in report.text
    for path, params in (("/dashboard", {"network": "<x>"}), ("/dashboard/cases",
                         {"slice": "nope"}), ("/dashboard/report", {"week": "soon"}),
                         ("/dashboard/cases", {"weekday": "9"}),
                         ("/dashboard/report", {"week": "9999-W52"}),
                         ("/dashboard/report", {"week": "0001-W01"})):  # fmt: skip
        assert client.get(path, params=params, headers=auth).status_code == 422, path
