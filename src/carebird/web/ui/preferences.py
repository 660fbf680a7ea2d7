"""The agent's own preferences: the pages' language and the time zone dates are shown in."""

from __future__ import annotations

import functools
from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from carebird.auth.models import Agent
from carebird.db.base import utcnow
from carebird.errors import AuthError, InvalidInput
from carebird.web.deps import AppSettings, DbSession, Viewer, optional_agent
from carebird.web.ui.csrf import check_csrf
from carebird.web.ui.i18n import LOCALES
from carebird.web.ui.login import safe_next
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)


@functools.cache
def time_zones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


def set_preferences(
    session: Session, *, agent: Agent, locale: str | None, timezone: str | None
) -> Agent:
    """Change the agent's language and/or time zone (only the ones given)."""
    if locale is not None:
        if locale not in LOCALES:
            raise InvalidInput(f"unknown language {locale!r}; one of {', '.join(LOCALES)}")
        agent.locale = locale
    if timezone is not None:
        if timezone != "UTC" and timezone not in time_zones():
            raise InvalidInput(f"unknown time zone {timezone[:64]!r}")
        agent.timezone = timezone
    session.flush()
    return agent


@router.get("/preferences", response_class=HTMLResponse)
def preferences_page(request: Request, agent: Viewer) -> HTMLResponse:
    zones = ["UTC", *time_zones()]
    return render(request, "preferences.html", agent=agent, zones=zones, now=utcnow())


@router.post("/preferences")
def save_preferences(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    locale: Annotated[str | None, Form(max_length=8)] = None,
    timezone: Annotated[str | None, Form(max_length=64)] = None,
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """A plain form post (the header switch and the preferences page), CSRF-checked."""
    check_csrf(request, settings, csrf_token)
    agent = optional_agent(request, session)
    if agent is None:
        raise AuthError("authentication required")
    set_preferences(session, agent=agent, locale=locale or None, timezone=timezone or None)
    return RedirectResponse(safe_next(next), status_code=303)
