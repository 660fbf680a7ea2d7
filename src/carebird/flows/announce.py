"""What open inboxes are told after a change: the inbox row's moving parts for each case.

The flows call these after the service call and the search indexing, in the same transaction,
so an event exists exactly when the change it describes is committed (see carebird.live.events).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebird.cases.models import Case
from carebird.ingest.models import Message
from carebird.ingest.store import chunks
from carebird.live.events import Announcement, CasePriority, CaseUpdated, publish


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def case_payloads(session: Session, case_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The inbox row's moving parts for each case, plus its newest message id (read in parts:
    a first deadline pass may announce more cases than a statement takes)."""
    out: dict[int, dict[str, Any]] = {}
    for part in chunks(sorted(set(case_ids))):
        out.update(_payloads(session, part))
    return out


def _payloads(session: Session, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    newest: dict[int, int] = {
        case_id: message_id
        for case_id, message_id in session.execute(
            select(Message.case_id, func.max(Message.id))
            .where(Message.case_id.in_(ids))
            .group_by(Message.case_id)
        ).tuples()
        if case_id is not None
    }
    out: dict[int, dict[str, Any]] = {}
    for c in session.execute(
        select(
            Case.id,
            Case.status,
            Case.priority,
            Case.category,
            Case.network,
            Case.account_id,
            Case.assignee_id,
            Case.team_id,
            Case.last_activity_at,
        ).where(Case.id.in_(ids))
    ):
        out[c.id] = {
            "case_id": c.id,
            "status": c.status,
            "priority": c.priority,
            "category": c.category,
            "network": c.network,
            "account_id": c.account_id,
            "assignee_id": c.assignee_id,
            "team_id": c.team_id,
            "last_activity_at": _iso(c.last_activity_at),
            "message_id": newest.get(c.id),
        }
    return out


def announce_cases(
    session: Session,
    case_ids: Iterable[int],
    kind: type[Announcement] = CaseUpdated,
    extra: dict[str, Any] | None = None,
) -> None:
    """One `kind` event per case (in id order) with the case's inbox row and `extra`.

    A case that no longer exists (merged away, deleted) still gets an event naming it, so an
    open page drops it."""
    ids = sorted(set(case_ids))
    payloads = case_payloads(session, ids)
    publish(
        session,
        *(
            kind({**payloads.get(case_id, {"case_id": case_id}), **(extra or {})}, case_id)
            for case_id in ids
        ),
    )


def announce_rescored(session: Session, count: int) -> None:
    """After the periodic re-scoring: one event (not one per case) so inboxes re-fetch; none
    when nothing was re-scored."""
    if count:
        publish(session, CasePriority({"rescored": count}))
