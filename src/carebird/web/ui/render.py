"""Rendering pages: one autoescaping Jinja2 environment, the locale's words, a CSRF token."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from carebird.cases.models import Agent
from carebird.config import Settings
from carebird.web.ui.csrf import CSRF_COOKIE, csrf_token, set_csrf_cookie
from carebird.web.ui.i18n import pick_locale, status_labels, strings


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("carebird.web", "templates"),
        autoescape=True,  # every page shows customers' text: escaping is never optional
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = format_time
    return env


@functools.cache
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def format_time(value: datetime | None, zone: str = "UTC") -> str:
    """`2026-03-02 10:00` in the agent's time zone (the inbox script writes the same shape)."""
    if value is None:
        return ""
    return value.astimezone(_zone(zone)).strftime("%Y-%m-%d %H:%M")


def render(
    request: Request,
    template: str,
    *,
    agent: Agent | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    locale = pick_locale(agent.locale if agent else None, request.headers.get("accept-language"))
    token = csrf_token(request, settings)
    html = (
        environment()
        .get_template(template)
        .render(
            agent=agent,
            locale=locale,
            t=strings(locale),
            statuses=status_labels(locale),
            zone=agent.timezone if agent else "UTC",
            csrf_token=token,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.cookies.get(CSRF_COOKIE) != token:
        set_csrf_cookie(response, settings, token)
    return response
