"""Incidents found as messages arrive: after a batch is threaded, its new inbound messages go
through the burst detector (carebird.cases.bursts) beside the desk's recent ones; a burst opens
an incident with the cases of its messages, and a later message about the same cause puts its
case in the open incident.

One detector at a time, cluster-wide: on PostgreSQL a transaction-scoped advisory lock (held
until the batch commits, so the next detector reads the incident the first one made); on
SQLite the batch already holds the single write lock. Two workers therefore never open two
incidents for one burst, and the link's primary key attaches a case once whatever happens.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from carebird.cases.bursts import Burst, Detector, Post, Settings
from carebird.cases.incidents import OPEN, Incident, IncidentCase, create_incident, link_cases
from carebird.ingest.models import Author, Message

# pg_advisory_xact_lock key of the detector: "cb-incid" read as a big-endian 63-bit integer.
LOCK_KEY = int.from_bytes(b"cb-incid", "big") & 0x7FFF_FFFF_FFFF_FFFF
# What a burst is made of: customers asking for help or complaining (never chatter or praise).
CATEGORIES = ("complaint", "question", "assistance")
HISTORY_ROWS = 3000  # the most recent messages read as the baseline, at most


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def _posts(
    session: Session,
    where: Sequence[object],
    limit: int | None = None,
    cases: dict[int, int | None] | None = None,
) -> list[Post]:
    """The inbound messages `where` says, oldest first; their cases noted in `cases`."""
    query = (
        select(
            Message.id,
            Message.case_id,
            Author.external_id,
            Message.created_at,
            Message.text,
            IncidentCase.incident_id,
        )
        .join(Author, Author.id == Message.author_id)
        .outerjoin(IncidentCase, IncidentCase.case_id == Message.case_id)
        .where(
            Message.direction == "in",
            Message.case_id.is_not(None),
            Message.category.in_(CATEGORIES),
            *where,  # type: ignore[arg-type]
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    if cases is not None:
        cases.update((i, c) for i, c, *_ in rows)
    return [Post(i, a, at, t, g) for i, _, a, at, t, g in reversed(rows)]


def detect_incidents(
    session: Session, message_ids: Sequence[int], *, settings: Settings | None = None
) -> list[int]:
    """Put the cases of these new messages in incidents (opening one for a burst). Returns the
    ids of the incidents that opened or grew."""
    settings = settings or Settings()
    cases: dict[int, int | None] = {}  # message id -> case id, read with the posts
    fresh = _posts(session, [Message.id.in_(message_ids)], cases=cases) if message_ids else []
    if not fresh:
        return []
    _lock(session)
    start = fresh[0].at
    history = _posts(
        session,
        [Message.created_at >= start - settings.baseline, Message.id.not_in(message_ids)],
        HISTORY_ROWS,
        cases,
    )
    since = start - settings.join_window - timedelta(minutes=1)
    open_ = session.scalars(
        select(Incident).where(Incident.status == OPEN, Incident.last_at >= since)
    ).all()
    detector = Detector(
        settings, [Burst(i.id, list(i.signature or []), i.last_at) for i in open_ if i.signature]
    )
    merged = sorted(history + fresh, key=lambda p: (p.at, str(p.key)))
    new_keys = {p.key for p in fresh}
    detector.remember_all(p for p in merged if p.key not in new_keys)
    return _apply(session, detector, fresh, cases)


def _apply(
    session: Session, detector: Detector, fresh: list[Post], cases: dict[int, int | None]
) -> list[int]:
    touched: list[int] = []
    for post in fresh:
        decision = detector.feed(post)
        if decision is None:
            continue
        burst = decision.burst
        if decision.new:
            ids = [_id(p.key) for p in [*decision.joined, post]]
            case_ids = _case_ids(session, ids, cases)
            free = set(case_ids) - set(
                session.scalars(
                    select(IncidentCase.case_id).where(IncidentCase.case_id.in_(case_ids))
                )
            )
            if len(free) < 2:  # one customer's cases, or already in incidents: no new one
                detector.bursts.remove(burst)
                for p in [*decision.joined, post]:
                    p.group = None
                continue
            incident = create_incident(
                session,
                title=burst.title,
                case_ids=sorted(free),
                actor_id=None,
                signature=burst.signature,
            )
            burst.key = incident.id
            for p in [*decision.joined, post]:
                p.group = incident.id
            touched.append(incident.id)
        else:
            incident_id = int(str(burst.key))
            case_ids = _case_ids(session, [_id(post.key)], cases)
            if link_cases(session, incident_id, case_ids, actor_id=None):
                found = session.get(Incident, incident_id)
                if found is not None:
                    found.last_at = max(found.last_at, post.at)
                touched.append(incident_id)
    return sorted(set(touched))


def _id(key: object) -> int:
    return int(str(key))


def _case_ids(session: Session, message_ids: list[int], known: dict[int, int | None]) -> list[int]:
    missing = [m for m in message_ids if known.get(m) is None]
    if missing:
        known.update(
            session.execute(select(Message.id, Message.case_id).where(Message.id.in_(missing)))
            .tuples()
            .all()
        )
    return sorted({c for m in message_ids if (c := known.get(m)) is not None})
