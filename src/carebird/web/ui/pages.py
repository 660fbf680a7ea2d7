"""The agent's pages: the inbox (kept fresh by /static/inbox.js) and one case."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from carebird.cases import queries
from carebird.understand.priority import describe
from carebird.web.deps import DbSession, Viewer
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)
INBOX_SIZE = 50  # the same page inbox.js polls: /api/cases?sort=activity&limit=50


@router.get("/", response_class=HTMLResponse)
def inbox(request: Request, agent: Viewer, session: DbSession) -> HTMLResponse:
    page = queries.list_cases(session, sort="priority", limit=INBOX_SIZE)
    for row in page.items:
        row.priority_text = describe(row.priority_reasons, agent.locale)
    return render(request, "inbox.html", agent=agent, page=page)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int, agent: Viewer, session: DbSession) -> HTMLResponse:
    detail = queries.case_detail(session, case_id=case_id)
    return render(request, "case.html", agent=agent, detail=detail)
