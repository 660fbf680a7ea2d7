"""Rendering pages: one autoescaping Jinja2 environment per locale (gettext), a CSRF token.

Templates write every word as `{{ _("English source") }}` (or `ngettext`), translated through
the locale's catalogue; dates go through the `when` filter (agent's zone, locale's format).

Customers' text can hold bidi controls (U+202A–U+202E, U+2066–U+2069) that reorder what
follows them: templates put such text in an element of its own (``dir="auto"``, ``<bdi>``)
and pass it through the `bidi` filter, which shows each control as a marker ("⟨U+202E⟩").
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from carebird.auth.models import Agent
from carebird.config import Settings
from carebird.live.events import KINDS
from carebird.web.ui import i18n
from carebird.web.ui.csrf import CSRF_COOKIE, csrf_token, set_csrf_cookie
from carebird.web.ui.words import (
    AGENT_STATUSES,
    category_labels,
    event_labels,
    network_labels,
    role_labels,
    status_labels,
)


@functools.cache
def environment(locale: str = i18n.DEFAULT_LOCALE) -> Environment:
    env = Environment(
        loader=PackageLoader("carebird.web", "templates"),
        autoescape=True,  # every page shows customers' text: escaping is never optional
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["when"] = lambda value, zone="UTC": i18n.format_when(value, locale, zone)
    env.filters["number"] = lambda value: i18n.format_number(value, locale)
    env.filters["duration"] = lambda seconds: i18n.format_duration(seconds, locale)
    env.filters["attrjson"] = _attr_json
    env.filters["bidi"] = bidi_visible
    env.globals["live_kinds"] = list(KINDS)  # the one list of live events (live/events.py)
    return env


BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def bidi_visible(value: Any) -> Markup:
    """`value` escaped, each bidi embedding, override or isolate shown as "⟨U+202E⟩"."""
    text = Markup.escape(value)
    if BIDI_CONTROLS.search(text) is None:
        return text
    return Markup(BIDI_CONTROLS.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text))


def _attr_json(value: Any) -> Markup:
    """JSON for a data-* attribute: escaped once by autoescape, read back by JSON.parse."""
    return Markup.escape(json.dumps(value, ensure_ascii=False, default=str))


def page_words(locale: str, zone: str) -> dict[str, Any]:
    """What every page's scripts need to speak the agent's language (read from <body>)."""
    return {
        "locale": locale,
        "zone": zone,
        "pattern": i18n.DATETIME_PATTERN[locale],
        "months": i18n.month_names(locale),
        "messages": i18n.js_catalogue(locale),
        "statuses": status_labels(locale),
        "categories": category_labels(locale),
        "networks": network_labels(locale),
        "events": event_labels(locale),
    }


def render(
    request: Request,
    template: str,
    *,
    agent: Agent | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    locale = i18n.pick_locale(
        agent.locale if agent else None, request.headers.get("accept-language")
    )
    zone = agent.timezone if agent else "UTC"
    token = csrf_token(request, settings)
    html = (
        environment(locale)
        .get_template(template)
        .render(
            agent=agent,
            locale=locale,
            locales=i18n.LANGUAGE_NAMES,
            statuses=status_labels(locale),
            categories=category_labels(locale),
            networks=network_labels(locale),
            roles=role_labels(locale),
            agent_statuses=AGENT_STATUSES,
            zone=zone,
            words=page_words(locale, zone),
            csrf_token=token,
            path=request.url.path,
            here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.cookies.get(CSRF_COOKIE) != token:
        set_csrf_cookie(response, settings, token)
    return response
