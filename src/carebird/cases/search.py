"""Full-text search over a case's messages, by the database engine's own full-text index.

Each case has one search row: its words (every message's text, the customer's handle and
name), folded to lower case without accents by `fold` and cut into words by `terms` on both
engines, so both find exactly the same cases; the language of its opening message (a facet);
and its references, the words holding a digit (order numbers, booking references), which a
query word of three characters or more finds as a substring ("214955" finds "82149557").

- SQLite: an FTS5 table `case_search(words, lang)` (rowid = case id, unicode61 tokenizer with
  prefix indexes) and a trigram FTS5 table `case_refs(refs)`. Both are regular (not
  external-content) tables: SQLite 3.40 cannot delete from a contentless one, and a case
  written to again gets its new words by an in-place UPDATE (words || ' ' || new words).
- PostgreSQL: a table `case_search(case_id, lang, doc tsvector, refs)`; `doc` is built from
  the folded words (array_to_tsvector: no parser, no dictionary, the same words as SQLite)
  under a GIN index, `refs` under a pg_trgm GIN index, `lang` under a B-tree.

A query keeps at most eight words (stopwords and one-letter words left out); a case matches
when it holds every one: a word of three letters or more as a word prefix ("rembours" finds
"remboursement"), a shorter one as a whole word, a word with a digit (three characters or more)
as a substring of a reference. MATCH and tsquery strings are built from these folded words
only, each quoted: no query syntax of the user's reaches the engine.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    cast,
    column,
    false,
    func,
    literal,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import TableClause

from carebird.cases.models import Case
from carebird.ingest.models import Author, Message

MAX_TERM = 48
MAX_TERMS_PER_CASE = 2000  # a 100 kB message must not grow the index without bound
MAX_QUERY_TERMS = 8
MAX_QUERY_CHARS = 2000  # a pasted novel is not a query: its first words are
CHUNK = 400
PREFIX_FROM = 3  # shorter query words match whole words only
COMMON = 2000  # an FTS5 query matching more cases than this is probed per case, not listed
REF_FROM = 3  # a reference is found by a substring of this many characters or more
_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"\d")
# Words found in nearly every message (folded): they would only bloat the index.
_STOP = """
au aux avec ce ces dans de des du en et il je la le les leur lui ma mais me mes moi mon ne nos
notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre
vous est ai as ca cette ete etre avez
an and are as at be but by for from has have he her his if in into is it its me my no not of on
or our so than that the their them then there they this to was we were what with you your
"""
STOPWORDS = frozenset(_STOP.split())

# SQLite: the FTS5 tables (rowid = case id). PostgreSQL: one table keyed by case_id.
_fts = table("case_search", column("rowid"), column("case_search"), column("lang"))
_refs = table("case_refs", column("rowid"), column("case_refs"))
_pg = table("case_search", column("case_id"), column("lang"), column("doc"), column("refs"))


def fold(text: str) -> str:
    """Lower case without accents: "Crème BRÛLÉE" -> "creme brulee"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def terms(text: str) -> list[str]:
    """The distinct words worth indexing, in order of appearance."""
    words = (w[:MAX_TERM] for w in _WORD.findall(fold(text)))
    return list(dict.fromkeys(w for w in words if len(w) >= 2 and w not in STOPWORDS))


def is_reference(word: str) -> bool:
    """A word with a digit, long enough to be found by a substring: "82149557", "hr6crw"."""
    return len(word) >= REF_FROM and _DIGIT.search(word) is not None


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _language(value: str | None) -> str:
    """One token on both engines: "pt-BR" -> "pt_br" (FTS5 keeps "_" inside a word, so "pt"
    never matches "pt_br" as it would match the two words of "pt-br")."""
    return re.sub(r"[^\w]+", "_", (value or "").strip().lower())


class _Bag:
    """One case's search row being built: language, words in order, capped."""

    def __init__(self) -> None:
        self.lang = ""
        self.words: dict[str, None] = {}

    def add(self, text: str) -> None:
        if len(self.words) < MAX_TERMS_PER_CASE:
            self.words.update(dict.fromkeys(terms(text)))

    def row(self, case_id: int) -> dict[str, Any]:
        words = list(self.words)[:MAX_TERMS_PER_CASE]
        refs = " ".join(w for w in words if is_reference(w))
        return {"id": case_id, "lang": self.lang, "words": words, "refs": refs}


