"""What a case shows, and the conditions rules and SLA policies put on it: category, language,
network, account, keywords, a regular expression, the author's followers and verified status,
urgency cues, the case's tags and its priority score (see carebird.cases.routing and
carebird.cases.sla)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.cases.models import Case, CaseTag
from carebird.ingest.models import Author, Message, NetworkAccount
from carebird.ingest.store import chunks
from carebird.understand.labels import CATEGORIES

MAX_LIST = 50


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Conditions(BaseModel):
    """What a case must show for the rule to match; every condition given must hold (and
    within a list, any of its values)."""

    model_config = ConfigDict(extra="forbid")

    category: list[str] | None = Field(default=None, max_length=len(CATEGORIES))
    language: list[str] | None = Field(default=None, max_length=MAX_LIST)
    network: list[str] | None = Field(default=None, max_length=MAX_LIST)
    account: list[str] | None = Field(default=None, max_length=MAX_LIST)  # the brand handle
    keywords: list[str] | None = Field(default=None, max_length=MAX_LIST)  # any, whole words
    regex: str | None = Field(default=None, max_length=500)  # searched, case-insensitive
    min_followers: int | None = Field(default=None, ge=0, le=10**12)
    verified: bool | None = None
    cues: list[str] | None = Field(default=None, max_length=MAX_LIST)  # any urgency cue
    tags: list[str] | None = Field(default=None, max_length=MAX_LIST)  # any of the case's tags
    min_priority: float | None = Field(default=None, ge=-(10**6), le=10**6)  # the case's score

    _lists = field_validator(
        "category", "language", "network", "account", "keywords", "cues", "tags", mode="before"
    )(_as_list)

    @field_validator("category")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        unknown = sorted(set(value or ()) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown category {unknown[0]!r}: one of {', '.join(CATEGORIES)}")
        return value

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"the regular expression does not compile: {exc}") from None
        return value


# --- what a case shows ----------------------------------------------------------------------
@dataclass(slots=True)
class Facts:
    case_id: int
    category: str | None
    language: str | None
    network: str
    account: str | None
    text: str
    followers: int
    verified: bool
    cues: set[str]
    tags: set[str]
    priority: float = 0.0


def facts_of(session: Session, case_ids: Sequence[int]) -> dict[int, Facts]:
    """What rules look at, for each case: its inbound messages, customer, account, tags."""
    out: dict[int, Facts] = {}
    for part in chunks(sorted(set(case_ids))):  # a week of cases: bounded IN lists
        out.update(_facts(session, part))
    return out


def _facts(session: Session, ids: Sequence[int]) -> dict[int, Facts]:
    out: dict[int, Facts] = {}
    for c in session.execute(
        select(Case.id, Case.category, Case.network, NetworkAccount.handle, Author, Case.priority)
        .join(Author, Author.id == Case.customer_id)
        .outerjoin(NetworkAccount, NetworkAccount.id == Case.account_id)
        .where(Case.id.in_(ids))
    ):
        author: Author = c[4]
        out[c.id] = Facts(
            c.id, c.category, None, c.network, c.handle, "", author.followers,
            bool(author.verified), set(), set(), float(c.priority or 0.0),
        )  # fmt: skip
    texts: dict[int, list[str]] = {}
    for m in session.execute(
        select(Message.case_id, Message.text, Message.language, Message.cues)
        .where(Message.case_id.in_(ids), Message.direction == "in")
        .order_by(Message.created_at, Message.id)
    ):
        f = out.get(m.case_id)
        if f is None:
            continue
        f.language = f.language or m.language  # the case's language: its first message's
        f.cues.update(m.cues or [])
        texts.setdefault(m.case_id, []).append(m.text)
    for case_id, tag in session.execute(
        select(CaseTag.case_id, CaseTag.tag).where(CaseTag.case_id.in_(ids))
    ):
        out[case_id].tags.add(tag)
    for case_id, parts in texts.items():
        out[case_id].text = "\n".join(parts)
    return out


def _any(values: list[str] | None, have: Iterable[str | None], *, strip: str = "") -> bool:
    if values is None:
        return True
    wanted = {v.casefold().lstrip(strip) for v in values}
    return any(h is not None and h.casefold() in wanted for h in have)


def matches(when: Conditions, f: Facts) -> bool:
    """Whether the case shows every condition of `when`."""
    if not (
        _any(when.category, [f.category])
        and _any(when.language, [(f.language or "")[:2]])
        and _any(when.network, [f.network])
        and _any(when.account, [(f.account or "").lstrip("@")], strip="@")
        and _any(when.cues, f.cues)
        and _any(when.tags, f.tags)
    ):
        return False
    if when.min_priority is not None and f.priority < when.min_priority:
        return False
    if when.min_followers is not None and f.followers < when.min_followers:
        return False
    if when.verified is not None and f.verified != when.verified:
        return False
    if when.keywords is not None:
        words = set(re.findall(r"\w+", f.text.casefold()))
        if not any(set(re.findall(r"\w+", k.casefold())) <= words for k in when.keywords):
            return False
    return when.regex is None or re.search(when.regex, f.text, re.IGNORECASE) is not None
