"""Who is on a case, told to the other agents' pages: heartbeat, leave, expiry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from carebird.cases import presence
from carebird.db.base import utcnow
from carebird.live.events import PresenceChanged, publish


def _announce(session: Session, case_ids: set[int] | list[int], now: datetime) -> None:
    publish(
        session,
        *(
            PresenceChanged(presence.presence_payload(session, case_id, now), case_id)
            for case_id in sorted(case_ids)
        ),
    )


def heartbeat(
    session: Session, *, case_id: int, agent_id: int, state: str, now: datetime | None = None
) -> list[presence.PresenceEntry]:
    """The agent is on the case (`viewing` or `typing`); who else is. A change is announced."""
    now = now or utcnow()
    beat = presence.heartbeat(session, case_id=case_id, agent_id=agent_id, state=state, now=now)
    if beat.changed:
        _announce(session, [case_id], now)
    return beat.others


def leave(session: Session, *, case_id: int, agent_id: int, now: datetime | None = None) -> None:
    if presence.leave(session, case_id=case_id, agent_id=agent_id):
        _announce(session, [case_id], now or utcnow())


def expire_presence(session: Session, *, now: datetime | None = None) -> set[int]:
    """Drop marks past their TTL and tell those cases' pages (run every ~10 s)."""
    now = now or utcnow()
    cases = presence.expire_presence(session, now=now)
    _announce(session, cases, now)
    return cases