def index_cases(session: Session, case_ids: Iterable[int]) -> None:
    """Rebuild the search rows of these cases (after their messages changed, same transaction)."""
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        bags = {i: _Bag() for i in part}
        people = (
            select(Case.id, Author.handle, Author.display_name, Message.language)
            .join(Author, Author.id == Case.customer_id)
            .outerjoin(Message, Message.id == Case.opening_message_id)
        )
        for case_id, handle, name, language in session.execute(people.where(Case.id.in_(part))):
            bags[case_id].lang = _language(language)
            bags[case_id].add(f"{handle} {name}")
        texts = select(Message.case_id, Message.text).where(Message.case_id.in_(part))
        for case_id, text_ in session.execute(texts.order_by(Message.id)):
            bags[case_id].add(text_)
        rows = [bag.row(case_id) for case_id, bag in bags.items()]
        _write(session, part, rows)


def _write(session: Session, ids: list[int], rows: list[dict[str, Any]]) -> None:
    """Replace the search rows of `ids` by `rows`."""
    if _is_pg(session):
        session.execute(text("DELETE FROM case_search WHERE case_id = ANY(:ids)"), {"ids": ids})
        insert = (
            "INSERT INTO case_search (case_id, lang, doc, refs) "
            "VALUES (:id, :lang, array_to_tsvector(CAST(:words AS text[])), :refs)"
        )
        if rows:
            session.execute(text(insert), rows)
        return
    marks = ",".join(str(int(i)) for i in ids)  # ints only: FTS5 deletes by rowid
    session.execute(text(f"DELETE FROM case_search WHERE rowid IN ({marks})"))
    session.execute(text(f"DELETE FROM case_refs WHERE rowid IN ({marks})"))
    plain = [{**r, "words": " ".join(r["words"])} for r in rows]
    if plain:
        insert = "INSERT INTO case_search (rowid, words, lang) VALUES (:id, :words, :lang)"
        session.execute(text(insert), plain)
    with_refs = [r for r in plain if r["refs"]]
    if with_refs:
        session.execute(text("INSERT INTO case_refs (rowid, refs) VALUES (:id, :refs)"), with_refs)


def indexed_cases(session: Session, case_ids: Iterable[int]) -> set[int]:
    """Which of these cases have a search row."""
    ids = sorted(set(case_ids))
    found: set[int] = set()
    key = _pg.c.case_id if _is_pg(session) else _fts.c.rowid
    source = _pg if _is_pg(session) else _fts
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        found.update(session.scalars(select(key).select_from(source).where(key.in_(part))))
    return found


def add_message_terms(session: Session, message_ids: Sequence[int], case_ids: set[int]) -> None:
    """Add the words of newly stored messages to their (existing) cases' search rows.

    Cheaper than `index_cases` for a case a customer writes to again: only the new messages
    are read, and their words appended to the row in place. The per-case cap is not
    re-applied here (a long case may exceed it slightly).
    """
    if not message_ids or not case_ids:
        return
    new: dict[int, dict[str, None]] = {}
    for start in range(0, len(message_ids), CHUNK):
        part = list(message_ids[start : start + CHUNK])
        query = select(Message.case_id, Message.text).where(Message.id.in_(part))
        for case_id, text_ in session.execute(query.order_by(Message.id)):
            if case_id in case_ids:
                new.setdefault(case_id, {}).update(dict.fromkeys(terms(text_)))
    have = indexed_cases(session, new)
    index_cases(session, set(new) - have)  # no row yet (never indexed): build it whole
    rows = [
        {"id": c, "words": list(words), "refs": " ".join(w for w in words if is_reference(w))}
        for c, words in sorted(new.items())
        if c in have and words
    ]
    if rows:
        _append(session, rows)


def _append(session: Session, rows: list[dict[str, Any]]) -> None:
    if _is_pg(session):
        update = (
            "UPDATE case_search SET doc = doc || array_to_tsvector(CAST(:words AS text[])), "
            "refs = CASE WHEN refs = '' THEN :refs WHEN :refs = '' THEN refs "
            "ELSE refs || ' ' || :refs END WHERE case_id = :id"
        )
        session.execute(text(update), rows)
        return
    plain = [{"id": r["id"], "words": " ".join(r["words"])} for r in rows]
    update = "UPDATE case_search SET words = words || ' ' || :words WHERE rowid = :id"
    session.execute(text(update), plain)
    with_refs = [r for r in rows if r["refs"]]
    if not with_refs:
        return
    marks = ",".join(str(int(r["id"])) for r in with_refs)
    held = set(session.scalars(text(f"SELECT rowid FROM case_refs WHERE rowid IN ({marks})")))
    grow = [r for r in with_refs if r["id"] in held]
    if grow:
        update = "UPDATE case_refs SET refs = refs || ' ' || :refs WHERE rowid = :id"
        session.execute(text(update), [{"id": r["id"], "refs": r["refs"]} for r in grow])
    first = [{"id": r["id"], "refs": r["refs"]} for r in with_refs if r["id"] not in held]
    if first:
        session.execute(text("INSERT INTO case_refs (rowid, refs) VALUES (:id, :refs)"), first)


