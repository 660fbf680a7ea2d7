"""Suggestions on the desk: the index of the team's answers, and what agents chose.

`Suggester` keeps one `suggest.SuggestionIndex` per process, built from the database: the
team's past answers (outbound messages, acknowledgements aside) beside the customer's message
each answered, the suggestions agents chose (`SuggestionUse`, weighed by how little they edited
them), and the active templates and articles as text. It is rebuilt when templates, articles or
uses change, and at most every `HISTORY_REFRESH` for new replies (reading the history is the
costly part; a query is milliseconds).
"""

from __future__ import annotations

import difflib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar, cast

from sqlalchemy import ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from carebird.db.base import Base, Id, utcnow
from carebird.errors import InvalidInput, NotFound
from carebird.ingest.models import Message
from carebird.reply.articles import Article
from carebird.reply.suggest import ContentItem, HistoryItem, SuggestionIndex, answer_key
from carebird.reply.templates import ReplyTemplate

# The desk's own automatic messages are no answer to suggest: an acknowledgement says nothing,
# and a survey carries one customer's single-use link.
NOT_ANSWERS = ("acknowledgement", "survey")
HISTORY_LIMIT = 20_000  # the newest answers the index reads
HISTORY_REFRESH = 60.0  # seconds between two readings of new replies
KINDS = ("template", "article", "reply")
WAIT_REFRESH = 60.0  # seconds the expected wait stated in suggestions is kept
T = TypeVar("T")


class SuggestionUse(Base):
    """An agent inserted a suggestion (and, once sent, how much they changed it)."""

    __tablename__ = "suggestion_uses"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # template | article | reply
    ref: Mapped[str] = mapped_column(String(64))  # the template's, article's or message's id
    rank: Mapped[int] = mapped_column(default=0)  # 1..3 in the list shown
    message_text: Mapped[str] = mapped_column(Text, default="")  # what the customer wrote
    inserted_text: Mapped[str] = mapped_column(Text, default="")
    sent_text: Mapped[str | None] = mapped_column(Text)
    kept: Mapped[float | None]  # similarity of what was sent to what was inserted (0..1)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


# --- recording the agent's choice -------------------------------------------------------------
def record_use(
    session: Session,
    *,
    case_id: int,
    agent_id: int | None,
    kind: str,
    ref: str,
    rank: int,
    message_text: str,
    inserted_text: str,
) -> SuggestionUse:
    if kind not in KINDS:
        raise InvalidInput(f"a suggestion is one of {', '.join(KINDS)}")
    _check_ref(session, kind, ref)
    use = SuggestionUse(
        case_id=case_id,
        agent_id=agent_id,
        kind=kind,
        ref=ref[:64],
        rank=rank,
        message_text=message_text,
        inserted_text=inserted_text,
        at=utcnow(),
    )
    session.add(use)
    session.flush()
    return use


def _check_ref(session: Session, kind: str, ref: str) -> None:
    """A template's or an article's use names one that exists: the ranking reads its id back."""
    rows = {"template": ReplyTemplate, "article": Article}
    if kind not in rows:
        return
    if not (ref.isascii() and ref.isdigit() and int(ref) < 2**63):
        raise InvalidInput(f"ref: the {kind}'s id")
    if session.get(rows[kind], int(ref)) is None:
        raise NotFound(f"no {kind} {ref}")


def record_sent(
    session: Session, *, use_id: int, agent_id: int | None, sent_text: str
) -> SuggestionUse:
    """What the agent finally sent after inserting the suggestion (their edits)."""
    use = session.get(SuggestionUse, use_id)
    if use is None or (agent_id is not None and use.agent_id not in (None, agent_id)):
        raise NotFound(f"suggestion use {use_id} not found")
    use.sent_text = sent_text
    use.kept = round(difflib.SequenceMatcher(None, use.inserted_text, sent_text).ratio(), 3)
    use.sent_at = utcnow()
    session.flush()
    return use


