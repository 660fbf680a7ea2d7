"""Agents per hour of the week from the desk's own support cases: the plan (both engines), the
/staffing page (supervisors, what-if in the address, escaped, bad input a 4xx) and
`carebird staffing --from-history` run as a user runs it."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from carebird.cases.models import Case
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.errors import InvalidInput
from carebird.insights.staffing import week_plan
from tests.factories import T0, TestClient, agent_with_token, customer, ingest, item
from tests.support.processes import run_cli

PARIS = ZoneInfo("Europe/Paris")
COMPLAINT = "mon colis n'est jamais arrivé, toujours rien"
# Textbook load once doubled: 50 × 2 = 100 contacts an hour at 360 s = 10 erlangs.
TEXTBOOK = {"handle_seconds": 360.0, "answer_within_seconds": 20.0, "shrinkage": 0.3}


def _hour_of_cases(db: Database, start: datetime, n: int = 50) -> None:
    """`n` support cases within the hour from `start`, and one that is not a support request."""
    base = (start - T0).total_seconds() / 60
    ingest(db, [item(customer(i), COMPLAINT, minutes=base + i, external_id=f"h{i}")
                for i in range(n + 1)])  # fmt: skip
    with db.session() as s, s.begin():
        last = s.scalar(select(func.max(Case.id)))
        s.execute(update(Case).where(Case.id == last).values(category="other"))


def test_the_plan_follows_the_hours_cases_arrive_in(db: Database) -> None:
    _hour_of_cases(db, T0)  # Monday 10:00-10:50 in Paris
    now = T0 + timedelta(hours=2)
    with db.session() as s:
        plan = week_plan(s, tz=PARIS, now=now, factor=2.0, **TEXTBOOK)
    monday_10 = plan.cell(0, 10)
    assert plan.support_cases == 50
    assert monday_10.arrivals == 100.0
    assert (monday_10.agents, monday_10.scheduled) == (14, 20)  # the textbook's answer
    assert monday_10.concurrent_agents == 4  # ceil(10 erlangs / (3 × 0.85))
    busy = [(h.day, h.hour) for h in plan.hours if h.agents]
    assert busy == [(0, 10)]
    assert plan.peak_agents == 14 and plan.as_dict()["agent_hours"] == 14
    with db.session() as s:
        calm = week_plan(s, tz=PARIS, now=now, factor=1.0, **TEXTBOOK)
        assert calm.cell(0, 10).arrivals == 50.0 and calm.cell(0, 10).agents < 14
        with pytest.raises(InvalidInput, match="factor"):
            week_plan(s, tz=PARIS, now=now, factor=0)
        with pytest.raises(InvalidInput, match="weeks"):
            week_plan(s, tz=PARIS, now=now, weeks=99)


def test_the_staffing_page(client: TestClient, db: Database) -> None:
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    _hour_of_cases(db, start)
    _, agent = agent_with_token(db, "agent")
    client.cookies.set("carebird_session", agent)
    assert client.get("/staffing").status_code == 403  # supervisors
    _, token = agent_with_token(db, "supervisor")
    client.cookies.set("carebird_session", token)
    page = client.get("/staffing?factor=2&handle_seconds=360&answer_within_seconds=20")
    assert page.status_code == 200
    local = start.astimezone(PARIS)
    row = re.search(r"<tr><th scope=\"row\">[^<]+</th>(.*?)</tr>",
                    page.text.split('id="heatmap"')[1].split("<tbody>")[1]
                    .split("</tr>")[local.weekday()] + "</tr>", re.S)  # fmt: skip
    assert row is not None
    cells = re.findall(r'<td class="heat-(\d)"[^>]*>(\d+)</td>', row.group(1))
    assert cells[local.hour] == ("8", "14")  # the peak, darkest
    assert sum(int(n) for _, n in cells) == 14
    assert "Pic : 14 agents à la fois (4 à 3 conversations chacun)" in page.text
    for bad in ("factor=0", "factor=nan", "weeks=0", "service_level=1", "concurrency=x"):
        answer = client.get(f"/staffing?{bad}")
        assert 400 <= answer.status_code < 500, bad


def test_the_cli_prints_the_same_figures(db: Database, tmp_path: Path) -> None:
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    _hour_of_cases(db, start)
    env = {"CAREBIRD_DATABASE_URL": db.url, "CAREBIRD_TIMEZONE": "Europe/Paris"}
    out = run_cli(env, tmp_path, "staffing", "--from-history", "--factor", "2",
                  "--handle-seconds", "360", "--answer-within-seconds", "20", "--json")  # fmt: skip
    plan = json.loads(out)
    local = start.astimezone(PARIS)
    cell = plan["hours"][local.weekday() * 24 + local.hour]
    assert (cell["arrivals"], cell["agents"], cell["scheduled"]) == (100.0, 14, 20)
    assert cell["concurrent_agents"] == 4 and plan["peak_concurrent_agents"] == 4
    assert plan["support_cases"] == 50 and plan["factor"] == 2.0
    text = run_cli(env, tmp_path, "staffing", "--from-history")
    assert "peak" in text and text.count("\n") == 9
    classic = run_cli(env, tmp_path, "staffing", "--arrivals", "100", "--interval-minutes", "30",
                      "--handle-seconds", "180", "--answer-within-seconds", "20",
                      "--service-level", "0.8", "--shrinkage", "0.3", "--concurrency", "3",
                      "--json")  # fmt: skip
    assert json.loads(classic)["agents"] == 14 and json.loads(classic)["concurrent_agents"] == 4
    missing = run_cli(env, tmp_path, "staffing", "--arrivals", "10", status=2)
    assert missing == ""
