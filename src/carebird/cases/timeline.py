"""A case's timeline: messages, notes, forwards and logged events in time order.

Each item has a stable `kind` (what a page translates or styles) and a `label` in the reader's
language. Events that only announce a note or a forward are left out (the note or the forward is
itself an item), and the events of cases merged into this one are included, marked with the
case they happened on: merging moves content, never rewrites the append-only log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from carebird.auth.models import Agent
from carebird.cases.forwarding import Forward, OutsideOwner, forward_state
from carebird.cases.merging import merged_from
from carebird.cases.models import Case, CaseEvent
from carebird.cases.notes import list_notes
from carebird.cases.queries import shown_text
from carebird.db.base import utcnow
from carebird.errors import NotFound
from carebird.i18n import DEFAULT_LOCALE, LOCALES, N_, gettext
from carebird.ingest.models import Author, Message

SHOWN_ELSEWHERE = frozenset({"note", "forwarded", "forward_answered"})
_RANK = {"message": 0, "note": 1, "forward": 2, "event": 3}

# kind → msgid (English) in the pages' gettext catalogues, translated in the reader's locale
LABELS: dict[str, str] = {
    "message.in.public": N_("Customer's public message"),
    "message.in.private": N_("Customer's private message"),
    "message.out.public": N_("Public reply"),
    "message.out.private": N_("Private reply"),
    "message.out.acknowledgement": N_("Automatic acknowledgement"),
    "message.out.survey": N_("Satisfaction survey"),
    "note": N_("Internal note"),
    "note.outside": N_("Outside owner's answer"),
    "forward": N_("Forwarded to an outside owner"),
    "event.created": N_("Case created"),
    "event.status": N_("Status changed"),
    "event.assigned": N_("Assigned"),
    "event.team": N_("Team changed"),
    "event.tag_added": N_("Tag added"),
    "event.tag_removed": N_("Tag removed"),
    "event.category": N_("Category corrected"),
    "event.reply_queued": N_("Reply queued"),
    "event.reply_sent": N_("Reply sent"),
    "event.reply_error": N_("Sending failed (will retry)"),
    "event.reply_failed": N_("Sending given up"),
    "event.acknowledged": N_("Acknowledgement sent"),
    "event.acknowledgement_skipped": N_("No automatic acknowledgement"),
    "event.survey_sent": N_("Satisfaction survey sent"),
    "event.survey_answered": N_("Satisfaction survey answered"),
    "event.survey_skipped": N_("No satisfaction survey"),
    "event.merged": N_("Case merged here"),
    "event.merged_into": N_("Merged into another case"),
    "event.split_from": N_("Split from another case"),
    "event.split_into": N_("Messages split into a new case"),
    "event.forward_revoked": N_("Forward cancelled"),
    "event.routed": N_("Routed by a rule"),
    "event.priority_boost": N_("Priority boosted by a rule"),
    "event.sla_warning": N_("Answer deadline near (80 %)"),
    "event.sla_breached": N_("Answer deadline missed"),
    "event": N_("Event"),
}


def label(kind: str, locale: str) -> str:
    return gettext(
        locale if locale in LOCALES else DEFAULT_LOCALE, LABELS.get(kind) or LABELS["event"]
    )


@dataclass(slots=True)
class TimelineItem:
    at: datetime
    kind: str
    label: str
    source: str  # message | note | forward | event
    ref_id: int  # the message's, note's, forward's or event's id
    case_id: int  # differs from the case asked for on events of a merged case
    actor_id: int | None = None
    actor_name: str | None = None  # the agent, the customer's handle, the outside owner
    text: str | None = None
    old: str | None = None
    new: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def timeline(session: Session, *, case_id: int, locale: str = "fr") -> list[TimelineItem]:
    if session.get(Case, case_id) is None:
        raise NotFound(f"case {case_id} not found")
    items = _messages(session, case_id) + _notes(session, case_id) + _forwards(session, case_id)
    items += _events(session, case_id, merged_from(session, case_id))
    for it in items:
        it.label = label(it.kind, locale)
    items.sort(key=lambda it: (it.at, _RANK[it.source], it.ref_id))
    return items


def _messages(session: Session, case_id: int) -> list[TimelineItem]:
    stmt = (
        select(Message, Author.handle)
        .join(Author, Author.id == Message.author_id)
        .where(Message.case_id == case_id)
    )
    return [
        TimelineItem(
            at=m.created_at,
            kind=_message_kind(m),
            label="",
            source="message",
            ref_id=m.id,
            case_id=case_id,
            actor_name=handle,
            text=shown_text(m),
            data={"network": m.network, "external_id": m.external_id},
        )
        for m, handle in session.execute(stmt)
    ]


def _message_kind(m: Message) -> str:
    if m.kind == "acknowledgement":  # the desk's automatic "bien reçu", not an answer
        return "message.out.acknowledgement"
    if m.kind == "survey":  # the satisfaction survey after a resolution, not an answer
        return "message.out.survey"
    return f"message.{m.direction}.{'private' if m.is_private else 'public'}"


def _notes(session: Session, case_id: int) -> list[TimelineItem]:
    return [
        TimelineItem(
            at=n.created_at,
            kind="note.outside" if n.forward_id else "note",
            label="",
            source="note",
            ref_id=n.id,
            case_id=case_id,
            actor_id=n.agent_id,
            actor_name=n.author_name,
            text=n.body,
            data={"forward_id": n.forward_id} if n.forward_id else {},
        )
        for n in list_notes(session, case_id=case_id)
    ]


def _forwards(session: Session, case_id: int) -> list[TimelineItem]:
    now = utcnow()
    stmt = (
        select(Forward, OutsideOwner, Agent.name)
        .join(OutsideOwner, OutsideOwner.id == Forward.owner_id)
        .outerjoin(Agent, Agent.id == Forward.created_by)
        .where(Forward.case_id == case_id)
    )
    return [
        TimelineItem(
            at=fw.created_at,
            kind="forward",
            label="",
            source="forward",
            ref_id=fw.id,
            case_id=case_id,
            actor_id=fw.created_by,
            actor_name=agent_name,
            text=fw.note,
            data={
                "owner_id": owner.id,
                "owner": owner.name,
                "organisation": owner.organisation,
                "state": forward_state(fw, now),
                "due_at": fw.due_at.isoformat(),
                "expires_at": fw.expires_at.isoformat(),
                "answered_at": fw.answered_at.isoformat() if fw.answered_at else None,
            },
        )
        for fw, owner, agent_name in session.execute(stmt)
    ]


def _events(session: Session, case_id: int, merged: dict[int, int]) -> list[TimelineItem]:
    """The case's events and, for each case merged into it, that case's events before the merge
    (what came after — its closing — belongs to the merged case alone)."""
    actor = aliased(Agent)
    whose = or_(
        CaseEvent.case_id == case_id,
        *(and_(CaseEvent.case_id == c, CaseEvent.id < cut) for c, cut in merged.items()),
    )
    stmt = (
        select(CaseEvent, actor.name)
        .outerjoin(actor, actor.id == CaseEvent.actor_id)
        .where(whose, CaseEvent.kind.not_in(SHOWN_ELSEWHERE))
    )
    return [
        TimelineItem(
            at=e.at,
            kind=f"event.{e.kind}",
            label="",
            source="event",
            ref_id=e.id,
            case_id=e.case_id,
            actor_id=e.actor_id,
            actor_name=name,
            old=e.old,
            new=e.new,
            data=e.data or {},
        )
        for e, name in session.execute(stmt)
    ]
