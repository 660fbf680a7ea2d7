"""Prepared answers with variables, in French and English: the model, rendering, search, CRUD.

A body names variables in braces, "Bonjour {customer_name}", and writes a literal brace twice
("{{"). Rendering is a plain substitution of the known names — never `str.format`, whose
attribute access (`{x.__class__}`) would let a template read the server's objects — and a value
is inserted as it is (a "{…}" inside a customer's name is not expanded again).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from carebird.db.base import Base, Id, utcnow
from carebird.errors import Conflict, InvalidInput, NotFound

LANGUAGES = ("fr", "en")
VARIABLES: dict[str, str] = {
    "customer_name": "the customer's display name (else their handle)",
    "customer_handle": "the customer's @handle",
    "agent_name": "the answering agent's name",
    "agent_initials": "the answering agent's initials",
    "case_number": "the case's number",
    "expected_wait": "the expected wait, as the agent states it (e.g. « 2 h »)",
    "brand": "the desk account's name",
    "dm_link": "where to write privately (on X: the DM deep link to the desk account)",
}
MAX_TAGS, MAX_TAG_LENGTH = 20, 40
_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class ReplyTemplate(Base):
    __tablename__ = "reply_templates"
    __table_args__ = (UniqueConstraint("name", "language"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(2))  # fr | en
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(default=True)


# --- rendering --------------------------------------------------------------------------------
def variables_in(body: str) -> list[str]:
    """The variables `body` uses, in order of first use; malformed or unknown ones are errors."""
    names: list[str] = []
    unknown: list[str] = []
    for m in _FIELD.finditer(body):
        token = m.group(0)
        if token in ("{{", "}}"):
            continue
        if m.group(1) is None:
            raise InvalidInput(
                f"a lone {token!r} at character {m.start() + 1}: write {token * 2} for a brace"
            )
        name = m.group(1).strip()
        if name not in VARIABLES:
            unknown.append(name)
        elif name not in names:
            names.append(name)
    if unknown:
        listed = ", ".join("{" + n + "}" for n in dict.fromkeys(unknown))
        known = ", ".join("{" + n + "}" for n in VARIABLES)
        raise InvalidInput(f"unknown variable {listed} in the template; known: {known}")
    return names


def render(body: str, values: Mapping[str, str | None]) -> str:
    """`body` with each variable replaced by its value; a variable without a value is an error."""
    needed = variables_in(body)
    missing = [n for n in needed if values.get(n) in (None, "")]
    if missing:
        listed = ", ".join("{" + n + "}" for n in missing)
        raise InvalidInput(f"the template needs a value for {listed}")

    def one(m: re.Match[str]) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        return str(values[m.group(1).strip()])

    return _FIELD.sub(one, body)


# --- search -----------------------------------------------------------------------------------
def fold(text: str) -> str:
    """Case- and accent-insensitive form: "Délai" and "delai" match."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def matches(template: ReplyTemplate, *, q: str | None = None, tag: str | None = None) -> bool:
    """Every word of `q` in the name, body or tags; `tag` one of the tags."""
    tags = [fold(str(t)) for t in template.tags or []]
    if tag and fold(tag.strip()) not in tags:
        return False
    haystack = fold(" ".join([template.name, template.body, *tags]))
    return all(word in haystack for word in fold(q or "").split())


def search_templates(
    session: Session,
    *,
    q: str | None = None,
    tag: str | None = None,
    language: str | None = None,
    include_inactive: bool = False,
    limit: int = 100,
) -> list[ReplyTemplate]:
    """Templates by text (accent-insensitive), tag and language, by name.

    A desk has tens of templates, not millions: the text match runs in Python, the same on both
    engines (SQLite's lower() ignores accents and non-ASCII case).
    """
    query = select(ReplyTemplate).order_by(ReplyTemplate.name, ReplyTemplate.language)
    if language:
        query = query.where(ReplyTemplate.language == _language(language))
    if not include_inactive:
        query = query.where(ReplyTemplate.active.is_(True))
    found = [t for t in session.scalars(query) if matches(t, q=q, tag=tag)]
    return found[:limit]


# --- CRUD -------------------------------------------------------------------------------------
def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise InvalidInput(f"a template's language is one of {', '.join(LANGUAGES)}")
    return value


def _tags(values: Iterable[str]) -> list[str]:
    tags = list(dict.fromkeys(" ".join(str(v).split()) for v in values if str(v).strip()))
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG_LENGTH for t in tags):
        raise InvalidInput(f"at most {MAX_TAGS} tags of {MAX_TAG_LENGTH} characters")
    return tags


def _name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise InvalidInput("a template needs a name")
    return name[:120]


def _body(value: str) -> str:
    if not value.strip():
        raise InvalidInput("a template needs a body")
    variables_in(value)
    return value.strip()


def _unique(session: Session, name: str, language: str, *, but: int | None = None) -> None:
    query = select(ReplyTemplate.id).where(
        ReplyTemplate.name == name, ReplyTemplate.language == language
    )
    found = session.scalar(query)
    if found is not None and found != but:
        raise Conflict(f"a {language} template named {name!r} already exists")


