"""Merging two cases into one, and splitting messages off into a new case.

Merge B into A: B's messages, notes, forwards, queued replies and tags move to A; B is closed
(through the state machine) with a `merged_into` event and A gets a `merged` event. The event
log itself stays append-only: B's events remain B's, and A's timeline reads them through the
merge (see carebird.cases.timeline). Split: chosen messages go to a new case of the customer
who wrote them, with events on both cases.

Case times stay facts of their messages (created_at = first customer message, last activity =
latest message) and are recomputed after each move; first-response and resolution metrics
(carebird.insights.metrics) derive from messages and status events, so they follow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from carebird.auth.models import Agent
from carebird.auth.roles import require
from carebird.cases.forwarding import Forward
from carebird.cases.log import event_row, write_events
from carebird.cases.models import Case, CaseEvent, CaseTag
from carebird.cases.notes import CaseNote
from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.cases.scoring import score_cases
from carebird.cases.service import change_status
from carebird.cases.states import Status
from carebird.cases.threading import SUBJECT_LEN
from carebird.db.base import utcnow
from carebird.errors import Conflict, InvalidInput, NotFound
from carebird.ingest.models import Message

MAX_SPLIT = 1000


def _utc(value: datetime | str | None) -> datetime | None:
    """Aggregates may bypass the column type (SQLite text, naive PostgreSQL values)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _locked(session: Session, *case_ids: int) -> dict[int, Case]:
    """Lock the cases in id order (two merges in opposite directions cannot deadlock)."""
    found: dict[int, Case] = {}
    for case_id in sorted(set(case_ids)):
        case = session.get(Case, case_id, with_for_update=True)
        if case is None:
            raise NotFound(f"case {case_id} not found")
        found[case_id] = case
    return found


def merged_into(session: Session, case_id: int) -> int | None:
    """The case this one was merged into, if it was."""
    target = session.scalar(
        select(CaseEvent.new).where(CaseEvent.case_id == case_id, CaseEvent.kind == "merged_into")
    )
    return int(target) if target is not None else None


def merged_from(session: Session, case_id: int) -> dict[int, int]:
    """Every case merged into this one, directly or through earlier merges, each with the id
    of its `merged_into` event (its own log up to there is part of this case's history)."""
    found: dict[int, int] = {}
    todo = [case_id]
    while todo:
        sources = [
            int(new)
            for new in session.scalars(
                select(CaseEvent.new).where(CaseEvent.case_id.in_(todo), CaseEvent.kind == "merged")
            )
            if new is not None and int(new) not in found
        ]
        cutoffs = session.execute(
            select(CaseEvent.case_id, CaseEvent.id).where(
                CaseEvent.case_id.in_(sources), CaseEvent.kind == "merged_into"
            )
        )
        found.update({c: event_id for c, event_id in cutoffs})
        todo = sources
    return found


def recount(session: Session, case: Case) -> None:
    """Set the case's times and message count from the messages it now holds."""
    count, first, last = session.execute(
        select(func.count(), func.min(Message.created_at), func.max(Message.created_at)).where(
            Message.case_id == case.id
        )
    ).one()
    first_in = session.scalar(
        select(func.min(Message.created_at)).where(
            Message.case_id == case.id, Message.direction == "in"
        )
    )
    case.message_count = count
    start = _utc(first_in) or _utc(first)
    if start is not None:
        case.created_at = start
    if last is not None:
        case.last_activity_at = _utc(last)  # type: ignore[assignment]


def _close(session: Session, case: Case, actor_id: int | None) -> None:
    """Close through the allowed transitions (an open case is resolved first)."""
    if case.status == Status.CLOSED:
        return
    if case.status not in (Status.NEW, Status.RESOLVED):
        change_status(session, case_id=case.id, status=Status.RESOLVED, actor_id=actor_id)
    change_status(session, case_id=case.id, status=Status.CLOSED, actor_id=actor_id)


