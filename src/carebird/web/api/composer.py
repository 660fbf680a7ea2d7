"""The composer: previews per network, length rules, templates, answer cards."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi import status as http
from pydantic import Field

from carebird.reply import templates
from carebird.reply.composer import Composition, card_for_case, compose
from carebird.web.api.schemas import Public, Strict
from carebird.web.deps import AgentRole, AppSettings, DbSession, Supervisor
from carebird.web.params import Id, IdField

router = APIRouter(prefix="/api", tags=["composer"])

Language = Annotated[str, Field(pattern="^(fr|en)$")]
Variables = dict[str, Annotated[str, Field(max_length=500)]]


class ComposeRequest(Strict):
    text: str = Field(default="", max_length=20_000)
    private: bool = False
    template_id: IdField | None = None
    variables: Variables | None = Field(default=None, max_length=len(templates.VARIABLES))


class CardRequest(Strict):
    text: str = Field(default="", max_length=5_000)
    template_id: IdField | None = None
    variables: Variables | None = Field(default=None, max_length=len(templates.VARIABLES))
    title: str | None = Field(default=None, max_length=120)


class TemplateCreate(Strict):
    name: str = Field(min_length=1, max_length=120)
    language: Language
    body: str = Field(min_length=1, max_length=5_000)
    tags: list[Annotated[str, Field(max_length=templates.MAX_TAG_LENGTH)]] = Field(
        default_factory=list, max_length=templates.MAX_TAGS
    )
    active: bool = True


class TemplateUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    language: Language | None = None
    body: str | None = Field(default=None, min_length=1, max_length=5_000)
    tags: list[Annotated[str, Field(max_length=templates.MAX_TAG_LENGTH)]] | None = Field(
        default=None, max_length=templates.MAX_TAGS
    )
    active: bool | None = None


class TemplatePublic(Public):
    id: int
    name: str
    language: str
    body: str
    tags: list[str]
    variables: list[str]  # the variables the body uses, for the composer to ask for
    created_by: int | None
    updated_at: datetime
    active: bool


def _public(template: templates.ReplyTemplate) -> TemplatePublic:
    return TemplatePublic(
        id=template.id,
        name=template.name,
        language=template.language,
        body=template.body,
        tags=[str(t) for t in template.tags or []],
        variables=templates.variables_in(template.body),
        created_by=template.created_by,
        updated_at=template.updated_at,
        active=template.active,
    )


@router.post("/cases/{case_id}/compose", response_model=Composition)
def compose_reply(
    case_id: Id, body: ComposeRequest, agent: AgentRole, session: DbSession, settings: AppSettings
) -> Composition:
    """Where the reply goes, its length, parts, signature, personal data, cost and preview."""
    return compose(
        session,
        case_id=case_id,
        agent=agent,
        text=body.text,
        private=body.private,
        template_id=body.template_id,
        variables=body.variables,
        prices=settings.prices,
    )


@router.post(
    "/cases/{case_id}/card",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "the answer card"}},
)
def answer_card(case_id: Id, body: CardRequest, agent: AgentRole, session: DbSession) -> Response:
    """The answer card for a text or template on this case, as a PNG (preview and attachment)."""
    png = card_for_case(
        session,
        case_id=case_id,
        agent=agent,
        text=body.text,
        template_id=body.template_id,
        variables=body.variables,
        title=body.title,
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/templates", response_model=list[TemplatePublic])
def list_templates(
    agent: AgentRole,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=200)] = None,
    tag: Annotated[str | None, Query(max_length=templates.MAX_TAG_LENGTH)] = None,
    language: Annotated[str | None, Query(pattern="^(fr|en)$")] = None,
    include_inactive: bool = False,
) -> list[TemplatePublic]:
    found = templates.search_templates(
        session, q=q, tag=tag, language=language, include_inactive=include_inactive
    )
    return [_public(t) for t in found]


@router.get("/templates/{template_id}", response_model=TemplatePublic)
def read_template(template_id: Id, agent: AgentRole, session: DbSession) -> TemplatePublic:
    return _public(templates.get_template(session, template_id=template_id))


@router.post("/templates", response_model=TemplatePublic, status_code=http.HTTP_201_CREATED)
def create_template(body: TemplateCreate, agent: Supervisor, session: DbSession) -> TemplatePublic:
    template = templates.create_template(session, **body.model_dump(), created_by=agent.id)
    return _public(template)


@router.patch("/templates/{template_id}", response_model=TemplatePublic)
def update_template(
    template_id: Id, body: TemplateUpdate, agent: Supervisor, session: DbSession
) -> TemplatePublic:
    changes = body.model_dump(exclude_unset=True)
    return _public(templates.update_template(session, template_id=template_id, changes=changes))


@router.delete("/templates/{template_id}", status_code=http.HTTP_204_NO_CONTENT)
def delete_template(template_id: Id, agent: Supervisor, session: DbSession) -> Response:
    templates.delete_template(session, template_id=template_id)
    return Response(status_code=http.HTTP_204_NO_CONTENT)