def get_template(session: Session, *, template_id: int) -> ReplyTemplate:
    template = session.get(ReplyTemplate, template_id)
    if template is None:
        raise NotFound(f"template {template_id} not found")
    return template


def create_template(
    session: Session,
    *,
    name: str,
    language: str,
    body: str,
    tags: Iterable[str] = (),
    active: bool = True,
    created_by: int | None = None,
) -> ReplyTemplate:
    template = ReplyTemplate(
        name=_name(name),
        language=_language(language),
        body=_body(body),
        tags=_tags(tags),
        active=active,
        created_by=created_by,
        updated_at=utcnow(),
    )
    _unique(session, template.name, template.language)
    try:  # two people saving one name at once (a proposal accepted twice): one wins, one 409
        with session.begin_nested():
            session.add(template)
            session.flush()
    except IntegrityError:
        raise Conflict(f"a template named {template.name!r} already exists") from None
    return template


def update_template(
    session: Session, *, template_id: int, changes: Mapping[str, Any]
) -> ReplyTemplate:
    """Change the fields given (name, language, body, tags, active)."""
    template = get_template(session, template_id=template_id)
    checks: dict[str, Callable[[Any], Any]] = {
        "name": _name,
        "language": _language,
        "body": _body,
        "tags": _tags,
        "active": bool,
    }
    checked: dict[str, Any] = {}
    for field, value in changes.items():
        if field not in checks:
            raise InvalidInput(f"a template has no field {field!r} to change")
        if value is None:
            raise InvalidInput(f"{field} cannot be empty")
        checked[field] = checks[field](value)
    name = checked.get("name", template.name)
    language = checked.get("language", template.language)
    _unique(session, name, language, but=template.id)  # before any change is flushed
    for field, value in checked.items():
        setattr(template, field, value)
    template.updated_at = utcnow()
    session.flush()
    return template


def delete_template(session: Session, *, template_id: int) -> None:
    session.delete(get_template(session, template_id=template_id))
    session.flush()


# --- the desk's defaults ----------------------------------------------------------------------
@dataclass(frozen=True)
class DefaultTemplate:
    key: str
    language: str
    name: str
    tags: tuple[str, ...]
    body: str


DEFAULTS: tuple[DefaultTemplate, ...] = (
    DefaultTemplate(
        "delay", "fr", "Accusé de réception et délai", ("délai", "accueil"),
        "Bonjour {customer_name}, merci pour votre message. Nous étudions votre demande "
        "(dossier n°{case_number}) et revenons vers vous d'ici {expected_wait}.",
    ),
    DefaultTemplate(
        "delay", "en", "Acknowledgement and expected wait", ("delay", "welcome"),
        "Hi {customer_name}, thanks for your message. We're looking into it "
        "(case #{case_number}) and will get back to you within {expected_wait}.",
    ),
    DefaultTemplate(
        "private", "fr", "Passer en message privé", ("privé", "données"),
        "Bonjour {customer_name}, pour protéger vos données personnelles, merci de nous écrire "
        "en message privé : {dm_link} Nous vous y répondons au plus vite.",
    ),
    DefaultTemplate(
        "private", "en", "Move to private messages", ("private", "personal data"),
        "Hi {customer_name}, to keep your personal details safe, please send us a private "
        "message: {dm_link} We'll answer you there shortly.",
    ),
    DefaultTemplate(
        "outage", "fr", "Incident connu", ("incident", "panne"),
        "Bonjour {customer_name}, nous avons connaissance d'un incident qui perturbe le "
        "service. Nos équipes sont mobilisées ; retour à la normale estimé d'ici "
        "{expected_wait}. Merci de votre patience.",
    ),
    DefaultTemplate(
        "outage", "en", "Known outage", ("outage", "incident"),
        "Hi {customer_name}, we're aware of an outage affecting the service. Our teams are on "
        "it and expect things back to normal within {expected_wait}. Thanks for your patience.",
    ),
    DefaultTemplate(
        "thanks", "fr", "Remerciements", ("merci",),
        "Merci beaucoup {customer_name} pour votre message, ça fait plaisir ! Très belle "
        "journée de la part de toute l'équipe {brand}.",
    ),
    DefaultTemplate(
        "thanks", "en", "Thanks", ("thanks",),
        "Thank you so much {customer_name}, that's lovely to hear! Have a great day from "
        "everyone at {brand}.",
    ),
)  # fmt: skip


def default_body(key: str, language: str) -> str:
    """A default template's body in `language` (English when it has no such language)."""
    for lang in (language, "en"):
        for d in DEFAULTS:
            if d.key == key and d.language == lang:
                return d.body
    raise KeyError(key)


def seed_default_templates(session: Session, *, created_by: int | None = None) -> int:
    """Add the default templates the desk does not have yet (by name and language)."""
    have = set(session.execute(select(ReplyTemplate.name, ReplyTemplate.language)).tuples())
    added = 0
    for d in DEFAULTS:
        if (d.name, d.language) not in have:
            create_template(
                session,
                name=d.name,
                language=d.language,
                body=d.body,
                tags=d.tags,
                created_by=created_by,
            )
            added += 1
    return added
