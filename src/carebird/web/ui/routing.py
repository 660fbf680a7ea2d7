"""The Routing page (supervisors): the rules in the order they are tried, a form to write one,
its dry run over the last days, and the desk's rules removed or switched on and off. Plain
CSRF-checked forms; the same functions as the API (`carebird.cases.routing`)."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from carebird.auth.models import Agent, Team
from carebird.cases import routing
from carebird.db.base import utcnow
from carebird.errors import InvalidInput, NotFound
from carebird.i18n import N_
from carebird.web.deps import AppSettings, DbSession, Routing, Supervisor, form_agent
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)
RuleId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Text = Annotated[str, Form(max_length=2000)]
DONE = {
    "saved": N_("The rule is saved: it applies to the cases that open from now on."),
    "deleted": N_("The rule is deleted."),
    "switched": N_("The rule is switched."),
}
FIELDS = ("language", "network", "account", "keywords", "cues", "tags")


def _words(value: str) -> list[str] | None:
    """A comma-separated field as a list (None when empty: no condition)."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    return parts or None


def _number(value: str, what: str) -> float | None:
    value = value.strip().replace(",", ".")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"{what}: a number") from None


def _spec(form: dict[str, Any]) -> routing.RuleSpec:
    """The rule a form describes (validated like the API's and the file's)."""
    when: dict[str, Any] = {k: _words(form.get(k, "")) for k in FIELDS}
    when["category"] = form.get("category") or None
    when["regex"] = form.get("regex") or None
    followers = (form.get("min_followers") or "").strip()
    if followers:
        if not followers.isdecimal():
            raise InvalidInput("followers: a whole number")
        when["min_followers"] = int(followers)
    if form.get("verified") in ("yes", "no"):
        when["verified"] = form["verified"] == "yes"
    then: dict[str, Any] = {
        "team": form.get("team") or None,
        "agent": form.get("agent") or None,
        "tags": _words(form.get("then_tags", "")),
        "not_support": form.get("not_support") == "yes",
        "priority_boost": _number(form.get("priority_boost", ""), "priority boost"),
    }
    return routing.parse_rule(
        {
            "name": (form.get("name") or "").strip(),
            "when": {k: v for k, v in when.items() if v is not None},
            "then": {k: v for k, v in then.items() if v not in (None, False)},
            "stop": form.get("stop") != "no",
        },
        where="rule",
    )


def _page(
    request: Request,
    agent: Agent,
    session: DbSession,
    setup: routing.RoutingSetup,
    *,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    dry: tuple[int, list[routing.DryRunMatch]] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rules = [*setup.rules, *routing.desk_rules(session)]
    return render(
        request,
        "routing.html",
        agent=agent,
        status_code=status_code,
        rules=rules,
        teams=list(session.scalars(select(Team.name).order_by(Team.name))),
        agents=list(
            session.execute(
                select(Agent.email, Agent.name).where(Agent.active.is_(True)).order_by(Agent.name)
            )
        ),
        form=form or {},
        error=error,
        dry=dry,
        done=DONE.get(done or ""),
    )


@router.get("/routing", response_class=HTMLResponse)
def routing_page(
    request: Request,
    agent: Supervisor,
    session: DbSession,
    setup: Routing,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return _page(request, agent, session, setup, done=done)


@router.post("/routing/rules", response_class=HTMLResponse)
async def rule_form(
    request: Request, session: DbSession, settings: AppSettings, setup: Routing
) -> Response:
    """Save the rule, or (`action=dry-run`) show what it would have matched in 7 days."""
    raw = await request.form()
    form = {k: str(v)[:2000] for k, v in raw.items() if isinstance(v, str)}
    agent = form_agent(request, session, settings, form.get("csrf_token", ""), "supervisor")
    try:
        spec = _spec(form)
    except InvalidInput as exc:
        return _page(request, agent, session, setup, form=form, error=str(exc), status_code=422)
    if form.get("action") == "dry-run":
        dry = routing.dry_run(session, spec, days=7, now=utcnow())
        return _page(request, agent, session, setup, form=form, dry=dry)
    routing.add_rule(session, spec)
    return RedirectResponse("/routing?done=saved", status_code=303)


_CHANGES = {"delete": (routing.delete_rule, "deleted"), "switch": (routing.switch_rule, "switched")}


@router.post("/routing/rules/{rule_id}/{change}")
def change_form(
    request: Request,
    rule_id: RuleId,
    change: Annotated[str, Path(pattern="^(delete|switch)$")],
    session: DbSession,
    settings: AppSettings,
    csrf_token: Text = "",
) -> Response:
    """Delete a desk rule, or switch it off or on (one already gone is left gone)."""
    form_agent(request, session, settings, csrf_token, "supervisor")
    apply, done = _CHANGES[change]
    with contextlib.suppress(NotFound):
        apply(session, rule_id)
    return RedirectResponse(f"/routing?done={done}", status_code=303)
