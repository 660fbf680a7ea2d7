"""The Accounts page (admins): the desk's network accounts, connecting X (OAuth 2.0 with PKCE)
and Mastodon (app registration, authorisation code) in the browser and Bluesky with an app
password, each account's settings, and disconnecting one. Plain CSRF-checked forms; the same
functions as the API and the CLI (`carebird.ingest.connect`, `carebird.flows.accounts`).

An authorisation under way lives in the `carebird_oauth` cookie, sealed with the desk's secret
key (state, PKCE verifier, instance), for ten minutes, sent only to /accounts/…; the callback
deletes it whatever happens, so the same callback cannot be played twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from carebird.auth.models import Agent
from carebird.config import Settings
from carebird.errors import AuthError, CarebirdError, InvalidInput
from carebird.flows.accounts import change_account
from carebird.i18n import N_
from carebird.ingest import connect
from carebird.ingest.accounts import disconnect_account, list_accounts
from carebird.ingest.health import health_report
from carebird.ingest.models import NetworkAccount
from carebird.reply.acknowledgement import ack_settings, set_ack_settings
from carebird.reply.signature import POLICIES
from carebird.reply.survey import survey_settings
from carebird.web.deps import Admin, AppSettings, DbSession, form_agent
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)
AccountId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Small = Annotated[str, Query(max_length=2000)]
PENDING_COOKIE = "carebird_oauth"
DONE = {
    "connected": N_("The account is connected: its credentials are stored encrypted."),
    "saved": N_("The account's settings are saved."),
    "disconnected": N_("The account is disconnected: its credentials are forgotten."),
    "acknowledgement": N_("The account's acknowledgement settings are saved."),
    "survey": N_("The account's satisfaction survey settings are saved."),
}
SIGNATURES = {"initials": N_("Agent's initials (^MC)"), "none": N_("No signature")}
HEALTH = {"ok": N_("OK"), "warning": N_("Warning"), "alarm": N_("Alarm"), "paused": N_("Paused")}
_RANK = {"ok": 0, "paused": 1, "warning": 2, "alarm": 3}


def callback_url(settings: Settings, network: str) -> str:
    return f"{settings.public_url.rstrip('/')}/accounts/callback/{network}"


def _health(session: DbSession, accounts: list[NetworkAccount]) -> dict[int, str]:
    """Each account's worst stream status (none before its first poll)."""
    worst: dict[int, str] = {}
    reports = health_report(session, datetime.now(UTC))
    for account in accounts:
        prefix = f"{account.network}:{account.handle}:"
        for r in reports:
            if r.source.startswith(prefix):
                now = worst.get(account.id, "ok")
                worst[account.id] = max(now, r.status, key=lambda s: _RANK.get(s, 0))
    return worst


def _page(
    request: Request,
    agent: Agent,
    session: DbSession,
    settings: Settings,
    *,
    error: str | None = None,
    done: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    accounts = list_accounts(session)
    response = render(
        request,
        "accounts.html",
        agent=agent,
        status_code=status_code,
        accounts=accounts,
        health=_health(session, accounts),
        acks={a.id: ack_settings(a.options) for a in accounts},
        surveys={a.id: survey_settings(a.options) for a in accounts},
        health_labels=HEALTH,
        signatures=SIGNATURES,
        policies=POLICIES,
        x_ready=bool(settings.x_client_id),
        error=error,
        done=DONE.get(done),
    )
    response.headers["content-security-policy"] = _policy(settings)
    return response


def _policy(settings: Settings) -> str:
    """The desk's CSP, but this page's forms may lead to X's or an instance's consent page:
    a form's redirects count as its action in the browser's eyes."""
    from carebird.web.app import SECURITY_HEADERS  # the app imports the pages: not at the top

    outside = "https: http:" if settings.private_servers_allowed else "https:"
    policy = SECURITY_HEADERS["content-security-policy"]
    return policy.replace("form-action 'self'", f"form-action 'self' {outside}")


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request,
    agent: Admin,
    session: DbSession,
    settings: AppSettings,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return _page(request, agent, session, settings, done=done)


async def _form(request: Request) -> dict[str, str]:
    raw = await request.form()
    return {k: str(v)[:4000] for k, v in raw.items() if isinstance(v, str)}


def _redirect_with_pending(
    url: str, pending: connect.Pending, settings: Settings
) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        connect.seal_pending(settings.secret_key, pending),
        max_age=int(connect.PENDING_TTL),
        httponly=True,
        samesite="lax",  # sent back when the network redirects the browser to the callback
        secure=settings.secure_cookies,
        path="/accounts",
    )
    return response


@router.post("/accounts/connect/{network}", response_class=HTMLResponse)
async def connect_form(
    request: Request,
    network: Annotated[str, Path(pattern="^(x|mastodon|bluesky)$")],
    session: DbSession,
    settings: AppSettings,
) -> Response:
    """Start connecting an account: off to X's or the instance's consent page, or (Bluesky)
    log in with the app password at once."""
    form = await _form(request)
    agent = form_agent(request, session, settings, form.get("csrf_token", ""), "admin")
    try:
        if network == "x":
            url, pending = connect.start_x(
                client_id=settings.x_client_id,
                redirect_uri=callback_url(settings, "x"),
                authorize_base=settings.x_authorize_url,
            )
            return _redirect_with_pending(url, pending, settings)
        if network == "mastodon":
            url, pending = connect.start_mastodon(
                session,
                secret_key=settings.secret_key,
                instance=form.get("instance", ""),
                redirect_uri=callback_url(settings, "mastodon"),
                allow_private=settings.private_servers_allowed,
            )
            return _redirect_with_pending(url, pending, settings)
        connect.connect_bluesky(
            session,
            secret_key=settings.secret_key,
            handle=form.get("handle", ""),
            app_password=form.get("app_password", ""),
            service=form.get("service", ""),
            allow_private=settings.private_servers_allowed,
        )
    except CarebirdError as exc:
        status = 422 if isinstance(exc, InvalidInput) else exc.status_code
        return _page(request, agent, session, settings, error=str(exc), status_code=status)
    return RedirectResponse("/accounts?done=connected", status_code=303)


