"""The desk's figures (supervisors): GET /api/metrics (the object `carebird metrics --json`
prints) and each of its tables as CSV or JSON (GET /api/metrics/{table}.csv|.json; `cases`:
one row per case of the period). Period and filters as query parameters: from, to (days,
the last included), account, team, agent, network, category, language."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from carebird.config import Settings
from carebird.insights.drill import case_rows
from carebird.insights.export import write_table
from carebird.insights.figures import load_facts, metrics, table
from carebird.insights.query import MetricsQuery, parse_query
from carebird.web.deps import AppSettings, DbSession, Sla, Supervisor

router = APIRouter(prefix="/api", tags=["metrics"])
Text = Annotated[str | None, Query(max_length=200)]
TableName = Annotated[str, Path(pattern=r"^[a-z_]{1,40}$")]


def filters(
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    account: Text = None,
    team: Text = None,
    agent: Text = None,
    network: Text = None,
    category: Text = None,
    language: Text = None,
) -> dict[str, str | None]:
    """The period and filters as given (checked by `metrics_query`)."""
    return {
        "start": start,
        "end": end,
        "account": account,
        "team": team,
        "agent": agent,
        "network": network,
        "category": category,
        "language": language,
    }


Filters = Annotated[dict[str, str | None], Depends(filters)]


def metrics_query(
    session: Session, settings: Settings, given: dict[str, str | None]
) -> MetricsQuery:
    """A checked query (bad values: InvalidInput, 422) in the desk's time zone."""
    return parse_query(session, timezone=settings.timezone, **given)


@router.get("/metrics")
def get_metrics(
    agent: Supervisor, session: DbSession, settings: AppSettings, sla: Sla, given: Filters
) -> dict[str, Any]:
    """Response times, silence, volumes, per-group and per-agent figures of the cases opened
    in the period (carebird.insights.figures says how each is counted)."""
    query = metrics_query(session, settings, given)
    return metrics(session, query, sla.calendars(session))


def _table(
    session: Session, settings: Settings, sla: Any, given: dict[str, str | None], name: str
) -> list[dict[str, Any]]:
    query = metrics_query(session, settings, given)
    calendars = sla.calendars(session)
    facts = load_facts(session, query, calendars)
    if name == "cases":
        return case_rows(facts)
    return table(metrics(session, query, calendars, facts=facts), name)


@router.get("/metrics/{name}.csv")
def metrics_csv(
    name: TableName,
    agent: Supervisor,
    session: DbSession,
    settings: AppSettings,
    sla: Sla,
    given: Filters,
) -> Response:
    """One table as CSV (404: no such table)."""
    out = io.StringIO()
    write_table(_table(session, settings, sla, given, name), out, fmt="csv")
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/metrics/{name}.json")
def metrics_json(
    name: TableName,
    agent: Supervisor,
    session: DbSession,
    settings: AppSettings,
    sla: Sla,
    given: Filters,
) -> list[dict[str, Any]]:
    """One table as a JSON array of rows (404: no such table)."""
    return _table(session, settings, sla, given, name)
