"""The customer's survey page (anonymous): one question, "how satisfied are you with our
answer?", five buttons, answered once through the link the desk sent privately.

The token in the path is the only authority (carebird.reply.survey): checked on the server on
every request; an unknown link gets a 404 page, an expired or answered one a 410 page, never
the form and never a 500. A link that exists costs reads only; an unknown one counts against
the caller's address like a failed sign-in (a 429 page while the address is locked), so
nobody can make the desk write for them at will. There is no CSRF token: the link is the
whole credential, and a forged post needs the link, with which the form can be sent anyway.
The page needs no JavaScript and no cookie, is in the customer's language, never cached,
never indexed, and sends no referrer (the token is in the address).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from carebird.auth.throttle import LoginThrottled, check_ip_allowed, record_ip_failure
from carebird.errors import InvalidInput
from carebird.ingest.models import NetworkAccount
from carebird.reply.survey import SCORES, Survey, SurveyRefused, answer_survey, live_survey
from carebird.web.deps import get_db
from carebird.web.ui.i18n import DEFAULT_LOCALE, LOCALES, gettext
from carebird.web.ui.outside import NO_STORE
from carebird.web.ui.outside import _language as language_for
from carebird.web.ui.render import environment
from carebird.web.ui.words import N_

router = APIRouter(include_in_schema=False)

WORDS: dict[str, str] = {
    "question": N_("How satisfied are you with our answer?"),
    "question_from": N_("How satisfied are you with the answer of %(brand)s?"),
    "1": N_("1 — Very dissatisfied"),
    "2": N_("2 — Dissatisfied"),
    "3": N_("3 — Neither"),
    "4": N_("4 — Satisfied"),
    "5": N_("5 — Very satisfied"),
    "hint": N_("One click, once: your answer goes to the customer care team only."),
    "invalid": N_("Choose a score from 1 to 5."),
    "thanks_title": N_("Thank you!"),
    "thanks": N_("Your answer (%(score)s out of 5) is recorded. This link can no longer be used."),
    "unknown_title": N_("Invalid link"),
    "unknown": N_("This link does not exist or was copied incompletely."),
    "expired_title": N_("Link expired"),
    "expired": N_("This survey has expired. Thank you all the same!"),
    "answered_title": N_("Answer already sent"),
    "answered": N_("This survey has already been answered: the first answer is kept. Thank you!"),
    "throttled_title": N_("Too many attempts"),
    "throttled": N_("Too many invalid links from your address. Try again in a few minutes."),
}


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _page(
    lang: str, state: str, status_code: int = 200, headers: dict[str, str] | None = None, **ctx: Any
) -> HTMLResponse:
    lang = lang if lang in LOCALES else DEFAULT_LOCALE
    words = {key: gettext(lang, msgid) for key, msgid in WORDS.items()}
    values: dict[str, Any] = {"brand": "", "error": None, "score": None, "scores": list(SCORES)}
    html = (
        environment(lang)
        .get_template("survey.html")
        .render(locale=lang, w=words, state=state, **(values | ctx))
    )
    return HTMLResponse(html, status_code=status_code, headers={**NO_STORE, **(headers or {})})


def _refused(request: Request, exc: SurveyRefused | LoginThrottled) -> HTMLResponse:
    if isinstance(exc, LoginThrottled):
        lang = language_for(request, None)
        retry = {"retry-after": str(math.ceil(exc.retry_after))}
        return _page(lang, "throttled", 429, retry)
    if exc.reason == "unknown":
        with get_db(request).session() as session:
            record_ip_failure(session, ip=_ip(request))
    return _page(language_for(request, exc.language), exc.reason, exc.status_code)


def _brand(session: Any, survey: Survey) -> str:
    account = session.get(NetworkAccount, survey.account_id)
    if account is None:
        return ""
    return str(account.display_name or f"@{account.handle}")


@router.get("/survey/{token}", response_class=HTMLResponse)
def survey_form(request: Request, token: str) -> HTMLResponse:
    try:
        with get_db(request).session() as session:
            check_ip_allowed(session, ip=_ip(request))
            survey = live_survey(session, token=token)
            lang, brand = survey.language, _brand(session, survey)
    except (SurveyRefused, LoginThrottled) as exc:
        return _refused(request, exc)
    return _page(lang, "open", brand=brand)


@router.post("/survey/{token}", response_class=HTMLResponse)
def survey_answer(
    request: Request, token: str, score: Annotated[str | None, Form()] = None
) -> HTMLResponse:
    try:
        with get_db(request).session() as session:
            check_ip_allowed(session, ip=_ip(request))
            survey = live_survey(session, token=token)
            lang, brand = survey.language, _brand(session, survey)
        with get_db(request).session() as session, session.begin():
            answered = answer_survey(session, token=token, score=score)
            value = answered.score
    except (SurveyRefused, LoginThrottled) as exc:
        return _refused(request, exc)
    except InvalidInput:
        return _page(lang, "open", 422, brand=brand, error="invalid")
    return _page(lang, "thanks", score=value)
