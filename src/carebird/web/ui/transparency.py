"""The public transparency page (no sign-in): an opted-in account's response-time record of
the last 30 days (carebird.insights.transparency), cacheable for a few minutes; 404 for an
account that did not opt in, exactly as for one that does not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from carebird.db.base import utcnow
from carebird.insights.transparency import published_account, record
from carebird.web.deps import AppSettings, DbSession, Sla
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)
CACHE = "public, max-age=300"  # the figures move slowly; a busy page costs one query per 5 min
Ref = Annotated[str, Path(min_length=1, max_length=220)]


@router.get("/public/transparency/{ref}", response_class=HTMLResponse)
def transparency_page(
    request: Request, ref: Ref, session: DbSession, settings: AppSettings, sla: Sla
) -> HTMLResponse:
    account = published_account(session, ref)
    data = record(session, account, sla.calendars(session), now=utcnow(), tz=settings.timezone)
    response = render(request, "transparency.html", record=data)
    response.headers["cache-control"] = CACHE
    return response
