"""Changing a case: status, assignment, tags. Every change appends CaseEvent rows with its actor.

Each function works in the caller's transaction and raises before writing anything when the
change is refused, so a refused request leaves neither the case nor its log touched.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from carebird.auth.models import Agent, Team
from carebird.cases.assignment import auto_assign
from carebird.cases.log import event_row, record, write_events
from carebird.cases.models import Case, CaseTag
from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.cases.scoring import score_cases
from carebird.cases.states import Status, check_transition
from carebird.db.base import utcnow
from carebird.errors import InvalidInput, NotFound
from carebird.ingest.models import Message
from carebird.understand.labels import CATEGORIES
from carebird.understand.models_db import Label

MAX_TAG = 64


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    return case


def _id_text(value: int | None) -> str | None:
    return None if value is None else str(value)


def change_status(session: Session, *, case_id: int, status: str, actor_id: int | None) -> Case:
    case = _case(session, case_id)
    old = case.status
    new = check_transition(old, status)
    now = utcnow()
    if new == Status.RESOLVED:
        case.resolved_at = now
    elif new == Status.CLOSED:
        case.closed_at = now
    else:  # back to work (including a reopening): the case is neither resolved nor closed
        case.resolved_at = None
        case.closed_at = None
    case.status = str(new)
    data = {"reason": "reopened"} if old in (Status.RESOLVED, Status.CLOSED) else {}
    write_events(
        session,
        [event_row(case_id, "status", old=old, new=str(new), actor_id=actor_id, at=now, data=data)],
    )
    return case


def assign(
    session: Session,
    *,
    case_id: int,
    agent_id: int | None,
    team_id: int | None,
    actor_id: int | None,
) -> Case:
    """Set the case's assignee and team (None: nobody); log only what actually changed.

    A case moved to a team without an assignee is handed to one of its members when the team
    assigns automatically (carebird.cases.assignment)."""
    case = _case(session, case_id)
    if agent_id is not None:
        agent = session.get(Agent, agent_id)
        if agent is None or not agent.active:
            raise InvalidInput(f"agent {agent_id} does not exist or is inactive")
    if team_id is not None and session.get(Team, team_id) is None:
        raise InvalidInput(f"team {team_id} does not exist")
    now = utcnow()
    events: list[dict[str, Any]] = []
    if case.assignee_id != agent_id:
        old, case.assignee_id = case.assignee_id, agent_id
        events.append(
            event_row(
                case_id,
                "assigned",
                old=_id_text(old),
                new=_id_text(agent_id),
                actor_id=actor_id,
                at=now,
            )
        )
    moved = case.team_id != team_id
    if moved:
        old, case.team_id = case.team_id, team_id
        events.append(
            event_row(
                case_id, "team", old=_id_text(old), new=_id_text(team_id), actor_id=actor_id, at=now
            )
        )
    write_events(session, events)
    if moved:
        auto_assign(session, case)
    return case


def normalise_tag(raw: str) -> str:
    tag = raw.strip().lower()
    if not 1 <= len(tag) <= MAX_TAG:
        raise InvalidInput(f"a tag needs 1 to {MAX_TAG} characters: {raw[:80]!r}")
    if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in tag):
        raise InvalidInput(f"a tag cannot contain control characters: {raw[:80]!r}")
    return tag


def _normalised(tags: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(normalise_tag(t) for t in tags))


def case_tags(session: Session, case_id: int) -> list[str]:
    return list(
        session.scalars(select(CaseTag.tag).where(CaseTag.case_id == case_id).order_by(CaseTag.tag))
    )


def set_tags(
    session: Session,
    *,
    case_id: int,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    actor_id: int | None,
) -> list[str]:
    """Add and remove tags (normalised: trimmed, lower case); return the case's tags after."""
    to_add, to_remove = _normalised(add), _normalised(remove)
    both = set(to_add) & set(to_remove)
    if both:
        raise InvalidInput(f"a tag cannot be both added and removed: {sorted(both)}")
    _case(session, case_id)
    current = set(case_tags(session, case_id))
    added = [t for t in to_add if t not in current]
    removed = [t for t in to_remove if t in current]
    now = utcnow()
    if added:
        session.execute(insert(CaseTag), [{"case_id": case_id, "tag": t} for t in added])
    if removed:
        session.execute(delete(CaseTag).where(CaseTag.case_id == case_id, CaseTag.tag.in_(removed)))
    write_events(
        session,
        [event_row(case_id, "tag_added", new=t, actor_id=actor_id, at=now) for t in added]
        + [event_row(case_id, "tag_removed", old=t, actor_id=actor_id, at=now) for t in removed],
    )
    return sorted((current | set(added)) - set(removed))


def update_case(
    session: Session,
    *,
    case_id: int,
    changes: dict[str, Any],
    actor_id: int | None,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> Case:
    """Apply a partial update (the keys present in `changes`) as one unit of work.

    Keys: status, assignee_id, team_id, tags_add, tags_remove, category. Absent keys stay;
    a key present with None clears the assignee or team.
    """
    unknown = set(changes) - {
        "status",
        "assignee_id",
        "team_id",
        "tags_add",
        "tags_remove",
        "category",
    }
    if unknown:
        raise InvalidInput(f"unknown fields: {sorted(unknown)}")
    case = _case(session, case_id)
    if changes.get("category") is not None:
        correct_category(
            session,
            case_id=case_id,
            category=changes["category"],
            actor_id=actor_id,
            weights=weights,
        )
    if changes.get("status") is not None:
        change_status(session, case_id=case_id, status=changes["status"], actor_id=actor_id)
    if "assignee_id" in changes or "team_id" in changes:
        assign(
            session,
            case_id=case_id,
            agent_id=changes.get("assignee_id", case.assignee_id),
            team_id=changes.get("team_id", case.team_id),
            actor_id=actor_id,
        )
    if changes.get("tags_add") or changes.get("tags_remove"):
        set_tags(
            session,
            case_id=case_id,
            add=changes.get("tags_add") or (),
            remove=changes.get("tags_remove") or (),
            actor_id=actor_id,
        )
    return case


def correct_category(
    session: Session,
    *,
    case_id: int,
    category: str,
    actor_id: int | None,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> Case:
    """An agent's category (``other`` = not a support request), kept as a training label.

    The label goes on the customer messages that carried the case's previous category (the
    ones the model got wrong), or on the first customer message when none did.
    """
    if category not in CATEGORIES:
        raise InvalidInput(f"unknown category {category!r}: {', '.join(CATEGORIES)}")
    case = _case(session, case_id)
    old = case.category
    inbound = session.execute(
        select(Message.id, Message.category)
        .where(Message.case_id == case_id, Message.direction == "in")
        .order_by(Message.created_at, Message.id)
    ).all()
    targets = [m.id for m in inbound if m.category == old] or [m.id for m in inbound[:1]]
    for message_id in targets:
        session.add(
            Label(message_id=message_id, task="category", label=category, agent_id=actor_id)
        )
    case.category, case.category_source = category, "agent"
    record(session, case_id, "category", old=old, new=category, actor_id=actor_id)
    score_cases(session, [case_id], weights=weights)
    return case
