"""Threading: attach each newly stored message to its case, opening one when needed.

One case = one customer × one problem. In order of precedence, an inbound message joins:
the case of the message it replies to (or of its conversation) when that case is the same
customer's; else the customer's latest case on that network. That case is joined if still
active, reopened if resolved less than `reopen_window` before, and otherwise a new case
starts. Outbound messages (ours) join the case of what they answer and never open one.
Private and public messages share a case; each message keeps its own `is_private`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from carebird.cases.log import event_row, write_events
from carebird.cases.models import Case
from carebird.cases.states import ACTIVE, Status
from carebird.db.bulk import update_by_id
from carebird.ingest.models import Message
from carebird.ingest.store import MESSAGES, StoredMessage, chunks

SUBJECT_LEN = 120
CASES: Table = Case.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class CaseState:
    id: int
    customer_id: int
    network: str
    status: str
    resolved_at: datetime | None
    last_activity_at: datetime
    message_count: int = 0
    dirty: bool = False


@dataclass(slots=True)
class ThreadResult:
    new_cases: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)
    # message id -> case id (real ids) for this batch's messages that joined a case
    case_of: dict[int, int] = field(default_factory=dict)


def thread_messages(
    session: Session, messages: Sequence[StoredMessage], *, reopen_window: timedelta
) -> ThreadResult:
    result = ThreadResult()
    if not messages:
        return result
    msg_case = _known_message_cases(session, messages)  # (network, external id) -> case id
    conv_case = _known_conversation_cases(session, messages)
    cases: dict[int, CaseState] = {}
    latest: dict[tuple[str, int], int] = {}  # (network, customer) -> latest case id
    _load_cases(session, messages, msg_case, conv_case, cases, latest)
    events: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []
    opened: list[tuple[CaseState, StoredMessage]] = []  # new cases, under temporary ids < 0

    for msg in messages:
        case = _case_for(msg, msg_case, conv_case, cases, latest)
        if msg.direction == "out":
            if case is None:
                continue  # the brand's own post: no case
            if case.status == Status.NEW and msg.kind not in ("own_post", "acknowledgement"):
                events.append(_status_event(case, Status.OPEN, msg.created_at, "replied"))
        else:
            case = _inbound_case(msg, case, reopen_window, result, events, opened, cases)
            latest[(msg.network, msg.author_id)] = case.id
        msg_case[(msg.network, msg.external_id)] = case.id
        if msg.conversation_id:
            conv_case[(msg.network, msg.conversation_id)] = case.id
        case.message_count += 1
        case.dirty = True
        case.last_activity_at = max(case.last_activity_at, msg.created_at)
        assignments.append({"id": msg.id, "case_id": case.id})
        result.touched.add(case.id)

    real = _insert_new_cases(session, opened)
    _use_real_ids(real, assignments, events, result, opened)
    update_by_id(session, MESSAGES, assignments)
    result.case_of = {row["id"]: row["case_id"] for row in assignments}
    _flush_cases(session, {k: c for k, c in cases.items() if k > 0})
    write_events(session, events)
    return result


def _inbound_case(
    msg: StoredMessage,
    case: CaseState | None,
    reopen_window: timedelta,
    result: ThreadResult,
    events: list[dict[str, Any]],
    opened: list[tuple[CaseState, StoredMessage]],
    cases: dict[int, CaseState],
) -> CaseState:
    """The case a customer's message joins: its active case, its resolved case reopened
    within `reopen_window`, or a new case (under a temporary id < 0)."""
    if case is not None and case.status not in ACTIVE:
        recent = (
            case.status == Status.RESOLVED
            and case.resolved_at is not None
            and msg.created_at - case.resolved_at <= reopen_window
        )
        if recent:
            events.append(_status_event(case, Status.OPEN, msg.created_at, "reopened"))
            result.reopened.append(case.id)
        else:
            case = None
    if case is None:
        case = _new_case(msg, temp_id=-(len(opened) + 1))
        opened.append((case, msg))
        cases[case.id] = case
        events.append(event_row(case.id, "created", new=Status.NEW, at=msg.created_at))
    elif case.status == Status.WAITING_CUSTOMER:
        events.append(_status_event(case, Status.OPEN, msg.created_at, "customer replied"))
    return case


def _use_real_ids(
    real: dict[int, int],
    assignments: list[dict[str, Any]],
    events: list[dict[str, Any]],
    result: ThreadResult,
    opened: list[tuple[CaseState, StoredMessage]],
) -> None:
    """Replace the new cases' temporary ids by their inserted ids."""
    for row in assignments:
        row["case_id"] = real.get(row["case_id"], row["case_id"])
    for row in events:
        row["case_id"] = real.get(row["case_id"], row["case_id"])
    result.new_cases = [real[c.id] for c, _ in opened]
    result.touched = {real.get(c, c) for c in result.touched}


def _insert_new_cases(
    session: Session, opened: list[tuple[CaseState, StoredMessage]]
) -> dict[int, int]:
    """Insert the batch's new cases in one executemany; map temporary ids to real ones."""
    if not opened:
        return {}
    inserted = session.connection().execute(
        insert(CASES).returning(CASES.c.opening_message_id, CASES.c.id),
        [
            {
                "network": msg.network,
                "customer_id": msg.author_id,
                "account_id": msg.account_id,
                "status": case.status,
                "subject": " ".join(msg.text.split())[:SUBJECT_LEN],
                "created_at": msg.created_at,
                "last_activity_at": case.last_activity_at,
                "resolved_at": case.resolved_at,
                "message_count": case.message_count,
                "priority": 0.0,
                "priority_reasons": [],
                "opening_message_id": msg.id,
            }
            for case, msg in opened
        ],
    )
    temp_of = {msg.id: case.id for case, msg in opened}
    return {temp_of[opening]: case_id for opening, case_id in inserted}


