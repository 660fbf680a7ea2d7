"""What an outside owner sees through their link: one case, personal data masked.

Public messages are shown with phone numbers, e-mails, references… masked (the owner needs the
problem, not the customer's details). Private messages were written to the desk alone: they
are left out unless the agent chose to include them, and then shown as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.auth.models import Agent
from carebird.cases.forwarding import Forward, OutsideOwner, live_forward
from carebird.cases.models import Case
from carebird.ingest.models import Author, Message
from carebird.understand.pii import find_personal_data, mask


@dataclass(slots=True)
class OutsideMessage:
    direction: str  # in: the customer, out: the desk
    is_private: bool
    text: str
    created_at: datetime


@dataclass(slots=True)
class OutsideView:
    forward_id: int
    case_id: int
    language: str  # the owner's
    owner_name: str
    agent_name: str
    note: str
    network: str
    customer_handle: str
    due_at: datetime
    expires_at: datetime
    messages: list[OutsideMessage] = field(default_factory=list)
    private_hidden: int = 0  # private messages left out


def masked(text: str) -> str:
    return mask(text, find_personal_data(text))


def outside_view(session: Session, *, token: str, now: datetime | None = None) -> OutsideView:
    """The case behind a live link (LinkRefused otherwise); only that case, nothing else."""
    fw: Forward = live_forward(session, token=token, now=now)
    owner = session.get(OutsideOwner, fw.owner_id)
    case = session.get(Case, fw.case_id)
    assert owner is not None and case is not None
    customer = session.get(Author, case.customer_id)
    agent = session.get(Agent, fw.created_by) if fw.created_by is not None else None
    view = OutsideView(
        forward_id=fw.id,
        case_id=case.id,
        language=owner.language,
        owner_name=owner.name,
        agent_name=agent.name if agent else "",
        note=fw.note,
        network=case.network,
        customer_handle=customer.handle if customer else "",
        due_at=fw.due_at,
        expires_at=fw.expires_at,
    )
    rows = session.execute(
        select(Message.direction, Message.is_private, Message.text, Message.created_at)
        .where(Message.case_id == case.id)
        .order_by(Message.created_at, Message.id)
    )
    for direction, is_private, text, created_at in rows:
        if is_private and not fw.include_private:
            view.private_hidden += 1
            continue
        shown = text if is_private else masked(text)
        view.messages.append(OutsideMessage(direction, is_private, shown, created_at))
    return view
