"""The Satisfaction page (supervisors): the survey scores for a period, overall and per agent,
category and account; the period and filters in the address (a plain GET form, no script).
The same function as the API (`carebird.insights.satisfaction.satisfaction_summary`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from carebird.db.base import utcnow
from carebird.errors import InvalidInput
from carebird.ingest.models import NetworkAccount
from carebird.insights.satisfaction import parse_moment, satisfaction_summary
from carebird.web.api.satisfaction import filters_of
from carebird.web.deps import DbSession, Supervisor
from carebird.web.params import IdQuery
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Query(max_length=40)]
DEFAULT_DAYS = 30


@router.get("/satisfaction", response_class=HTMLResponse)
def satisfaction_page(
    request: Request,
    agent: Supervisor,
    session: DbSession,
    start: Annotated[str, Query(alias="from", max_length=40)] = "",
    end: Annotated[str, Query(alias="to", max_length=40)] = "",
    account_id: IdQuery = None,
    language: Text = "",
) -> HTMLResponse:
    error = None
    today = utcnow().date()
    start = start or (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    end = end or (today + timedelta(days=1)).isoformat()
    try:
        summary = satisfaction_summary(
            session,
            start=parse_moment(start, what="from"),
            end=parse_moment(end, what="to"),
            filters=filters_of(account_id, None, None, None, None, language),
        )
    except InvalidInput as exc:
        error, summary = str(exc), None
    accounts = session.execute(
        select(NetworkAccount.id, NetworkAccount.network, NetworkAccount.handle).order_by(
            NetworkAccount.network, NetworkAccount.handle
        )
    ).all()
    return render(
        request,
        "satisfaction.html",
        agent=agent,
        status_code=422 if error else 200,
        summary=summary,
        error=error,
        accounts=accounts,
        chosen={"from": start, "to": end, "account_id": account_id, "language": language},
    )
