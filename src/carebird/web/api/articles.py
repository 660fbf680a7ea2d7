"""The knowledge base: articles (agents read, supervisors write) and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi import status as http
from pydantic import Field

from carebird.reply import articles
from carebird.web.api.schemas import Public, Strict
from carebird.web.deps import AgentRole, DbSession, Supervisor
from carebird.web.params import Id, IdField, IdQuery

router = APIRouter(prefix="/api", tags=["knowledge base"])

Language = Annotated[str, Field(pattern="^(fr|en)$")]
Tags = list[Annotated[str, Field(max_length=articles.MAX_TAG)]]


class ArticleCreate(Strict):
    title: str = Field(min_length=1, max_length=articles.MAX_TITLE)
    language: Language
    summary: str = Field(default="", max_length=articles.MAX_SUMMARY)
    body: str = Field(default="", max_length=articles.MAX_BODY)
    tags: Tags = Field(default_factory=list, max_length=articles.MAX_TAGS)
    public: bool = False
    account_id: IdField | None = None


class ArticleUpdate(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=articles.MAX_TITLE)
    language: Language | None = None
    summary: str | None = Field(default=None, max_length=articles.MAX_SUMMARY)
    body: str | None = Field(default=None, max_length=articles.MAX_BODY)
    tags: Tags | None = Field(default=None, max_length=articles.MAX_TAGS)
    public: bool | None = None
    account_id: IdField | None = None


class ArticlePublic(Public):
    id: int
    slug: str
    account_id: int | None
    language: str
    title: str
    summary: str
    body: str
    tags: list[str]
    public: bool
    version: int
    created_by: int | None
    created_at: datetime
    updated_by: int | None
    updated_at: datetime


class ArticleVersionPublic(Public):
    version: int
    changed_by: int | None
    changed_at: datetime
    changes: list[str]
    title: str
    summary: str
    body: str
    tags: list[str]
    language: str
    public: bool
    account_id: int | None


@router.get("/articles", response_model=list[ArticlePublic])
def list_articles(
    agent: AgentRole,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=200)] = None,
    language: Annotated[str | None, Query(pattern="^(fr|en)$")] = None,
    tag: Annotated[str | None, Query(max_length=articles.MAX_TAG)] = None,
    account_id: IdQuery = None,
) -> list[articles.Article]:
    return articles.search_articles(session, q=q, language=language, tag=tag, account_id=account_id)


@router.post("/articles", response_model=ArticlePublic, status_code=http.HTTP_201_CREATED)
def create_article(body: ArticleCreate, agent: Supervisor, session: DbSession) -> articles.Article:
    return articles.create_article(session, fields=body.model_dump(), agent_id=agent.id)


@router.get("/articles/{article_id}", response_model=ArticlePublic)
def read_article(article_id: Id, agent: AgentRole, session: DbSession) -> articles.Article:
    return articles.get_article(session, article_id=article_id)


@router.patch("/articles/{article_id}", response_model=ArticlePublic)
def update_article(
    article_id: Id, body: ArticleUpdate, agent: Supervisor, session: DbSession
) -> articles.Article:
    changes = body.model_dump(exclude_unset=True)
    return articles.update_article(
        session, article_id=article_id, changes=changes, agent_id=agent.id
    )


@router.delete("/articles/{article_id}", status_code=http.HTTP_204_NO_CONTENT)
def delete_article(article_id: Id, agent: Supervisor, session: DbSession) -> Response:
    articles.delete_article(session, article_id=article_id)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.get("/articles/{article_id}/versions", response_model=list[ArticleVersionPublic])
def article_history(
    article_id: Id, agent: AgentRole, session: DbSession
) -> list[articles.ArticleVersion]:
    return articles.history(session, article_id=article_id)
