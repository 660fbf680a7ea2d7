"""The People page (admins): invite someone by e-mail, change roles, deactivate and reactivate,
resend an invitation, send a password reset; and the API tokens page (one's own for anyone,
everyone's for admins). Plain CSRF-checked forms over `carebird.auth.people` and
`carebird.auth.invitations`, the functions the API and the CLI call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from carebird.auth import invitations, people
from carebird.auth.models import Agent
from carebird.auth.roles import RANK, has_role
from carebird.auth.service import issue_token
from carebird.errors import CarebirdError, Conflict, InvalidInput, NotFound
from carebird.flows import teams as team_flows
from carebird.i18n import N_
from carebird.mail import Mailer, MailError
from carebird.web.deps import Admin, AppSettings, DbSession, Viewer, form_agent
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Csrf = Annotated[str, Form(max_length=200)]
DONE = {
    "invited": N_("The invitation is sent: the link in it works once, for 72 hours."),
    "resent": N_("A new invitation is sent; the previous link no longer works."),
    "reset": N_("A password reset link is sent."),
    "role": N_("The role is changed."),
    "deactivated": N_("The person is deactivated: their sessions and API tokens are revoked."),
    "reactivated": N_("The person is reactivated."),
    "revoked": N_("The token is revoked."),
}
STATES = {
    "active": N_("Active account"),
    "invited": N_("Invitation pending"),
    "inactive": N_("Deactivated account"),
}
ERRORS = {
    "last_admin": N_("The desk needs at least one active admin: make another person admin first."),
    "mail": N_("The e-mail could not be sent: check the desk's mail settings (SMTP)."),
    "taken": N_("Someone already has this e-mail address."),
    "invalid": N_("Check the form: %(detail)s"),
    "refused": N_("Refused: %(detail)s"),
}


def _error(exc: CarebirdError) -> tuple[str, str]:
    """The error's msgid and its detail (shown escaped, in the page's language)."""
    if isinstance(exc, Conflict) and str(exc) == people.LAST_ADMIN:
        return "last_admin", ""
    if isinstance(exc, MailError):
        return "mail", ""
    if isinstance(exc, Conflict) and "already exists" in str(exc):
        return "taken", ""
    if isinstance(exc, InvalidInput):
        return "invalid", str(exc)
    return "refused", str(exc)


def _attempt(session: Session, change: Callable[[], object]) -> CarebirdError | None:
    """Run a change in a savepoint: a refused one leaves nothing behind (the request's
    transaction still commits what came before)."""
    try:
        with session.begin_nested():
            change()
    except (InvalidInput, Conflict, NotFound, MailError) as exc:
        return exc
    return None


def _page(
    request: Request,
    agent: Agent,
    session: Session,
    *,
    done: str = "",
    error: CarebirdError | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    code, detail = _error(error) if error is not None else ("", "")
    return render(
        request,
        "people.html",
        agent=agent,
        status_code=error.status_code if error is not None else 200,
        people=people.list_people(session),
        role_names=list(RANK),
        states=STATES,
        done=DONE.get(done),
        error=ERRORS.get(code),
        error_detail=detail,
        form=form or {},
    )


@router.get("/people", response_class=HTMLResponse)
def people_page(
    request: Request,
    agent: Admin,
    session: DbSession,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return _page(request, agent, session, done=done)


@router.post("/people/invite", response_class=HTMLResponse)
def invite_form(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    csrf_token: Csrf = "",
    email: Annotated[str, Form(max_length=254)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=16)] = "agent",
    locale: Annotated[str, Form(max_length=8)] = "fr",
) -> Response:
    agent = form_agent(request, session, settings, csrf_token, "admin")

    def send() -> None:
        if locale not in ("fr", "en"):
            raise InvalidInput(f"unknown language {locale[:8]!r}")
        invitations.invite(
            session,
            email=email,
            name=name,
            role=role,
            locale=locale,
            invited_by=agent.name,
            mailer=Mailer.from_settings(settings),
            public_url=settings.public_url,
        )

    error = _attempt(session, send)
    if error is not None:
        form = {"email": email, "name": name, "role": role, "locale": locale}
        return _page(request, agent, session, error=error, form=form)
    return RedirectResponse("/people?done=invited", status_code=303)


@router.post("/people/{agent_id}/{action}", response_class=HTMLResponse)
def person_form(
    request: Request,
    agent_id: RowId,
    action: Annotated[str, Path(pattern="^(role|deactivate|reactivate|resend|reset)$")],
    session: DbSession,
    settings: AppSettings,
    csrf_token: Csrf = "",
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    agent = form_agent(request, session, settings, csrf_token, "admin")
    mailer = Mailer.from_settings(settings)
    url = settings.public_url
    changes: dict[str, tuple[Callable[[], Any], str]] = {
        "role": (lambda: people.set_role(session, agent_id=agent_id, role=role), "role"),
        "deactivate": (
            lambda: team_flows.set_active(session, agent_id=agent_id, active=False),
            "deactivated",
        ),
        "reactivate": (
            lambda: team_flows.set_active(session, agent_id=agent_id, active=True),
            "reactivated",
        ),
        "resend": (
            lambda: invitations.resend_invitation(
                session, agent_id=agent_id, invited_by=agent.name, mailer=mailer, public_url=url
            ),
            "resent",
        ),
        "reset": (
            lambda: invitations.send_reset(
                session, agent_id=agent_id, mailer=mailer, public_url=url
            ),
            "reset",
        ),
    }
    change, done = changes[action]
    error = _attempt(session, change)
    if error is not None:
        return _page(request, agent, session, error=error)
    return RedirectResponse(f"/people?done={done}", status_code=303)


# --- API tokens ------------------------------------------------------------------------------
def _tokens_page(
    request: Request,
    agent: Agent,
    session: Session,
    *,
    done: str = "",
    created: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    admin = has_role(agent, "admin")
    return render(
        request,
        "tokens.html",
        agent=agent,
        status_code=status_code,
        tokens=people.list_tokens(session, agent_id=None if admin else agent.id),
        everyone=admin,
        done=DONE.get(done),
        created=created,
    )


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(
    request: Request,
    agent: Viewer,
    session: DbSession,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return _tokens_page(request, agent, session, done=done)


@router.post("/tokens/new", response_class=HTMLResponse)
def token_form(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    csrf_token: Csrf = "",
    name: Annotated[str, Form(max_length=120)] = "",
) -> HTMLResponse:
    """Create a token for oneself: its secret is in this response only (never stored)."""
    agent = form_agent(request, session, settings, csrf_token, "viewer")
    secret = issue_token(session, agent=agent, kind="api", name=name or "token")
    response = _tokens_page(request, agent, session, created=secret, status_code=201)
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/tokens/{token_id}/revoke")
def revoke_form(
    request: Request,
    token_id: RowId,
    session: DbSession,
    settings: AppSettings,
    csrf_token: Csrf = "",
) -> Response:
    agent = form_agent(request, session, settings, csrf_token, "viewer")
    people.revoke_api_token(session, actor=agent, token_id=token_id)
    return RedirectResponse("/tokens?done=revoked", status_code=303)