@router.get("/accounts/callback/{network}", response_class=HTMLResponse)
def callback(
    request: Request,
    network: Annotated[str, Path(pattern="^(x|mastodon)$")],
    agent: Admin,
    session: DbSession,
    settings: AppSettings,
    code: Small = "",
    state: Small = "",
    error: Small = "",
) -> Response:
    """Where X or the instance sends the browser back: state checked, code exchanged, the
    account's identity asked, its tokens sealed."""
    sealed = request.cookies.get(PENDING_COOKIE)
    try:
        connect.refused(network, error)
        pending = connect.open_pending(settings.secret_key, sealed, network=network, state=state)
        if network == "x":
            connect.finish_x(
                session,
                secret_key=settings.secret_key,
                pending=pending,
                code=code,
                client_secret=settings.x_client_secret,
                api_base=settings.x_api_url,
            )
        else:
            connect.finish_mastodon(
                session, secret_key=settings.secret_key, pending=pending, code=code
            )
        response: Response = RedirectResponse("/accounts?done=connected", status_code=303)
    except CarebirdError as exc:
        # A refused code or token is the network's word on this authorisation, not the
        # admin's session: 400, never the sign-in redirect a 401 would bring.
        status = 400 if isinstance(exc, InvalidInput | AuthError) else exc.status_code
        response = _page(request, agent, session, settings, error=str(exc), status_code=status)
    response.delete_cookie(
        PENDING_COOKIE,
        path="/accounts",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


def settings_changes(form: dict[str, str]) -> dict[str, Any]:
    """The settings form as `change_account` changes."""
    cap_text = form.get("monthly_cap", "").strip().replace(",", ".")
    try:
        cap = float(cap_text) if cap_text else None
    except ValueError:
        raise InvalidInput("monthly cap: a number of dollars") from None
    return {
        "listening": form.get("listening", ""),
        "monthly_cap": cap,
        "role": form.get("role", ""),
        "signature": form.get("signature", ""),
        "opening_hours": form.get("opening_hours", ""),
        "timezone": form.get("timezone", ""),
        "holidays": form.get("holidays", ""),
        "publish_transparency": "publish_transparency" in form,  # an unticked box is absent
        "publish_wait": "publish_wait" in form,  # an unticked box is absent from a form
    }


@router.post("/accounts/{account_id}/settings", response_class=HTMLResponse)
async def settings_form(
    request: Request, account_id: AccountId, session: DbSession, settings: AppSettings
) -> Response:
    form = await _form(request)
    agent = form_agent(request, session, settings, form.get("csrf_token", ""), "admin")
    try:
        change_account(session, account_id, settings_changes(form))
    except InvalidInput as exc:
        return _page(request, agent, session, settings, error=str(exc), status_code=422)
    return RedirectResponse("/accounts?done=saved", status_code=303)


def ack_changes(form: dict[str, str]) -> dict[str, Any]:
    """The acknowledgement form as settings (unticked boxes are absent from a form)."""
    out: dict[str, Any] = {"public": "public" in form, "private": "private" in form}
    for name in ("max_per_hour", "automated_posts", "automated_minutes"):
        text = form.get(name, "").strip()
        if text:
            try:
                out[name] = int(text)
            except ValueError:
                raise InvalidInput(f"acknowledge.{name} must be a whole number") from None
    return out


@router.post("/accounts/{account_id}/acknowledgements", response_class=HTMLResponse)
async def acknowledgements_form(
    request: Request, account_id: AccountId, session: DbSession, settings: AppSettings
) -> Response:
    form = await _form(request)
    agent = form_agent(request, session, settings, form.get("csrf_token", ""), "admin")
    try:
        set_ack_settings(session, account_id, ack_changes(form), merge=True)
    except InvalidInput as exc:
        return _page(request, agent, session, settings, error=str(exc), status_code=422)
    return RedirectResponse("/accounts?done=acknowledgement", status_code=303)


@router.post("/accounts/{account_id}/survey", response_class=HTMLResponse)
async def survey_form(
    request: Request, account_id: AccountId, session: DbSession, settings: AppSettings
) -> Response:
    """The satisfaction survey's two switches (unticked boxes are absent from a form)."""
    form = await _form(request)
    agent = form_agent(request, session, settings, form.get("csrf_token", ""), "admin")
    survey = {"enabled": "enabled" in form, "public_allowed": "public_allowed" in form}
    try:
        change_account(session, account_id, {"survey": survey})
    except InvalidInput as exc:
        return _page(request, agent, session, settings, error=str(exc), status_code=422)
    return RedirectResponse("/accounts?done=survey", status_code=303)


@router.post("/accounts/{account_id}/disconnect")
async def disconnect_form(
    request: Request, account_id: AccountId, session: DbSession, settings: AppSettings
) -> Response:
    form = await _form(request)
    form_agent(request, session, settings, form.get("csrf_token", ""), "admin")
    disconnect_account(session, account_id)
    return RedirectResponse("/accounts?done=disconnected", status_code=303)
