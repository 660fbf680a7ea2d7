"""Signing in and out of the pages: a form, a CSRF check, throttling, an HttpOnly session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from carebird.auth import service
from carebird.auth.throttle import LoginThrottled
from carebird.errors import AuthError
from carebird.web.deps import (
    AppSettings,
    DbSession,
    clear_session_cookie,
    optional_agent,
    request_token,
    run_sign_in,
    set_session_cookie,
)
from carebird.web.ui.csrf import check_csrf
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never `//evil.example` or `https://…` (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, session: DbSession, next: str = "/") -> Response:
    if optional_agent(request, session) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", next=safe_next(next), error=None, email="", wait=0)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    settings: AppSettings,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    check_csrf(request, settings, csrf_token)
    try:  # the lock is checked before the password: no oracle
        done = await run_sign_in(request, email=email, password=password, token_name="browser")
    except LoginThrottled as locked:
        return _form_again(request, email, next, "locked", 429, wait=locked.retry_after)
    except AuthError:
        return _form_again(request, email, next, "failed", 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, settings, done.token)
    return response


def _form_again(
    request: Request, email: str, next: str, error: str, status: int, *, wait: int = 0
) -> Response:
    minutes = max(1, -(-wait // 60))
    return render(
        request,
        "login.html",
        status_code=status,
        next=safe_next(next),
        error=error,
        email=email,
        wait=minutes,
    )


@router.post("/logout")
def logout(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(request, settings, csrf_token)
    token, _ = request_token(request)
    if token:
        service.revoke_token(session, token=token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, settings)
    return response
