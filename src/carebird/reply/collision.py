"""Never step on a colleague's reply: refuse a send composed before someone else answered.

The composer remembers the newest message of the case it had on screen (`seen_message_id`).
If, since then, another agent's reply was posted or queued, or the brand answered from the
network's own app, sending is refused with `StaleComposer` until the agent has seen it (sends
again with the newer `seen_message_id`). A reply still in the outbox blocks until it is posted
(or fails), since the colleague's answer is on its way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from carebird.auth.models import Agent
from carebird.errors import Conflict, NotFound
from carebird.ingest.models import Message
from carebird.reply.models import OutboxItem


@dataclass(frozen=True, slots=True)
class OtherReply:
    agent_id: int | None  # None: the brand's app, not the desk
    agent_name: str | None
    message_id: int | None  # None: still in the outbox
    outbox_id: int | None
    private: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
            "message_id": self.message_id,
            "outbox_id": self.outbox_id,
            "private": self.private,
        }


class StaleComposer(Conflict):
    """Someone else replied on the case after what the composer had seen."""

    def __init__(self, replies: list[OtherReply], latest_message_id: int | None) -> None:
        who = sorted({r.agent_name or "the brand's app" for r in replies})
        super().__init__(
            f"{', '.join(who)} replied on this case since you opened the composer: "
            "read the conversation again before sending"
        )
        self.replies = replies
        self.latest_message_id = latest_message_id


def latest_message_id(session: Session, case_id: int) -> int | None:
    return session.scalar(select(func.max(Message.id)).where(Message.case_id == case_id))


def others_replies(
    session: Session, *, case_id: int, agent_id: int, seen_message_id: int
) -> list[OtherReply]:
    """Replies on the case by anyone but `agent_id` that the composer had not seen."""
    seen = session.get(Message, seen_message_id)
    if seen is None or seen.case_id != case_id:
        raise NotFound(f"message {seen_message_id} is not in case {case_id}")
    posted = session.execute(
        select(Message.id, Message.is_private, OutboxItem.created_by, Agent.name)
        .outerjoin(
            OutboxItem,
            and_(
                OutboxItem.network == Message.network,
                OutboxItem.external_id == Message.external_id,
            ),
        )
        .outerjoin(Agent, Agent.id == OutboxItem.created_by)
        .where(
            Message.case_id == case_id,
            Message.direction == "out",
            Message.kind != "acknowledgement",  # the desk's automatic "bien reçu"
            Message.id > seen_message_id,
        )
        .order_by(Message.id)
    ).all()
    found = [
        OtherReply(by, name, mid, None, private)
        for mid, private, by, name in posted
        if by is None or by != agent_id
    ]
    queued = session.execute(
        select(OutboxItem.id, OutboxItem.private, OutboxItem.created_by, Agent.name)
        .outerjoin(Agent, Agent.id == OutboxItem.created_by)
        .where(
            OutboxItem.case_id == case_id,
            OutboxItem.status.in_(("pending", "sending")),
            OutboxItem.created_at > seen.ingested_at,
            OutboxItem.created_by.is_distinct_from(agent_id),
            OutboxItem.purpose != "acknowledgement",
        )
        .order_by(OutboxItem.id)
    ).all()
    found += [OtherReply(by, name, None, oid, private) for oid, private, by, name in queued]
    return found


def check_reply_allowed(
    session: Session, *, case_id: int, agent_id: int, seen_message_id: int | None
) -> None:
    """Raise StaleComposer when another reply came after `seen_message_id` (None: no check)."""
    if seen_message_id is None:
        return  # an integration that does not compose on screen
    found = others_replies(
        session, case_id=case_id, agent_id=agent_id, seen_message_id=seen_message_id
    )
    if found:
        raise StaleComposer(found, latest_message_id(session, case_id))