# --- reading the desk into an index -----------------------------------------------------------
def answered_pairs(session: Session, *, limit: int = HISTORY_LIMIT) -> list[HistoryItem]:
    """The team's answers, oldest first, each beside the customer's last message before it."""
    answers = list(
        session.execute(
            select(Message.id, Message.case_id, Message.text, Message.created_at)
            .where(
                Message.direction == "out",
                Message.kind.not_in(NOT_ANSWERS),
                Message.case_id.is_not(None),
            )
            .order_by(Message.id.desc())
            .limit(limit)
        )
    )
    answers.reverse()
    case_ids = sorted({a.case_id for a in answers})
    inbound: dict[int, list[tuple[datetime, str]]] = {}
    for start in range(0, len(case_ids), 500):
        part = case_ids[start : start + 500]
        rows = session.execute(
            select(Message.case_id, Message.created_at, Message.text)
            .where(Message.case_id.in_(part), Message.direction == "in")
            .order_by(Message.created_at, Message.id)
        )
        for case_id, at, text in rows:
            inbound.setdefault(case_id, []).append((at, text))
    items = []
    for a in answers:
        before = [text for at, text in inbound.get(a.case_id, []) if at <= a.created_at]
        context = before[-1] if before else ""
        key = "reply:" + answer_key(a.text)
        items.append(HistoryItem(context, a.text, key, str(a.id), at=a.created_at))
    return items


def chosen(session: Session) -> list[HistoryItem]:
    """Templates and articles agents inserted: each a vote for the message it answered."""
    rows = session.scalars(
        select(SuggestionUse)
        .where(SuggestionUse.kind.in_(("template", "article")))
        .order_by(SuggestionUse.id)
    )
    return [
        HistoryItem(
            u.message_text,
            u.inserted_text,
            f"{u.kind}:{u.ref}",
            u.ref,
            at=u.at,
            weight=max(0.25, u.kept if u.kept is not None else 1.0),
        )
        for u in rows
    ]


def content(session: Session) -> list[ContentItem]:
    templates = session.scalars(select(ReplyTemplate).where(ReplyTemplate.active.is_(True)))
    items = [
        ContentItem(
            f"template:{t.id}",
            "template",
            str(t.id),
            t.name,
            f"{t.body} {' '.join(map(str, t.tags or []))}",
            t.language,
        )
        for t in templates
    ]
    for a in session.scalars(select(Article)):
        text = f"{a.summary} {' '.join(map(str, a.tags or []))} {a.body[:2000]}"
        items.append(
            ContentItem(f"article:{a.id}", "article", str(a.id), a.title, text, a.language)
        )
    return items


def fingerprint(session: Session) -> tuple[object, ...]:
    """Changes of templates, articles and uses (cheap: three aggregates)."""
    t = session.execute(select(func.count(), func.max(ReplyTemplate.updated_at))).one()
    a = session.execute(select(func.count(), func.max(Article.updated_at))).one()
    u = session.execute(select(func.count(), func.max(SuggestionUse.sent_at))).one()
    return (*t, *a, *u)


@dataclass
class _Built:
    index: SuggestionIndex
    history: list[HistoryItem]
    mark: tuple[object, ...]
    read_at: float


class Suggester:
    """The process's index, rebuilt when what it holds changed (thread-safe)."""

    def __init__(self, *, refresh: float = HISTORY_REFRESH) -> None:
        self.refresh = refresh
        self._lock = threading.Lock()
        self._built: _Built | None = None
        self._memo: dict[str, tuple[float, object]] = {}

    def index(self, session: Session) -> SuggestionIndex:
        mark = fingerprint(session)
        now = time.monotonic()
        with self._lock:
            built = self._built
            stale_history = built is None or now - built.read_at >= self.refresh
            if built is not None and not stale_history and built.mark == mark:
                return built.index
            history = answered_pairs(session) if stale_history or built is None else built.history
            read_at = now if stale_history or built is None else built.read_at
            index = SuggestionIndex.build(history + chosen(session), content(session))
            self._built = _Built(index, history, mark, read_at)
            return index

    def forget(self) -> None:
        with self._lock:
            self._built = None
            self._memo.clear()

    def remember(self, key: str, seconds: float, make: Callable[[], T]) -> T:
        """`make()`, computed at most once every `seconds` (the desk's expected wait…)."""
        now = time.monotonic()
        with self._lock:
            found = self._memo.get(key)
            if found is not None and now - found[0] < seconds:
                return cast(T, found[1])
        value = make()
        with self._lock:
            self._memo[key] = (now, value)
        return value
