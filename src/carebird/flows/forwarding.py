"""Handing a case to an outside owner (a supplier, a subcontractor): forward, revoke, answer.

The database writes come first, the customer's notice is queued, and the owner's e-mail goes
last: if it fails, the caller's transaction rolls back and no forward exists whose owner was
never told. Every step is announced to open inboxes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from carebird.cases import forwarding
from carebird.flows.announce import announce_cases
from carebird.flows.replies import queue_reply
from carebird.live.events import CaseUpdated, ForwardAnswered, ForwardNew
from carebird.mail import Mailer


@dataclass(slots=True)
class Forwarded:
    forward: forwarding.Forward
    link: str  # shown once (it is in the e-mail); only its digest is stored
    reply_id: int | None  # the notice queued for the customer, if any


def forward_case(
    session: Session,
    *,
    case_id: int,
    owner_id: int,
    note: str,
    due_hours: float,
    actor_id: int | None,
    mailer: Mailer,
    public_url: str,
    zone: str = "UTC",
    include_private: bool = False,
    tell_customer: bool = True,
) -> Forwarded:
    """Forward the case, tell the customer (unless asked not to), e-mail the owner."""
    done = forwarding.forward_case(
        session,
        case_id=case_id,
        owner_id=owner_id,
        note=note,
        due_hours=due_hours,
        actor_id=actor_id,
        public_url=public_url,
        zone=zone,
        include_private=include_private,
    )
    reply_id = None
    if tell_customer:
        text, private = forwarding.customer_notice(session, case_id)
        reply_id = queue_reply(
            session, case_id=case_id, text=text, private=private, agent_id=actor_id
        ).id
    announce_cases(session, [case_id], ForwardNew)
    to, subject, text = done.mail
    mailer.send(to=to, subject=subject, text=text)
    return Forwarded(forward=done.forward, link=done.link, reply_id=reply_id)


def revoke_forward(
    session: Session, *, forward_id: int, actor_id: int | None
) -> forwarding.Forward:
    done = forwarding.revoke_forward(session, forward_id=forward_id, actor_id=actor_id)
    announce_cases(session, [done.case_id], CaseUpdated)
    return done


def answer_forward(session: Session, *, token: str, text: str) -> forwarding.Forward:
    """The owner's answer through their link: a note on the case, which goes back to `open`;
    the agents' open pages learn it at once."""
    done = forwarding.answer_forward(session, token=token, text=text)
    announce_cases(session, [done.case_id], ForwardAnswered, {"forward_id": done.id})
    return done
