"""The read side of cases: the inbox list, one case's full detail, the message stream.

Plain dataclasses out, no ORM objects, so every adapter (API, pages, CLI) renders the same data.
The inbox pages with a keyset cursor (stable while new messages arrive) or a plain offset.
The agent's inbox (filters, search, deadlines) builds on `select_page`: carebird.cases.inbox.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import JSON, func, literal, literal_column, select, text, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased

from carebird.auth.models import Agent
from carebird.cases.models import Case, CaseEvent, CaseTag
from carebird.errors import InvalidInput, NotFound
from carebird.ingest.models import Author, Message

T = TypeVar("T")
Sort = Literal["priority", "activity", "created"]
MAX_LIMIT = 200
COUNT_CAP = 1000  # lists say "1,000+" rather than count every match of a common filter
# What a row takes from its case (CaseRow and its `fill`s), read as columns.
ROW_COLUMNS = (
    *(Case.id, Case.status, Case.network, Case.subject, Case.category, Case.priority),
    *(Case.priority_reasons, Case.assignee_id, Case.team_id, Case.customer_id),
    *(Case.message_count, Case.created_at, Case.last_activity_at, Case.resolved_at),
    *(Case.closed_at, Case.account_id, Case.opening_message_id),
)
_SORT_COLUMNS = {
    "activity": Case.last_activity_at,
    "priority": Case.priority,
    "created": Case.created_at,
}


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    next: str | None = None  # pass back as `cursor` (cases) or `offset` (messages)
    total_capped: bool = False  # counting stopped at `total`: there are more


@dataclass(slots=True)
class CaseRow:
    id: int
    status: str
    network: str
    subject: str
    category: str | None
    priority: float
    priority_reasons: list[dict[str, Any]]
    assignee_id: int | None
    team_id: int | None
    customer_id: int
    customer_handle: str
    message_count: int
    created_at: datetime
    last_activity_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    tags: list[str] = field(default_factory=list)
    priority_text: str = ""  # the reasons in the reader's language, filled by the adapter

    @classmethod
    def extra_columns(cls, dialect: str) -> dict[str, Any]:
        """Hook for richer rows (the inbox's): more columns for the page's one statement."""
        return {}

    def fill(self, case: Any, extra: Mapping[str, Any]) -> None:
        """Hook for richer rows (the inbox's) to take more from the case (a Case, or a row of
        ROW_COLUMNS) and `extra_columns`."""


@dataclass(slots=True)
class Customer:
    id: int
    network: str
    handle: str
    display_name: str
    followers: int
    verified: bool


@dataclass(slots=True)
class MessageRow:
    id: int
    case_id: int | None
    network: str
    external_id: str
    direction: str
    kind: str
    is_private: bool
    author_handle: str
    author_name: str
    text: str
    created_at: datetime


@dataclass(slots=True)
class EventRow:
    id: int
    kind: str
    old: str | None
    new: str | None
    actor_id: int | None
    actor_name: str | None
    at: datetime
    data: dict[str, Any]


@dataclass(slots=True)
class CaseDetail:
    case: CaseRow
    customer: Customer
    messages: list[MessageRow]
    events: list[EventRow]


def _limit(limit: int) -> int:
    if limit < 1:
        raise InvalidInput("limit must be at least 1")
    return min(limit, MAX_LIMIT)


def _encode_cursor(sort: str, row: CaseRow) -> str:
    value = getattr(row, {"activity": "last_activity_at", "created": "created_at"}.get(sort, sort))
    raw = [sort, value.isoformat() if isinstance(value, datetime) else value, row.id]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def _decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        kind, value, case_id = raw
        if kind != sort or not isinstance(case_id, int):
            raise ValueError(kind)
        if sort == "priority":
            return float(value), case_id
        return datetime.fromisoformat(value), case_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("invalid cursor for this sort order") from None


def text_condition(q: str) -> Any:
    return func.lower(Case.subject).contains(q.lower(), autoescape=True)


@functools.cache
def tags_column(dialect: str) -> Any:
    """A case's tags, sorted, as one JSON array: a correlated subquery of the page's statement."""
    if dialect == "postgresql":
        agg = func.json_agg(aggregate_order_by(CaseTag.tag, CaseTag.tag))
        return (
            select(func.coalesce(agg, text("'[]'::json")))
            .where(CaseTag.case_id == Case.id)
            .scalar_subquery()
        )
    return literal_column(  # SQLite 3.40 has no ORDER BY inside an aggregate: a sorted FROM
        "(SELECT json_group_array(t.tag) FROM (SELECT case_tags.tag AS tag FROM case_tags "
        "WHERE case_tags.case_id = cases.id ORDER BY case_tags.tag) AS t)",
        type_=JSON,
    )


def count_matching(session: Session, conds: list[Any], count_cap: int | None) -> tuple[int, bool]:
    """How many cases match, stopping past `count_cap` (then True: there are more)."""
    matching = select(Case.id).where(*conds)
    if count_cap is not None:
        matching = matching.limit(count_cap + 1)
    total = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    if count_cap is not None and total > count_cap:
        return count_cap, True
    return total, False


def select_page(
    session: Session,
    conds: list[Any],
    *,
    sort: str,
    limit: int,
    offset: int,
    cursor: str | None,
    row_type: type[CaseRow] = CaseRow,
    count_cap: int | None = None,
) -> Page[Any]:
    """One page of cases matching `conds`, best first for `sort`, with the total and tags.

    The rows, their customer, tags and whatever `row_type.extra_columns` adds come from one
    statement, ordered by (sort column, id) and paged by keyset: `cursor` holds the last
    row's pair, and the next page starts strictly after it, which an index ending in
    (column, id) serves without sorting (migration 0020). The count is a second statement;
    with `count_cap` it stops past that many matches (`total_capped`): "1,000+" costs an
    index walk that stops early, an exact count of 60,000 a scan.
    """
    if sort not in _SORT_COLUMNS:
        raise InvalidInput(f"unknown sort {sort!r}")
    if cursor and offset:
        raise InvalidInput("use either a cursor or an offset, not both")
    limit = _limit(limit)
    total, capped = count_matching(session, conds, count_cap)
    col = _SORT_COLUMNS[sort]
    dialect = session.get_bind().dialect.name
    extra = {"tags": tags_column(dialect), **row_type.extra_columns(dialect)}
    labelled = [c.label(f"x_{name}") for name, c in extra.items()]
    # Columns, not Case objects: building 50 ORM instances was a fifth of a loaded page.
    stmt = select(*ROW_COLUMNS, Author.handle, *labelled)
    stmt = stmt.join(Author, Author.id == Case.customer_id).where(*conds)
    if cursor:
        value, last_id = _decode_cursor(sort, cursor)
        # Typed as the column: a bare datetime is a timestamptz, shifted by the session's zone.
        stmt = stmt.where(tuple_(col, Case.id) < tuple_(literal(value, col.type), literal(last_id)))
    stmt = stmt.order_by(col.desc(), Case.id.desc()).limit(limit + 1).offset(max(0, offset))
    rows = []
    first = len(ROW_COLUMNS) + 1
    for found in session.execute(stmt):
        values = dict(zip(extra, found[first:], strict=True))
        row = _case_row(found, found.handle, row_type, values)
        row.tags = list(values["tags"] or [])
        rows.append(row)
    more = len(rows) > limit
    rows = rows[:limit]
    after = _encode_cursor(sort, rows[-1]) if more else None
    return Page(items=rows, total=total, next=after, total_capped=capped)


def list_cases(
    session: Session,
    *,
    status: list[str] | None = None,
    assignee_id: int | None = None,
    team_id: int | None = None,
    network: str | None = None,
    tag: str | None = None,
    q: str | None = None,
    sort: Sort = "activity",
    limit: int = 50,
    offset: int = 0,
    cursor: str | None = None,
    count_cap: int | None = COUNT_CAP,
) -> Page[CaseRow]:
    """Cases matching every given filter, best first for `sort`, with the total count (up
    to `count_cap`: past it, `total_capped`)."""
    conds: list[Any] = []
    if status:
        conds.append(Case.status.in_(status))
    if assignee_id is not None:
        conds.append(Case.assignee_id == assignee_id)
    if team_id is not None:
        conds.append(Case.team_id == team_id)
    if network:
        conds.append(Case.network == network)
    if tag:
        tagged = select(CaseTag.case_id).where(CaseTag.tag == tag.strip().lower())
        conds.append(Case.id.in_(tagged))
    if q:
        conds.append(text_condition(q))
    return select_page(
        session,
        conds,
        sort=sort,
        limit=limit,
        offset=offset,
        cursor=cursor,
        count_cap=count_cap,
    )


def _case_row(
    case: Any,  # a Case, or a row of ROW_COLUMNS
    handle: str,
    row_type: type[CaseRow] = CaseRow,
    extra: Mapping[str, Any] | None = None,
) -> Any:
    row = row_type(
        id=case.id,
        status=case.status,
        network=case.network,
        subject=case.subject,
        category=case.category,
        priority=case.priority,
        priority_reasons=list(case.priority_reasons or []),
        assignee_id=case.assignee_id,
        team_id=case.team_id,
        customer_id=case.customer_id,
        customer_handle=handle,
        message_count=case.message_count,
        created_at=case.created_at,
        last_activity_at=case.last_activity_at,
        resolved_at=case.resolved_at,
        closed_at=case.closed_at,
    )
    row.fill(case, extra or {})
    return row


_SURVEY_LINK = re.compile(r"/survey/[A-Za-z0-9_-]+")


def shown_text(msg: Message) -> str:
    """A message's text as agents read it: a satisfaction survey's link is masked, so nobody
    at the desk answers a customer's survey by a click in the conversation."""
    if msg.kind == "survey":
        return _SURVEY_LINK.sub("/survey/…", msg.text)
    return msg.text


def _message_query() -> Any:
    return select(Message, Author.handle, Author.display_name).join(
        Author, Author.id == Message.author_id
    )


def _message_row(msg: Message, handle: str, name: str) -> MessageRow:
    return MessageRow(
        id=msg.id,
        case_id=msg.case_id,
        network=msg.network,
        external_id=msg.external_id,
        direction=msg.direction,
        kind=msg.kind,
        is_private=msg.is_private,
        author_handle=handle,
        author_name=name,
        text=shown_text(msg),
        created_at=msg.created_at,
    )


def case_detail(session: Session, *, case_id: int) -> CaseDetail:
    found = session.execute(
        select(Case, Author).join(Author, Author.id == Case.customer_id).where(Case.id == case_id)
    ).first()
    if found is None:
        raise NotFound(f"case {case_id} not found")
    case, author = found
    row = _case_row(case, author.handle)
    row.tags = list(
        session.scalars(select(CaseTag.tag).where(CaseTag.case_id == case_id).order_by("tag"))
    )
    stmt = _message_query().where(Message.case_id == case_id)
    messages = [
        _message_row(*r) for r in session.execute(stmt.order_by(Message.created_at, Message.id))
    ]
    actor = aliased(Agent)
    ev_stmt = (
        select(CaseEvent, actor.name)
        .outerjoin(actor, actor.id == CaseEvent.actor_id)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.at, CaseEvent.id)
    )
    events = [
        EventRow(e.id, e.kind, e.old, e.new, e.actor_id, name, e.at, e.data or {})
        for e, name in session.execute(ev_stmt)
    ]
    a = author
    customer = Customer(a.id, a.network, a.handle, a.display_name, a.followers, a.verified)
    return CaseDetail(case=row, customer=customer, messages=messages, events=events)


def list_messages(
    session: Session,
    *,
    case_id: int | None = None,
    direction: str | None = None,
    network: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[MessageRow]:
    """Messages, oldest first within one case, newest first otherwise; `next` is an offset."""
    limit, offset = _limit(limit), max(0, offset)
    conds: list[Any] = []
    if case_id is not None:
        conds.append(Message.case_id == case_id)
    if direction:
        conds.append(Message.direction == direction)
    if network:
        conds.append(Message.network == network)
    total = session.scalar(select(func.count()).select_from(Message).where(*conds)) or 0
    order = (
        (Message.created_at, Message.id)
        if case_id is not None
        else (Message.created_at.desc(), Message.id.desc())
    )
    stmt = _message_query().where(*conds).order_by(*order).limit(limit).offset(offset)
    items = [_message_row(*r) for r in session.execute(stmt)]
    more = offset + len(items) < total
    return Page(items=items, total=total, next=str(offset + limit) if more else None)
