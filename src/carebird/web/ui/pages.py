"""The agent's pages: the inbox (kept live by /static/inbox.js) and one case (case.js).

The pages are shells with their first data: the scripts draw rows, messages and panels from
the same JSON the API serves, so what a page shows and what it receives live never differ.
"""

from __future__ import annotations

from typing import Annotated

from babel import Locale
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from carebird.auth.roles import has_role
from carebird.cases import incidents, queries
from carebird.cases.models import Case
from carebird.cases.priority import describe
from carebird.db.base import utcnow
from carebird.ingest.models import Message
from carebird.insights.wait_store import current_wait
from carebird.reply.acknowledgement import format_wait, language_of
from carebird.web.api.schemas import CaseDetailPublic
from carebird.web.deps import AppSettings, DbSession, Viewer
from carebird.web.params import Id
from carebird.web.ui import directory
from carebird.web.ui.i18n import pick_locale
from carebird.web.ui.public_wait import desk_waits
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)
LANGUAGES = ("fr", "en", "es", "de", "it", "pt", "nl")
FILTERS = ("view", "team_id", "category", "language", "network", "status", "q")


def language_names(locale: str) -> dict[str, str]:
    names = Locale.parse(locale).languages
    return {code: str(names.get(code, code)).capitalize() for code in LANGUAGES}


@router.get("/", response_class=HTMLResponse)
def inbox(
    request: Request,
    agent: Viewer,
    session: DbSession,
    settings: AppSettings,
    q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    filters = {name: request.query_params.get(name, "")[:200] for name in FILTERS}
    filters["q"] = q
    agents = directory.active_agents(session)
    teams = directory.teams(session)
    locale = pick_locale(agent.locale)
    return render(
        request,
        "inbox.html",
        agent=agent,
        filters=filters,
        agents=agents,
        teams=teams,
        agents_map={a.id: a.name for a in agents},
        teams_map={t.id: t.name for t in teams},
        languages=language_names(locale),
        can_write=has_role(agent, "agent"),
        waits=desk_waits(session, settings, locale),  # the stored estimates, never computed
        incidents=incidents.list_incidents(session, status="open", limit=20),
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: Id, agent: Viewer, session: DbSession) -> HTMLResponse:
    detail = queries.case_detail(session, case_id=case_id)
    detail.case.priority_text = describe(detail.case.priority_reasons, pick_locale(agent.locale))
    agents = directory.active_agents(session)
    teams = directory.teams(session)
    public = CaseDetailPublic.model_validate(detail).model_dump(mode="json")
    return render(
        request,
        "case.html",
        agent=agent,
        detail=detail,
        detail_json=public,
        agents=agents,
        teams=teams,
        agents_map={a.id: a.name for a in agents},
        teams_map={t.id: t.name for t in teams},
        can_write=has_role(agent, "agent"),
        can_merge=has_role(agent, "agent"),
        can_manage_owners=has_role(agent, "supervisor"),
        now=utcnow(),
        expected_wait=expected_wait(session, case_id),
    )


def expected_wait(session: DbSession, case_id: int) -> str:
    """The case's account's live estimate in the customer's words ("25 min"), for the
    composer's `{expected_wait}`; empty without a fresh estimate (the agent states it)."""
    case = session.get(Case, case_id)
    wait = current_wait(session, case.account_id, utcnow()) if case and case.account_id else None
    if case is None or wait is None:
        return ""
    opening = session.get(Message, case.opening_message_id) if case.opening_message_id else None
    return format_wait(wait, language_of(opening.language if opening else None))