def _flush_cases(session: Session, cases: dict[int, CaseState]) -> None:
    rows = [
        {
            "id": c.id,
            "status": c.status,
            "resolved_at": c.resolved_at,
            "last_activity_at": c.last_activity_at,
            "message_count": c.message_count,
        }
        for c in cases.values()
        if c.dirty
    ]
    update_by_id(session, CASES, rows)  # one executemany, keyed by primary key


def _case_for(
    msg: StoredMessage,
    msg_case: dict[tuple[str, str], int],
    conv_case: dict[tuple[str, str], int],
    cases: dict[int, CaseState],
    latest: dict[tuple[str, int], int],
) -> CaseState | None:
    if msg.direction == "out":
        # Ours follow the reply chain only: a post continuing our own thread is not a case.
        parent = msg_case.get((msg.network, msg.in_reply_to_id)) if msg.in_reply_to_id else None
        return cases[parent] if parent is not None else None
    linked: list[int | None] = []
    if msg.in_reply_to_id:
        linked.append(msg_case.get((msg.network, msg.in_reply_to_id)))
    if msg.conversation_id:
        linked.append(conv_case.get((msg.network, msg.conversation_id)))
    for case_id in linked:
        # A customer joins a thread's case only if it is theirs.
        if case_id is not None and cases[case_id].customer_id == msg.author_id:
            return cases[case_id]
    case_id = latest.get((msg.network, msg.author_id))
    return cases[case_id] if case_id is not None else None


def _status_event(case: CaseState, new: Status, at: datetime, reason: str) -> dict[str, Any]:
    old = case.status
    case.status = new
    if new != Status.RESOLVED:
        case.resolved_at = None
    case.dirty = True
    return event_row(case.id, "status", old=old, new=new, at=at, data={"reason": reason})


def _new_case(msg: StoredMessage, *, temp_id: int) -> CaseState:
    return CaseState(
        id=temp_id,
        customer_id=msg.author_id,
        network=msg.network,
        status=Status.NEW,
        resolved_at=None,
        last_activity_at=msg.created_at,
    )


def _known_message_cases(
    session: Session, messages: Sequence[StoredMessage]
) -> dict[tuple[str, str], int]:
    by_network: dict[str, set[str]] = {}
    for m in messages:
        if m.in_reply_to_id:
            by_network.setdefault(m.network, set()).add(m.in_reply_to_id)
    found: dict[tuple[str, str], int] = {}
    for network, ids in by_network.items():
        for part in chunks(sorted(ids)):
            stmt = select(Message.external_id, Message.case_id).where(
                Message.network == network,
                Message.external_id.in_(part),
                Message.case_id.is_not(None),
            )
            for ext, case_id in session.execute(stmt):
                found[(network, ext)] = case_id
    return found


def _known_conversation_cases(
    session: Session, messages: Sequence[StoredMessage]
) -> dict[tuple[str, str], int]:
    by_network: dict[str, set[str]] = {}
    for m in messages:
        if m.conversation_id:
            by_network.setdefault(m.network, set()).add(m.conversation_id)
    found: dict[tuple[str, str], int] = {}
    for network, ids in by_network.items():
        for part in chunks(sorted(ids)):
            stmt = (
                select(Message.conversation_id, func.max(Message.case_id))
                .where(
                    Message.network == network,
                    Message.conversation_id.in_(part),
                    Message.case_id.is_not(None),
                )
                .group_by(Message.conversation_id)
            )
            for conv, case_id in session.execute(stmt):
                found[(network, conv)] = case_id
    return found


def _load_cases(
    session: Session,
    messages: Sequence[StoredMessage],
    msg_case: dict[tuple[str, str], int],
    conv_case: dict[tuple[str, str], int],
    cases: dict[int, CaseState],
    latest: dict[tuple[str, int], int],
) -> None:
    customers = sorted({m.author_id for m in messages if m.direction == "in"})
    for part in chunks(customers):
        stmt = (
            select(Case.network, Case.customer_id, func.max(Case.id))
            # A case emptied by a merge is closed and holds nothing: never the one to join.
            .where(Case.customer_id.in_(part), Case.message_count > 0)
            .group_by(Case.network, Case.customer_id)
        )
        for network, customer, case_id in session.execute(stmt):
            latest[(network, customer)] = case_id
    wanted = set(msg_case.values()) | set(conv_case.values()) | set(latest.values())
    for part in chunks(sorted(wanted)):
        state = select(
            Case.id,
            Case.customer_id,
            Case.network,
            Case.status,
            Case.resolved_at,
            Case.last_activity_at,
            Case.message_count,
        ).where(Case.id.in_(part))
        for row in session.execute(state):
            cases[row.id] = CaseState(
                id=row.id,
                customer_id=row.customer_id,
                network=row.network,
                status=row.status,
                resolved_at=row.resolved_at,
                last_activity_at=row.last_activity_at,
                message_count=row.message_count,
            )