def reindex_all(session: Session, *, batch: int = 2000) -> int:
    """Rebuild every case's search row (after an upgrade, or to repair the index)."""
    last, done = 0, 0
    while True:
        ids = list(
            session.scalars(select(Case.id).where(Case.id > last).order_by(Case.id).limit(batch))
        )
        if not ids:
            return done
        index_cases(session, ids)
        last, done = ids[-1], done + len(ids)


def query_terms(q: str) -> list[str]:
    return terms(q[:MAX_QUERY_CHARS])[:MAX_QUERY_TERMS]


def _quoted(value: str) -> str:
    """An FTS5 string: the value between double quotes (its own quotes doubled, NUL dropped)."""
    return '"' + value.replace("\x00", "").replace('"', '""') + '"'


def facet_condition(session: Session, name: str, value: str) -> ColumnElement[bool]:
    """Cases whose facet `name` (only "lang": the opening message's language) is `value`."""
    if name != "lang":
        raise ValueError(f"unknown search facet {name!r}")
    lang = _language(value.replace("\x00", ""))
    if not _WORD.search(lang):
        return false()  # no case has a language without a letter
    if _is_pg(session):
        return Case.id.in_(select(_pg.c.case_id).where(_pg.c.lang == lang))
    return _fts_condition(session, _fts, "lang : " + _quoted(lang))


def search_condition(session: Session, q: str) -> ColumnElement[bool] | None:
    """Cases holding every word of `q` (see the module's doc); None if `q` has no word."""
    words = query_terms(q)
    if not words:
        return None
    plain = [w for w in words if not is_reference(w)]
    refs = [w for w in words if is_reference(w)]
    if _is_pg(session):
        return _pg_condition(session, plain, refs)
    conds: list[ColumnElement[bool]] = []
    if plain:
        phrases = (_quoted(w) + ("*" if len(w) >= PREFIX_FROM else "") for w in plain)
        conds.append(_fts_condition(session, _fts, "words : (" + " AND ".join(phrases) + ")"))
    if refs:
        conds.append(_fts_condition(session, _refs, " AND ".join(_quoted(w) for w in refs)))
    return and_(*conds)


def _fts_condition(session: Session, fts: TableClause, query: str) -> ColumnElement[bool]:
    """Cases matching an FTS5 query, in the cheaper shape for how many cases match.

    Few (up to COMMON): the inbox starts from their ids. Many: their ids are gathered once into
    a set the inbox tests while it walks its priority order ("id + 0" keeps SQLite from
    starting from them). At 100,000 cases a word in most of them took 0.4 s listed as a start,
    8 s probed per case (an FTS5 prefix query rebuilds its doclist each time), 50 ms as a set.
    """
    match = fts.c[fts.name].op("MATCH")(query)
    held = select(fts.c.rowid).where(match).limit(COMMON + 1).subquery()
    listed = select(fts.c.rowid).where(match)
    if (session.scalar(select(func.count()).select_from(held)) or 0) > COMMON:
        return (Case.id + 0).in_(listed)  # "+ 0": a set to test, not an index to walk
    return Case.id.in_(listed)


def _pg_condition(session: Session, plain: list[str], refs: list[str]) -> ColumnElement[bool]:
    """Cases matching, as the ids themselves when few (up to COMMON): PostgreSQL's estimate of
    a prefix query is a fixed guess, and with it the inbox walked every active case in priority
    order probing each (100 ms at 100,000 cases for a word in 12). Many: a subquery."""
    conds: list[ColumnElement[bool]] = []
    if plain:  # tsquery syntax from folded words (letters, digits, _): 'word':* & 'wo'
        query = " & ".join(f"'{w}'" + (":*" if len(w) >= PREFIX_FROM else "") for w in plain)
        conds.append(_pg.c.doc.op("@@")(cast(literal(query, String), TSQUERY)))
    for w in refs:  # LIKE under the trigram index; "_" is a word character, not a wildcard
        conds.append(_pg.c.refs.like("%" + w.replace("_", "\\_") + "%", escape="\\"))
    matching = select(_pg.c.case_id).where(*conds)
    few = session.scalars(matching.limit(COMMON + 1)).all()
    return Case.id.in_(few) if len(few) <= COMMON else Case.id.in_(matching)
