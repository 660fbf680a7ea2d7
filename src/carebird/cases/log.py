"""Writing the append-only case event log (the source of timelines, audit and metrics)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from carebird.cases.models import CaseEvent
from carebird.db.base import utcnow

EVENTS: Table = CaseEvent.__table__  # type: ignore[assignment]


def event_row(
    case_id: int,
    kind: str,
    *,
    old: str | None = None,
    new: str | None = None,
    actor_id: int | None = None,
    at: datetime | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "kind": kind,
        "old": old,
        "new": new,
        "actor_id": actor_id,
        "at": at or utcnow(),
        "data": data or {},
    }


def write_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append `rows` (from `event_row`: all the same keys) in one Core executemany."""
    if rows:
        session.flush()  # what the ORM's insert did first: pending cases and agents exist
        session.connection().execute(insert(EVENTS), rows)


def record(session: Session, case_id: int, kind: str, **kwargs: Any) -> None:
    write_events(session, [event_row(case_id, kind, **kwargs)])
