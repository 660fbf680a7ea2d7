"""The System page (admins): runners, streams, the month's API spending and the outbox, with
the failed and unsure replies an admin retries or cancels through plain CSRF-checked forms."""

from __future__ import annotations

from typing import Annotated

from babel.numbers import format_currency
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from carebird.db.base import utcnow
from carebird.flows.replies import cancel_reply, retry_reply
from carebird.i18n import N_
from carebird.insights.system import system_report
from carebird.web.deps import Admin, AppSettings, DbSession, form_agent
from carebird.web.ui.i18n import pick_locale
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)
OutboxId = Annotated[int, Path(ge=1, le=2**63 - 1)]

# msgids, translated by the template's `_()`.
REPLY_STATES = {
    "pending": N_("Waiting to be sent"),
    "sending": N_("Being sent"),
    "sent": N_("Sent"),
    "failed": N_("Failed"),
    "unsure": N_("Unsure: maybe posted"),
    "cancelled": N_("Cancelled"),
}
RUNNER_STATES = {"alive": N_("Alive"), "stale": N_("Not beating"), "stopped": N_("Stopped")}
RUNNER_KINDS = {"embedded": N_("Inside the web server"), "worker": N_("Worker process")}
STREAM_STATES = {
    "ok": N_("OK"),
    "warning": N_("Warning"),
    "alarm": N_("Alarm"),
    "paused": N_("Paused"),
}
DONE = {
    "retried": N_("Reply %(id)s is queued again."),
    "cancelled": N_("Reply %(id)s is cancelled."),
}


@router.get("/system", response_class=HTMLResponse)
def system_page(
    request: Request,
    agent: Admin,
    session: DbSession,
    done: Annotated[str, Query(max_length=20)] = "",
    reply: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> HTMLResponse:
    locale = pick_locale(agent.locale, request.headers.get("accept-language"))

    def money(value: float) -> str:
        return format_currency(value, "USD", locale=locale)

    return render(
        request,
        "system.html",
        agent=agent,
        report=system_report(session, now=utcnow()),
        reply_states=REPLY_STATES,
        runner_states=RUNNER_STATES,
        runner_kinds=RUNNER_KINDS,
        stream_states=STREAM_STATES,
        done=DONE.get(done),
        done_id=reply,
        money=money,
    )


@router.post("/system/outbox/{outbox_id}/retry")
def retry_form(
    request: Request,
    outbox_id: OutboxId,
    session: DbSession,
    settings: AppSettings,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    confirm_not_posted: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    agent = form_agent(request, session, settings, csrf_token, "admin")
    retry_reply(
        session,
        outbox_id=outbox_id,
        agent_id=agent.id,
        confirm_not_posted=confirm_not_posted == "yes",
    )
    return RedirectResponse(f"/system?done=retried&reply={outbox_id}#outbox", status_code=303)


@router.post("/system/outbox/{outbox_id}/cancel")
def cancel_form(
    request: Request,
    outbox_id: OutboxId,
    session: DbSession,
    settings: AppSettings,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    agent = form_agent(request, session, settings, csrf_token, "admin")
    cancel_reply(session, outbox_id=outbox_id, agent_id=agent.id)
    return RedirectResponse(f"/system?done=cancelled&reply={outbox_id}#outbox", status_code=303)
