"""The knowledge base: articles in French and English, searchable, versioned, some public.

An article (title, summary, Markdown body, tags, language) belongs to one account or is shared
by all (`account_id` None); a public one shows on the account's help page. Every save writes an
`ArticleVersion` — who changed which fields, when, and the article as it then was — so the
history is never lost. Search is by the database on both engines: every word of the query in
`search_text`, the folded (lower case, no accents) title, summary, tags and body, with LIKE.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from carebird.db.base import Base, Id, utcnow
from carebird.errors import InvalidInput, NotFound
from carebird.ingest.models import NetworkAccount
from carebird.reply.suggest import fold

LANGUAGES = ("fr", "en")
FIELDS = ("title", "summary", "body", "tags", "language", "public", "account_id")
MAX_TITLE, MAX_SUMMARY, MAX_BODY, MAX_TAGS, MAX_TAG = 200, 500, 50_000, 20, 40
_SLUG = re.compile(r"[^a-z0-9]+")


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("slug"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("network_accounts.id", ondelete="SET NULL"), index=True
    )
    slug: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    public: Mapped[bool] = mapped_column(default=False)
    search_text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleVersion(Base):
    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int]
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changes: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the fields changed
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(2))
    public: Mapped[bool] = mapped_column(default=False)
    account_id: Mapped[int | None]


# --- checks -----------------------------------------------------------------------------------
def _title(value: Any) -> str:
    title = " ".join(str(value).split())
    if not title:
        raise InvalidInput("an article needs a title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"a title has at most {MAX_TITLE} characters")
    return title


def _summary(value: Any) -> str:
    summary = " ".join(str(value).split())
    if len(summary) > MAX_SUMMARY:
        raise InvalidInput(f"a summary has at most {MAX_SUMMARY} characters")
    return summary


def _body(value: Any) -> str:
    body = str(value).strip()
    if len(body) > MAX_BODY:
        raise InvalidInput(f"a body has at most {MAX_BODY} characters")
    return body


def _language(value: Any) -> str:
    if value not in LANGUAGES:
        raise InvalidInput(f"an article's language is one of {', '.join(LANGUAGES)}")
    return str(value)


def _tags(values: Any) -> list[str]:
    if isinstance(values, str):
        values = values.split(",")
    tags = list(dict.fromkeys(" ".join(str(v).split()) for v in values if str(v).strip()))
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in tags):
        raise InvalidInput(f"at most {MAX_TAGS} tags of {MAX_TAG} characters")
    return tags


def _checks(session: Session) -> dict[str, Any]:
    def account(value: Any) -> int | None:
        if value is None:
            return None
        if session.get(NetworkAccount, int(value)) is None:
            raise InvalidInput(f"account {value} not found")
        return int(value)

    return {
        "title": _title,
        "summary": _summary,
        "body": _body,
        "tags": _tags,
        "language": _language,
        "public": bool,
        "account_id": account,
    }


def slugify(title: str) -> str:
    return _SLUG.sub("-", fold(title)).strip("-")[:100] or "article"


def _unique_slug(session: Session, title: str) -> str:
    base = slugify(title)
    taken = set(session.scalars(select(Article.slug).where(Article.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _index(article: Article) -> None:
    words = [article.title, article.summary, " ".join(map(str, article.tags or [])), article.body]
    article.search_text = " ".join(fold(" ".join(words)).split())


def _snapshot(article: Article, *, agent_id: int | None, changes: list[str]) -> ArticleVersion:
    return ArticleVersion(
        article_id=article.id,
        version=article.version,
        changed_by=agent_id,
        changed_at=article.updated_at,
        changes=changes,
        title=article.title,
        summary=article.summary,
        body=article.body,
        tags=list(article.tags or []),
        language=article.language,
        public=article.public,
        account_id=article.account_id,
    )


# --- use cases --------------------------------------------------------------------------------
def create_article(session: Session, *, fields: Mapping[str, Any], agent_id: int | None) -> Article:
    """A new article (title and language required) and its first version."""
    checks = _checks(session)
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"an article has no field {unknown[0]!r}")
    values = {name: checks[name](value) for name, value in fields.items() if value is not None}
    if "language" not in values:
        raise InvalidInput("an article needs a language (fr or en)")
    article = Article(**values)
    article.title = _title(fields.get("title", ""))
    article.slug = _unique_slug(session, article.title)
    article.tags = values.get("tags", [])
    article.summary, article.body = values.get("summary", ""), values.get("body", "")
    article.public = values.get("public", False)
    article.created_by = article.updated_by = agent_id
    article.created_at = article.updated_at = utcnow()
    article.version = 1
    _index(article)
    session.add(article)
    session.flush()
    session.add(_snapshot(article, agent_id=agent_id, changes=sorted(values)))
    session.flush()
    return article


def update_article(
    session: Session, *, article_id: int, changes: Mapping[str, Any], agent_id: int | None
) -> Article:
    """Change the fields given; a new version when anything actually changed. Two saves at
    once make two versions, never one number twice."""
    article = session.get(Article, article_id, with_for_update=True, populate_existing=True)
    if article is None:
        raise NotFound(f"article {article_id} not found")
    checks = _checks(session)
    changed: list[str] = []
    for name, value in changes.items():
        if name not in checks:
            raise InvalidInput(f"an article has no field {name!r} to change")
        if value is None and name != "account_id":
            raise InvalidInput(f"{name} cannot be empty")
        new = checks[name](value)
        if getattr(article, name) != new:
            changed.append(name)
    for name in changed:
        setattr(article, name, checks[name](changes[name]))
    if not changed:
        return article
    article.updated_by, article.updated_at = agent_id, utcnow()
    _index(article)
    session.flush()
    # Numbered by the database (SQLite's reads hold no lock: a number read earlier may be taken)
    bumped = update(Article).where(Article.id == article.id).values(version=Article.version + 1)
    set_committed_value(
        article, "version", session.execute(bumped.returning(Article.version)).scalar_one()
    )
    session.add(_snapshot(article, agent_id=agent_id, changes=sorted(changed)))
    session.flush()
    return article


def delete_article(session: Session, *, article_id: int) -> None:
    session.delete(get_article(session, article_id=article_id))
    session.flush()


def get_article(session: Session, *, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise NotFound(f"article {article_id} not found")
    return article


def history(session: Session, *, article_id: int) -> list[ArticleVersion]:
    """Every version, newest first."""
    get_article(session, article_id=article_id)
    query = select(ArticleVersion).where(ArticleVersion.article_id == article_id)
    return list(session.scalars(query.order_by(ArticleVersion.version.desc())))


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_articles(
    session: Session,
    *,
    q: str | None = None,
    language: str | None = None,
    tag: str | None = None,
    account_id: int | None = None,
    public_only: bool = False,
    limit: int = 100,
) -> list[Article]:
    """Articles holding every word of `q` (accents and case folded), newest change first.
    With `account_id`: that account's articles and the shared ones."""
    query = select(Article)
    for word in fold(q or "").split()[:8]:
        query = query.where(Article.search_text.like(_like(word), escape="\\"))
    if language:
        query = query.where(Article.language == _language(language))
    if account_id is not None:
        query = query.where(or_(Article.account_id == account_id, Article.account_id.is_(None)))
    if public_only:
        query = query.where(Article.public.is_(True))
    found = session.scalars(query.order_by(Article.updated_at.desc(), Article.id.desc()))
    if tag:
        wanted = fold(tag.strip())
        found_list: Iterable[Article] = [
            a for a in found if wanted in {fold(str(t)) for t in a.tags or []}
        ]
    else:
        found_list = found
    return list(found_list)[:limit]


def public_article(session: Session, *, account_id: int, slug: str) -> Article:
    """A public article of this account (or shared), by its slug; NotFound otherwise."""
    article = session.scalar(
        select(Article).where(
            Article.slug == slug,
            Article.public.is_(True),
            or_(Article.account_id == account_id, Article.account_id.is_(None)),
        )
    )
    if article is None:
        raise NotFound(f"no public article {slug!r}")
    return article
