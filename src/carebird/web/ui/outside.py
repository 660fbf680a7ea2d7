"""The outside owner's page: one case read and answered through a signed link, no desk login.

The token in the path is the only credential (see carebird.cases.forwarding): every request
checks it on the server, and an unknown, expired, revoked or already used link gets a page
saying so, never the case. The answer form also carries the desk's CSRF token. Pages are in
the owner's language, never cached and never indexed, and send no referrer (the token is in
the address).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from carebird.cases.forward_texts import when
from carebird.cases.forwarding import LinkRefused
from carebird.cases.notes import MAX_NOTE
from carebird.cases.outside_view import OutsideView, outside_view
from carebird.errors import Forbidden, InvalidInput
from carebird.flows.forwarding import answer_forward
from carebird.web.deps import AppSettings, DbSession
from carebird.web.ui.csrf import CSRF_COOKIE, check_csrf, csrf_token, set_csrf_cookie
from carebird.web.ui.i18n import DEFAULT_LOCALE, LOCALES, gettext, pick_locale
from carebird.web.ui.render import environment
from carebird.web.ui.words import N_

router = APIRouter(include_in_schema=False)
NO_STORE = {
    "cache-control": "no-store",
    "x-robots-tag": "noindex, nofollow",
    "referrer-policy": "no-referrer",
}

# The words chosen by the page's state (an error, a refused link), as msgids of the gettext
# catalogues; the template's other words are `_()` calls.
WORDS: dict[str, str] = {
    "empty": N_("Write an answer before sending."),
    "long": N_("Your answer is too long (10,000 characters at most)."),
    "csrf": N_("The form has expired: reload the page and send again."),
    "thanks_title": N_("Thank you!"),
    "thanks": N_("Your answer has been passed to the team. This link can no longer be used."),
    "unknown_title": N_("Invalid link"),
    "unknown": N_("This link does not exist or was copied incompletely."),
    "expired_title": N_("Link expired"),
    "expired": N_("This link has expired. Ask the customer care team for a new one."),
    "revoked_title": N_("Link cancelled"),
    "revoked": N_("The customer care team cancelled this link."),
    "answered_title": N_("Answer already sent"),
    "answered": N_("An answer has already been sent through this link. Thank you!"),
}


def _language(request: Request, preferred: str | None) -> str:
    """The owner's language when the link was ours, else the browser's, else French."""
    return pick_locale(preferred, request.headers.get("accept-language", "")[:200])


def _page(
    request: Request, settings: AppSettings, lang: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    token = csrf_token(request, settings)
    lang = lang if lang in LOCALES else DEFAULT_LOCALE
    words = {key: gettext(lang, msgid) for key, msgid in WORDS.items()}
    html = (
        environment(lang)
        .get_template("outside.html")
        .render(locale=lang, w=words, csrf_token=token, **context)
    )
    response = HTMLResponse(html, status_code=status_code, headers=NO_STORE)
    if request.cookies.get(CSRF_COOKIE) != token:
        set_csrf_cookie(response, settings, token)
    return response


def _refused(request: Request, settings: AppSettings, exc: LinkRefused) -> HTMLResponse:
    lang = _language(request, exc.language)
    status = 404 if exc.reason == "unknown" else 410
    return _page(request, settings, lang, status, state=exc.reason, view=None, error=None)


def _case_page(
    request: Request,
    settings: AppSettings,
    view: OutsideView,
    *,
    error: str | None = None,
    draft: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    lang = view.language if view.language in LOCALES else DEFAULT_LOCALE
    zone = settings.timezone

    def at(value: Any) -> str:
        return when(value, lang, zone)

    return _page(
        request,
        settings,
        lang,
        status_code,
        state="open",
        view=view,
        at=at,
        error=error,
        draft=draft,
        max_answer=MAX_NOTE,
    )


@router.get("/outside/{token}", response_class=HTMLResponse)
def outside_case(
    request: Request, token: str, session: DbSession, settings: AppSettings
) -> HTMLResponse:
    try:
        view = outside_view(session, token=token)
    except LinkRefused as exc:
        return _refused(request, settings, exc)
    return _case_page(request, settings, view)


@router.post("/outside/{token}", response_class=HTMLResponse)
def outside_answer(
    request: Request,
    token: str,
    session: DbSession,
    settings: AppSettings,
    answer: Annotated[str, Form(max_length=MAX_NOTE * 2)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    try:
        view = outside_view(session, token=token)
    except LinkRefused as exc:
        return _refused(request, settings, exc)
    try:
        check_csrf(request, settings, csrf_token)
    except Forbidden:
        return _case_page(request, settings, view, error="csrf", draft=answer, status_code=403)
    try:
        answer_forward(session, token=token, text=answer)
    except LinkRefused as exc:
        return _refused(request, settings, exc)
    except InvalidInput:
        error = "long" if len(answer.strip()) > MAX_NOTE else "empty"
        return _case_page(request, settings, view, error=error, draft=answer, status_code=422)
    return _page(request, settings, view.language, state="thanks", view=None, error=None)
