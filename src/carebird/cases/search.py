"""Full-text search over a case's messages: a portable inverted index of words per case.

Each case keeps the set of its words (every message's text, the customer's handle and name),
folded to lower case without accents, one row per (term, case). A query matches the cases that
hold every query word as a word prefix ("rembours" finds "remboursement", "Crème" finds
"creme"; words of one or two letters match whole words only), through a range scan of the
primary key: the same plan on SQLite and PostgreSQL, no extension, milliseconds at 100,000
cases where LIKE '%…%' scans every text.

A word held by few cases drives the query (its cases are fetched, then sorted); a word held by
many is probed per case while the inbox walks its priority order (stopping after one page).
The index also carries facets no word can spell (`lang:fr`, the language of the message that
opened the case), so the inbox filters on them the same cheap way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    String,
    and_,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from carebird.cases.models import Case
from carebird.db.base import Base
from carebird.ingest.models import Author, Message

MAX_TERM = 48
MAX_TERMS_PER_CASE = 2000  # a 100 kB message must not grow the index without bound
MAX_QUERY_TERMS = 8
CHUNK = 400
PREFIX_FROM = 3  # shorter query words match whole words only
COMMON = 2000  # a prefix held by more cases than this is probed per case, not listed
_WORD = re.compile(r"\w+")
# Words found in nearly every message (folded): they would only bloat the index.
_STOP = """
au aux avec ce ces dans de des du en et il je la le les leur lui ma mais me mes moi mon ne nos
notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre
vous est ai as ca cette ete etre avez
an and are as at be but by for from has have he her his if in into is it its me my no not of on
or our so than that the their them then there they this to was we were what with you your
"""
STOPWORDS = frozenset(_STOP.split())


class CaseTerm(Base):
    __tablename__ = "case_terms"
    __table_args__ = (
        Index("ix_case_terms_case_id", "case_id"),
        {"sqlite_with_rowid": False},  # the primary key is the table: half the size
    )

    term: Mapped[str] = mapped_column(String(MAX_TERM), primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )


def fold(text: str) -> str:
    """Lower case without accents: "Crème BRÛLÉE" -> "creme brulee"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def terms(text: str) -> list[str]:
    """The distinct words worth indexing, in order of appearance."""
    words = (w[:MAX_TERM] for w in _WORD.findall(fold(text)))
    return list(dict.fromkeys(w for w in words if len(w) >= 2 and w not in STOPWORDS))


def index_cases(session: Session, case_ids: Iterable[int]) -> None:
    """Rebuild the words of these cases (call after their messages changed, same transaction)."""
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        words: dict[int, dict[str, None]] = {i: {} for i in part}
        people = (
            select(Case.id, Author.handle, Author.display_name, Message.language)
            .join(Author, Author.id == Case.customer_id)
            .outerjoin(Message, Message.id == Case.opening_message_id)
        )
        for case_id, handle, name, language in session.execute(people.where(Case.id.in_(part))):
            if language:
                words[case_id][facet("lang", language)] = None
            words[case_id].update(dict.fromkeys(terms(f"{handle} {name}")))
        texts = select(Message.case_id, Message.text).where(Message.case_id.in_(part))
        for case_id, text in session.execute(texts.order_by(Message.id)):
            bag = words[case_id]
            if len(bag) < MAX_TERMS_PER_CASE:
                bag.update(dict.fromkeys(terms(text)))
        session.execute(delete(CaseTerm).where(CaseTerm.case_id.in_(part)))
        rows: list[dict[str, Any]] = [
            {"term": t, "case_id": case_id}
            for case_id, bag in words.items()
            for t in list(bag)[:MAX_TERMS_PER_CASE]
        ]
        if rows:
            session.execute(insert(CaseTerm), rows)


def add_message_terms(session: Session, message_ids: Sequence[int], case_ids: set[int]) -> None:
    """Add the words of newly stored messages to their (existing) cases' index.

    Cheaper than `index_cases` for a case a customer writes to again: only the new messages
    are read. The per-case cap is not re-applied here (a long case may exceed it slightly).
    """
    if not message_ids or not case_ids:
        return
    insert_ignore = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(message_ids), CHUNK):
        part = list(message_ids[start : start + CHUNK])
        rows = {
            (term, case_id)
            for case_id, text in session.execute(
                select(Message.case_id, Message.text).where(Message.id.in_(part))
            )
            if case_id in case_ids
            for term in terms(text)
        }
        if rows:
            stmt = insert_ignore(CaseTerm).on_conflict_do_nothing()
            session.execute(stmt, [{"term": t, "case_id": c} for t, c in sorted(rows)])


def reindex_all(session: Session, *, batch: int = 2000) -> int:
    """Rebuild every case's words (after an upgrade from a desk without the index)."""
    last, done = 0, 0
    while True:
        ids = list(
            session.scalars(select(Case.id).where(Case.id > last).order_by(Case.id).limit(batch))
        )
        if not ids:
            return done
        index_cases(session, ids)
        last, done = ids[-1], done + len(ids)


def facet(name: str, value: str) -> str:
    """A term no text produces (words have no colon): "lang:fr"."""
    return f"{name}:{value.strip().lower()}"[:MAX_TERM]


def _successor(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def query_terms(q: str) -> list[str]:
    return terms(q)[:MAX_QUERY_TERMS]


def _is_common(session: Session, term_cond: ColumnElement[bool]) -> bool:
    # Counting stops at COMMON + 1 index entries: cheap whatever the word.
    held = select(CaseTerm.case_id).where(term_cond).limit(COMMON + 1).subquery()
    return (session.scalar(select(func.count()).select_from(held)) or 0) > COMMON


def term_condition(session: Session, term_cond: ColumnElement[bool]) -> ColumnElement[bool]:
    """Cases holding a term matching `term_cond`, in the cheaper shape for its frequency."""
    if _is_common(session, term_cond):
        probe = select(CaseTerm.case_id).where(CaseTerm.case_id == Case.id, term_cond)
        return probe.exists()
    return Case.id.in_(select(CaseTerm.case_id).where(term_cond))


def facet_condition(session: Session, name: str, value: str) -> ColumnElement[bool]:
    return term_condition(session, CaseTerm.term == facet(name, value))


def search_condition(session: Session, q: str) -> ColumnElement[bool] | None:
    """Cases holding every word of `q` as a prefix of one of theirs; None if `q` has no word."""
    words = query_terms(q)
    if not words:
        return None
    return and_(*(term_condition(session, _matches(w)) for w in words))


def _matches(word: str) -> ColumnElement[bool]:
    if len(word) < PREFIX_FROM:  # "fr" as a prefix would match half the vocabulary
        return CaseTerm.term == word
    return and_(CaseTerm.term >= word, CaseTerm.term < _successor(word))
