"""The Teams page (admins): create, rename and delete teams, their members, lead, assignment
mode and cap, and each member's status; and the status form every agent has in the header.
Plain CSRF-checked forms; the same functions as the API (`carebird.cases.teams`, flows)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.auth.models import Agent
from carebird.cases import teams
from carebird.errors import Conflict, InvalidInput, NotFound
from carebird.flows import teams as flows
from carebird.i18n import N_
from carebird.web.deps import Admin, AppSettings, DbSession, Routing, form_agent
from carebird.web.ui.login import safe_next
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)
TeamId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Text = Annotated[str, Form(max_length=2000)]
MODES = {
    "manual": N_("Manual"),
    "round_robin": N_("Round robin"),
    "least_loaded": N_("Least loaded"),
}
DONE = {
    "created": N_("The team is created."),
    "saved": N_("The team is saved."),
    "deleted": N_("The team is deleted."),
    "member": N_("The members are saved."),
    "status": N_("The status is saved."),
}


def _page(
    request: Request,
    agent: Agent,
    session: Session,
    *,
    error: str | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    agents = list(
        session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name, Agent.id))
    )
    return render(
        request,
        "teams.html",
        agent=agent,
        status_code=status_code,
        teams=teams.list_teams(session),
        agents=agents,
        modes=MODES,
        error=error,
        done=DONE.get(done or ""),
    )


@router.get("/teams", response_class=HTMLResponse)
def teams_page(
    request: Request,
    agent: Admin,
    session: DbSession,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return _page(request, agent, session, done=done)


def _cap(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdecimal() or not 1 <= int(value) <= teams.MAX_CAP:
        raise InvalidInput(f"cap: a whole number from 1 to {teams.MAX_CAP}, or empty (no cap)")
    return int(value)


def _id(value: str, what: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdecimal() or not 1 <= int(value) < 2**63:
        raise InvalidInput(f"{what}: unknown")
    return int(value)


def _change(
    session: Session, team_id: int | None, change: str, form: dict[str, Any], declared: Any
) -> str:
    """Carry out one form's change; the notice to show."""
    if change == "create":
        teams.create_team(session, name=form.get("name", ""))
        return "created"
    assert team_id is not None
    if change == "settings":
        settings = {
            "name": form.get("name", ""),
            "assignment": form.get("assignment", ""),
            "max_open_per_agent": _cap(form.get("max_open_per_agent", "")),
            "lead_id": _id(form.get("lead_id", ""), "lead"),
        }
        flows.update_team(session, team_id, settings)
        return "saved"
    if change == "delete":
        teams.delete_team(session, team_id, declared=declared)
        return "deleted"
    agent_id = _id(form.get("agent_id", ""), "agent")
    if agent_id is None:
        raise InvalidInput("choose an agent")
    if change == "add":
        flows.add_member(session, team_id, agent_id)
    else:
        teams.remove_member(session, team_id, agent_id)
    return "member"


async def _form(request: Request) -> dict[str, str]:
    raw = await request.form()
    return {k: str(v)[:2000] for k, v in raw.items() if isinstance(v, str)}


@router.post("/teams", response_class=HTMLResponse)
async def create_form(request: Request, session: DbSession, settings: AppSettings) -> Response:
    return await _post(request, session, settings, None, "create", ())


@router.post("/teams/{team_id}/{change}", response_class=HTMLResponse)
async def change_form(
    request: Request,
    team_id: TeamId,
    change: Annotated[str, Path(pattern="^(settings|delete|add|remove)$")],
    session: DbSession,
    settings: AppSettings,
    setup: Routing,
) -> Response:
    declared = setup.teams + tuple(r.spec.then.team for r in setup.rules if r.spec.then.team)
    return await _post(request, session, settings, team_id, change, declared)


async def _post(
    request: Request,
    session: Session,
    settings: Any,
    team_id: int | None,
    change: str,
    declared: Any,
) -> Response:
    form = await _form(request)
    agent = form_agent(request, session, settings, form.get("csrf_token", ""), "admin")
    try:  # each change checks everything before it writes: a refused one leaves nothing
        done = _change(session, team_id, change, form, declared)
    except (InvalidInput, Conflict, NotFound) as exc:
        code = 409 if isinstance(exc, Conflict) else 404 if isinstance(exc, NotFound) else 422
        return _page(request, agent, session, error=str(exc), status_code=code)
    return RedirectResponse(f"/teams?done={done}", status_code=303)


@router.post("/agents/{agent_id}/status")
def status_form(
    request: Request,
    agent_id: Annotated[str, Path(pattern="^(me|[0-9]{1,18})$")],
    session: DbSession,
    settings: AppSettings,
    csrf_token: Text = "",
    status: Annotated[str, Form(max_length=16)] = "",
    next: Text = "/",
) -> Response:
    """An agent's own status (the header's form, `me`), or anyone's for a supervisor or an
    admin (the Teams page)."""
    actor = form_agent(request, session, settings, csrf_token, "agent")
    target = actor.id if agent_id == "me" else int(agent_id)
    flows.set_status(session, actor=actor, agent_id=target, status=status)
    return RedirectResponse(safe_next(next), status_code=303)
