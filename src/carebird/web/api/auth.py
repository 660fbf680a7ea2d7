"""Logging in and out, who am I, API tokens."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status

from carebird.auth import service
from carebird.auth.roles import require
from carebird.web.api.schemas import (
    AgentPublic,
    LoginRequest,
    LoginResponse,
    TokenCreate,
    TokenCreated,
)
from carebird.web.deps import (
    AppSettings,
    DbSession,
    Viewer,
    clear_session_cookie,
    request_token,
    run_sign_in,
    set_session_cookie,
)
from carebird.web.ui.csrf import csrf_token, set_csrf_cookie

router = APIRouter(prefix="/api", tags=["auth"])


@router.post("/auth/login", response_model=LoginResponse)
async def login(
    body: LoginRequest, request: Request, response: Response, settings: AppSettings
) -> LoginResponse:
    """Exchange e-mail and password for a session token (also set as an HttpOnly cookie).

    Repeated failures lock the e-mail (and, later, the address) for a growing delay: 429.
    """
    done = await run_sign_in(
        request, email=body.email, password=body.password, token_name="api login"
    )
    set_session_cookie(response, settings, done.token)
    set_csrf_cookie(response, settings, csrf_token(request, settings))
    return LoginResponse(
        token=done.token, expires_at=done.expires_at, agent=AgentPublic.model_validate(done.agent)
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, agent: Viewer, session: DbSession, settings: AppSettings) -> Response:
    """Revoke the token this request was made with and clear the cookie."""
    token, _ = request_token(request)
    if token:
        service.revoke_token(session, token=token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, settings)
    return response


@router.get("/me", response_model=AgentPublic)
def me(agent: Viewer) -> AgentPublic:
    return AgentPublic.model_validate(agent)


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, agent: Viewer, session: DbSession) -> TokenCreated:
    """Create an API token for yourself (or, as admin, for another agent); shown once."""
    owner = agent
    if body.agent_id is not None and body.agent_id != agent.id:
        require(agent, "admin")
        owner = service.get_agent(session, agent_id=body.agent_id)
    ttl = timedelta(days=body.ttl_days) if body.ttl_days else None
    token = service.issue_token(session, agent=owner, kind="api", name=body.name, ttl=ttl)
    row = service.token_row(session, token=token)
    return TokenCreated(
        token=token, agent_id=owner.id, name=body.name, expires_at=row.expires_at if row else None
    )
