"""Request dependencies: one database transaction per request, the current agent, roles.

Credentials come from `Authorization: Bearer <token>` (integrations) or the `carebird_session`
cookie (the browser). A cookie-authenticated write must also carry the CSRF header.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session

from carebird.auth.models import Agent
from carebird.auth.roles import require
from carebird.auth.service import SESSION_TTL, SignedIn, resolve_token, sign_in
from carebird.cases.routing import RoutingSetup
from carebird.cases.sla import SlaSetup
from carebird.config import Settings
from carebird.db.database import Database
from carebird.errors import AuthError
from carebird.web.ui.csrf import CSRF_HEADER, check_csrf

SESSION_COOKIE = "carebird_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Sign-ins checked at once per app. Argon2 is slow on purpose and runs 4 threads per check: a
# burst of logins queues behind these few threads, at a lower CPU priority than the desk's
# requests, instead of taking every worker thread and core from the agents.
LOGIN_THREADS = 2
LOGIN_NICENESS = 10
_executor_lock = threading.Lock()


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_session(request: Request) -> Iterator[Session]:
    """A session in a transaction: committed when the route succeeds, rolled back otherwise."""
    with get_db(request).session() as session, session.begin():
        yield session


# scope="function": the commit happens before the response is sent, so a client that saw a
# success can rely on it; a failing commit becomes an error response, not a lost write.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]


def get_weights(request: Request) -> dict[str, float]:
    """The desk's priority weights (re-scoring after an agent's change), from its settings,
    checked once when the app was made."""
    weights: dict[str, float] = request.app.state.weights
    return weights


Weights = Annotated[dict[str, float], Depends(get_weights)]


def get_routing(request: Request) -> RoutingSetup:
    """The configuration's routing rules and teams (parsed once, when the app was made)."""
    routing: RoutingSetup = request.app.state.routing
    return routing


Routing = Annotated[RoutingSetup, Depends(get_routing)]


def get_sla(request: Request) -> SlaSetup:
    """The desk's SLA policies (parsed once, when the app was made)."""
    sla: SlaSetup = request.app.state.sla
    return sla


Sla = Annotated[SlaSetup, Depends(get_sla)]


def request_token(request: Request) -> tuple[str | None, bool]:
    """The presented token and whether it came from the cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else (None, False)


def current_agent(request: Request, session: DbSession, settings: AppSettings) -> Agent:
    token, from_cookie = request_token(request)
    if not token:
        raise AuthError("authentication required")
    agent = resolve_token(session, token=token)
    if from_cookie and request.method not in SAFE_METHODS:
        check_csrf(request, settings, request.headers.get(CSRF_HEADER))
    return agent


CurrentAgent = Annotated[Agent, Depends(current_agent)]


def optional_agent(request: Request, session: DbSession) -> Agent | None:
    """The signed-in agent, or None (pages that show a login link instead of failing)."""
    token, _ = request_token(request)
    if not token:
        return None
    try:
        return resolve_token(session, token=token)
    except AuthError:
        return None


def form_agent(
    request: Request, session: Session, settings: Settings, token: str, role: str
) -> Agent:
    """The signed-in agent behind a page's form post, holding `role` (CSRF token checked
    first)."""
    check_csrf(request, settings, token)
    agent = optional_agent(request, session)
    if agent is None:
        raise AuthError("authentication required")
    require(agent, role)
    return agent


def require_role(role: str) -> Callable[[Agent], Agent]:
    """A dependency giving the current agent when it holds `role` (or higher), else 403."""

    def dependency(agent: CurrentAgent) -> Agent:
        require(agent, role)
        return agent

    dependency.__name__ = f"require_{role}"
    return dependency


Viewer = Annotated[Agent, Depends(require_role("viewer"))]
AgentRole = Annotated[Agent, Depends(require_role("agent"))]
Supervisor = Annotated[Agent, Depends(require_role("supervisor"))]
Admin = Annotated[Agent, Depends(require_role("admin"))]


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
    )


def _lower_priority() -> None:
    """Run this thread (and the Argon2 threads it starts, which inherit it) at a lower CPU
    priority: on Linux the niceness is per thread."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOGIN_NICENESS)


def login_executor(request: Request) -> ThreadPoolExecutor:
    """The app's own few threads for sign-ins, made on first use."""
    state = request.app.state
    with _executor_lock:
        executor: ThreadPoolExecutor | None = getattr(state, "login_executor", None)
        if executor is None:
            executor = ThreadPoolExecutor(
                LOGIN_THREADS, thread_name_prefix="carebird-login", initializer=_lower_priority
            )
            state.login_executor = executor
    return executor


async def run_sign_in(request: Request, *, email: str, password: str, token_name: str) -> SignedIn:
    """`auth.service.sign_in` in the app's login threads, on a session of its own.

    A login waits for one of them without holding a worker thread or a database connection,
    so forty parallel guesses queue behind each other while the agents' requests go on.
    """
    db = get_db(request)
    ip = request.client.host if request.client else None

    def work() -> SignedIn:
        with db.session() as session:
            return sign_in(session, email=email, password=password, ip=ip, token_name=token_name)

    return await asyncio.get_running_loop().run_in_executor(login_executor(request), work)
