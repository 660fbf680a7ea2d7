"""The password link's page (anonymous): an invitation or a reset e-mailed by the desk opens a
form to choose a password; once chosen, the link is used up and the person signs in.

The token in the path is the only credential (see `carebird.auth.invitations`): checked on
the server each time, refused clearly when unknown, expired or already used. Unknown links
count against the caller's address like failed sign-ins (429 while it is locked), and the
Argon2 hash runs in the app's login threads, so anonymous callers cannot stall the desk.
Pages are never cached, never indexed and send no referrer (the token is in the address).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse

from carebird.auth.invitations import LinkRefused, check_link, use_link
from carebird.auth.models import Agent
from carebird.auth.passwords import MAX_LENGTH, MIN_LENGTH
from carebird.auth.throttle import LoginThrottled
from carebird.errors import InvalidInput
from carebird.i18n import N_
from carebird.web.deps import AppSettings, get_db, login_executor
from carebird.web.ui.csrf import check_csrf
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(max_length=200)]
NO_STORE = {
    "cache-control": "no-store",
    "x-robots-tag": "noindex, nofollow",
    "referrer-policy": "no-referrer",
}
REFUSED = {
    "unknown": N_("This link does not exist or was copied incompletely."),
    "expired": N_("This link has expired. Ask an administrator to send a new one."),
    "used": N_("This link has already been used. Sign in, or ask an administrator for a new one."),
}
PROBLEMS = {
    "length": N_("A password needs %(min)s to %(max)s characters."),
    "mismatch": N_("The two passwords differ."),
}


def _page(request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
    values: dict[str, Any] = {
        "refused": None,
        "problem": None,
        "person": None,
        "kind": "invite",
        "done": False,
        "wait": 0,
        "min_length": MIN_LENGTH,
        "max_length": MAX_LENGTH,
    }
    values.update(context)
    response = render(request, "password.html", status_code=status_code, **values)
    response.headers.update(NO_STORE)
    return response


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _refusal(request: Request, exc: LoginThrottled | LinkRefused) -> HTMLResponse:
    if isinstance(exc, LoginThrottled):
        return _page(request, 429, wait=max(1, -(-exc.retry_after // 60)))
    return _page(request, exc.status_code, refused=REFUSED[exc.reason])


def _form(request: Request, token: str, problem: str | None = None) -> HTMLResponse:
    """The form for a live link (or why the link is refused)."""
    with get_db(request).session() as session:
        try:
            agent, kind = check_link(session, token=token, ip=_ip(request))
        except (LoginThrottled, LinkRefused) as exc:
            return _refusal(request, exc)
    return _page(
        request,
        422 if problem else 200,
        person=agent,
        kind=kind,
        problem=PROBLEMS[problem] if problem else None,
    )


@router.get("/password/{token}", response_class=HTMLResponse)
def password_form(request: Request, token: Token) -> HTMLResponse:
    return _form(request, token)


@router.post("/password/{token}", response_class=HTMLResponse)
async def set_password(
    request: Request,
    token: Token,
    settings: AppSettings,
    password: Annotated[str, Form(max_length=MAX_LENGTH)] = "",
    confirm: Annotated[str, Form(max_length=MAX_LENGTH)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    check_csrf(request, settings, csrf_token)
    if password != confirm:
        return _form(request, token, "mismatch")
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return _form(request, token, "length")
    db = get_db(request)
    ip = _ip(request)

    def work() -> Agent:
        with db.session() as session:
            return use_link(session, token=token, password=password, ip=ip)

    try:
        agent = await asyncio.get_running_loop().run_in_executor(login_executor(request), work)
    except (LoginThrottled, LinkRefused) as exc:
        return _refusal(request, exc)
    except InvalidInput:
        return _form(request, token, "length")
    return _page(request, person=agent, done=True)
