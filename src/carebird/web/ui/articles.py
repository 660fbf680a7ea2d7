"""The knowledge base's pages: the list and search (agents), writing and editing with the
history (supervisors), the proposed templates (supervisors), and each account's public help
page (no login, cacheable). Plain CSRF-checked forms over `carebird.reply.articles`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebird.auth.models import Agent
from carebird.auth.roles import has_role
from carebird.errors import Conflict, InvalidInput, NotFound
from carebird.i18n import N_
from carebird.ingest.models import NetworkAccount
from carebird.reply import articles, templates
from carebird.reply.proposals import propose_templates
from carebird.web.deps import AgentRole, AppSettings, DbSession, Supervisor, form_agent
from carebird.web.params import Id
from carebird.web.ui import i18n
from carebird.web.ui.markdown import render_markdown
from carebird.web.ui.render import environment, render

router = APIRouter(include_in_schema=False)
Slug = Annotated[str, Path(max_length=120, pattern="^[a-z0-9-]+$")]
Handle = Annotated[str, Path(max_length=200)]
DONE = {
    "created": N_("The article is saved."),
    "saved": N_("The article is saved."),
    "template": N_("The template is created."),
}
HELP_CACHE = "public, max-age=300"


async def _form(request: Request) -> dict[str, str]:
    raw = await request.form()
    return {k: str(v)[: articles.MAX_BODY] for k, v in raw.items() if isinstance(v, str)}


def _accounts(session: Session) -> list[NetworkAccount]:
    return list(session.scalars(select(NetworkAccount).order_by(NetworkAccount.id)))


@router.get("/articles", response_class=HTMLResponse)
def articles_page(
    request: Request,
    agent: AgentRole,
    session: DbSession,
    q: Annotated[str, Query(max_length=200)] = "",
    language: Annotated[str, Query(pattern="^(fr|en)?$")] = "",
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    found = articles.search_articles(session, q=q, language=language or None)
    supervisor = has_role(agent, "supervisor")
    return render(
        request,
        "articles.html",
        agent=agent,
        found=found,
        q=q,
        language=language,
        can_edit=supervisor,
        proposals=propose_templates(session) if supervisor else [],
        done=DONE.get(done),
        error=None,
    )


def _fields(form: dict[str, str]) -> dict[str, Any]:
    account = form.get("account_id", "").strip()
    if account and not account.isdecimal():
        raise InvalidInput("account: unknown")
    return {
        "title": form.get("title", ""),
        "language": form.get("language", ""),
        "summary": form.get("summary", ""),
        "body": form.get("body", ""),
        "tags": form.get("tags", ""),
        "public": form.get("public") == "on",
        "account_id": int(account) if account else None,
    }


def _editor(
    request: Request,
    agent: Agent,
    session: Session,
    article: articles.Article | None,
    *,
    error: str | None = None,
    done: str | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "article.html",
        agent=agent,
        status_code=status_code,
        article=article,
        form=form,
        accounts=_accounts(session),
        versions=articles.history(session, article_id=article.id) if article else [],
        body_html=render_markdown(article.body) if article else "",
        can_edit=has_role(agent, "supervisor"),
        agents_names=dict(session.execute(select(Agent.id, Agent.name)).tuples().all()),
        error=error,
        done=DONE.get(done or ""),
    )


@router.get("/articles/new", response_class=HTMLResponse)
def new_article(request: Request, agent: Supervisor, session: DbSession) -> HTMLResponse:
    return _editor(request, agent, session, None)


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(
    request: Request,
    article_id: Id,
    agent: AgentRole,
    session: DbSession,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    article = articles.get_article(session, article_id=article_id)
    return _editor(request, agent, session, article, done=done)


@router.post("/articles", response_class=HTMLResponse)
async def create_form(request: Request, session: DbSession, settings: AppSettings) -> Response:
    form = await _form(request)
    agent = form_agent(request, session, settings, form.get("csrf_token", ""), "supervisor")
    try:
        article = articles.create_article(session, fields=_fields(form), agent_id=agent.id)
    except InvalidInput as exc:
        return _editor(request, agent, session, None, error=str(exc), form=form, status_code=422)
    return RedirectResponse(f"/articles/{article.id}?done=created", status_code=303)


@router.post("/articles/{article_id}", response_class=HTMLResponse)
async def update_form(
    request: Request, article_id: Id, session: DbSession, settings: AppSettings
) -> Response:
    form = await _form(request)
    agent = form_agent(request, session, settings, form.get("csrf_token", ""), "supervisor")
    article = articles.get_article(session, article_id=article_id)
    try:
        articles.update_article(
            session, article_id=article_id, changes=_fields(form), agent_id=agent.id
        )
    except InvalidInput as exc:  # every field is checked before any is changed
        return _editor(request, agent, session, article, error=str(exc), status_code=422)
    return RedirectResponse(f"/articles/{article.id}?done=saved", status_code=303)


@router.post("/articles/proposals/accept", response_class=HTMLResponse)
async def accept_proposal(request: Request, session: DbSession, settings: AppSettings) -> Response:
    """A proposed template, as the supervisor edited it, becomes a template."""
    form = await _form(request)
    agent = form_agent(request, session, settings, form.get("csrf_token", ""), "supervisor")
    try:
        templates.create_template(
            session,
            name=form.get("name", ""),
            language=form.get("language", ""),
            body=form.get("body", ""),
            created_by=agent.id,
        )
    except (InvalidInput, Conflict) as exc:
        return render(
            request,
            "articles.html",
            agent=agent,
            status_code=409 if isinstance(exc, Conflict) else 422,
            found=[],
            q="",
            language="",
            can_edit=True,
            proposals=propose_templates(session),
            done=None,
            error=str(exc),
        )
    return RedirectResponse("/articles?done=template", status_code=303)


# --- the public help pages --------------------------------------------------------------------
def _account(session: Session, handle: str) -> NetworkAccount:
    wanted = handle.lstrip("@").lower()
    account = session.scalar(
        select(NetworkAccount)
        .where(func.lower(NetworkAccount.handle) == wanted)
        .order_by(NetworkAccount.id)
        .limit(1)
    )
    if account is None:
        raise NotFound(f"no help page for {handle!r}")
    return account


def _public_page(request: Request, template: str, **context: Any) -> HTMLResponse:
    """A page for anyone: no session, no cookie set, cacheable by browsers and proxies."""
    locale = i18n.pick_locale(None, request.headers.get("accept-language"))
    html = environment(locale).get_template(template).render(locale=locale, **context)
    return HTMLResponse(html, headers={"Cache-Control": HELP_CACHE, "Vary": "Accept-Language"})


@router.get("/help/{handle}", response_class=HTMLResponse)
def help_page(request: Request, handle: Handle, session: DbSession) -> HTMLResponse:
    account = _account(session, handle)
    found = articles.search_articles(session, account_id=account.id, public_only=True)
    return _public_page(request, "help.html", account=account, found=found, article=None)


@router.get("/help/{handle}/{slug}", response_class=HTMLResponse)
def help_article(request: Request, handle: Handle, slug: Slug, session: DbSession) -> HTMLResponse:
    account = _account(session, handle)
    article = articles.public_article(session, account_id=account.id, slug=slug)
    return _public_page(
        request,
        "help.html",
        account=account,
        found=[],
        article=article,
        body_html=render_markdown(article.body),
    )
