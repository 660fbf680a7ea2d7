"""The public transparency page (no sign-in): an opted-in account's response-time record of
the last 30 days (carebird.insights.transparency), cacheable for a few minutes; 404 for an
account that did not opt in, exactly as for one that does not exist."""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from carebird.db.base import utcnow
from carebird.insights.transparency import published_account, record
from carebird.web.deps import AppSettings, DbSession, Sla
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)
# Private: the page is drawn in the desk's layout (a signed-in visitor's CSRF token is in it),
# so no shared cache may keep it; the process keeps each record instead (below).
CACHE = "private, max-age=300"
KEEP_SECONDS = 300.0  # the figures move slowly: one computation per account per 5 min
_lock = threading.Lock()


def _kept(request: Request) -> dict[tuple[int, str], tuple[float, dict[str, Any]]]:
    """This app's kept records (one app, one database)."""
    state = request.app.state
    with _lock:
        if not hasattr(state, "transparency_records"):
            state.transparency_records = {}
        kept: dict[tuple[int, str], tuple[float, dict[str, Any]]] = state.transparency_records
    return kept


Ref = Annotated[str, Path(min_length=1, max_length=220)]


@router.get("/public/transparency/{ref}", response_class=HTMLResponse)
def transparency_page(
    request: Request, ref: Ref, session: DbSession, settings: AppSettings, sla: Sla
) -> HTMLResponse:
    account = published_account(session, ref)
    key, records = (account.id, settings.timezone), _kept(request)
    with _lock:
        kept = records.get(key)
    if kept is not None and time.monotonic() - kept[0] < KEEP_SECONDS:
        data = kept[1]
    else:  # an anonymous caller cannot make the desk recompute more than once per 5 min
        data = record(session, account, sla.calendars(session), now=utcnow(), tz=settings.timezone)
        with _lock:
            records[key] = (time.monotonic(), data)
    response = render(request, "transparency.html", record=data)
    response.headers["cache-control"] = CACHE
    return response