def merge_cases(
    session: Session,
    *,
    case_id: int,
    other_id: int,
    actor: Agent,
    force: bool = False,
    also_move: Sequence[type[Any]] = (),
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> Case:
    """Merge case `other_id` into case `case_id` and return the merged case.

    The messages, notes, forwards and tags follow; so do the rows of `also_move` (tables of
    later stages with a `case_id`, e.g. the outbox: the flow names them).

    Cases of different customers merge only when a supervisor forces it; cases on different
    networks never do (a reply goes out on one network).
    """
    if case_id == other_id:
        raise InvalidInput("a case cannot be merged into itself")
    cases = _locked(session, case_id, other_id)
    target, source = cases[case_id], cases[other_id]
    for case in (target, source):
        into = merged_into(session, case.id)
        if into is not None:
            raise Conflict(f"case {case.id} was already merged into case {into}")
    if target.network != source.network:
        raise InvalidInput("cases on different networks cannot be merged")
    if target.customer_id != source.customer_id:
        if not force:
            raise Conflict(
                "these cases belong to different customers; a supervisor can force the merge"
            )
        require(actor, "supervisor")
    now = utcnow()
    moved = (
        session.scalar(
            select(func.count()).select_from(Message).where(Message.case_id == source.id)
        )
        or 0
    )
    session.execute(
        update(Message)
        .where(Message.case_id == source.id)
        .values(case_id=target.id)
        .execution_options(synchronize_session=False)
    )
    followers: tuple[type[Any], ...] = (CaseNote, Forward, *also_move)
    for model in followers:
        session.execute(
            update(model)
            .where(model.case_id == source.id)
            .values(case_id=target.id)
            .execution_options(synchronize_session=False)
        )
    data = {"messages": moved, "forced": target.customer_id != source.customer_id}
    # Written before anything else done to B: A's timeline shows B's events before this one.
    write_events(
        session,
        [
            event_row(
                target.id,
                "merged",
                new=str(source.id),
                actor_id=actor.id,
                at=now,
                data={"from_case": source.id, **data},
            ),
            event_row(
                source.id,
                "merged_into",
                new=str(target.id),
                actor_id=actor.id,
                at=now,
                data={"into_case": target.id, **data},
            ),
        ],
    )
    write_events(session, _move_tags(session, source.id, target.id, actor.id, now))
    recount(session, target)
    source.message_count = 0
    _close(session, source, actor.id)
    session.flush()
    score_cases(session, [target.id, source.id], weights=weights)
    session.expire(source)  # scoring wrote past the ORM objects
    session.refresh(target)
    return target


def _move_tags(
    session: Session, source_id: int, target_id: int, actor_id: int, now: datetime
) -> list[dict[str, object]]:
    tags = set(session.scalars(select(CaseTag.tag).where(CaseTag.case_id == source_id)))
    have = set(session.scalars(select(CaseTag.tag).where(CaseTag.case_id == target_id)))
    new = sorted(tags - have)
    if new:
        session.execute(insert(CaseTag), [{"case_id": target_id, "tag": t} for t in new])
    if tags:
        session.execute(delete(CaseTag).where(CaseTag.case_id == source_id))
    merged = {"from_case": source_id}
    return [
        event_row(target_id, "tag_added", new=t, actor_id=actor_id, at=now, data=merged)
        for t in new
    ] + [
        event_row(source_id, "tag_removed", old=t, actor_id=actor_id, at=now, data=merged)
        for t in sorted(tags)
    ]


def split_case(
    session: Session,
    *,
    case_id: int,
    message_ids: Sequence[int],
    actor_id: int | None,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> Case:
    """Move the chosen messages into a new case of the customer who wrote them; return it.

    Both cases must keep a customer message (a case starts with one).
    """
    wanted = sorted(set(message_ids))
    if not wanted:
        raise InvalidInput("choose at least one message to split off")
    if len(wanted) > MAX_SPLIT:
        raise InvalidInput(f"at most {MAX_SPLIT} messages at once")
    source = _locked(session, case_id)[case_id]
    if merged_into(session, case_id) is not None:
        raise Conflict(f"case {case_id} was merged into another case")
    rows = session.execute(
        select(Message.id, Message.direction, Message.kind, Message.author_id, Message.text)
        .where(Message.case_id == case_id)
        .order_by(Message.created_at, Message.id)
    ).all()
    mine = {r.id for r in rows}
    strangers = [m for m in wanted if m not in mine]
    if strangers:
        raise InvalidInput(f"messages not in case {case_id}: {strangers[:20]}")
    chosen = [r for r in rows if r.id in set(wanted)]
    rest = [r for r in rows if r.id not in set(wanted)]
    first_in = next((r for r in chosen if r.direction == "in"), None)
    if first_in is None or not any(r.direction == "in" for r in rest):
        raise InvalidInput("each case must keep at least one customer message")
    now = utcnow()
    replied = any(r.direction == "out" and r.kind != "acknowledgement" for r in chosen)
    new = Case(
        network=source.network,
        customer_id=first_in.author_id,
        account_id=source.account_id,
        status=str(Status.OPEN if replied else Status.NEW),
        category=source.category,
        category_source=source.category_source,
        assignee_id=source.assignee_id,
        team_id=source.team_id,
        subject=" ".join(first_in.text.split())[:SUBJECT_LEN],
        created_at=now,
        last_activity_at=now,
        priority=0.0,
        priority_reasons=[],
    )
    session.add(new)
    session.flush()
    session.execute(
        update(Message)
        .where(Message.id.in_(wanted), Message.case_id == case_id)
        .values(case_id=new.id)
        .execution_options(synchronize_session=False)
    )
    recount(session, new)
    recount(session, source)
    data = {"messages": wanted}
    write_events(
        session,
        [
            event_row(new.id, "created", new=new.status, actor_id=actor_id, at=now),
            event_row(
                new.id,
                "split_from",
                new=str(case_id),
                actor_id=actor_id,
                at=now,
                data={"from_case": case_id, **data},
            ),
            event_row(
                case_id,
                "split_into",
                new=str(new.id),
                actor_id=actor_id,
                at=now,
                data={"into_case": new.id, **data},
            ),
        ],
    )
    session.flush()
    score_cases(session, [case_id, new.id], weights=weights)
    session.expire(source)  # scoring wrote past the ORM objects
    session.refresh(new)
    return new
