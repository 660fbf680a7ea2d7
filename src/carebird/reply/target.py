"""Whom a reply answers: the case's latest customer message (on the reply's channel when there
is one), the desk account it goes out from, and the customer. One choice for the composer's
preview and for the outbox, so what the agent sees is what is queued."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.cases.models import Case
from carebird.errors import InvalidInput, NotFound
from carebird.ingest.models import Author, Message, NetworkAccount


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    case: Case
    message: Message  # the customer's message being answered
    account: NetworkAccount
    customer: Author


def reply_target(session: Session, *, case_id: int, private: bool) -> ReplyTarget:
    """The message, account and customer a reply to `case_id` goes to."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    inbound = (
        select(Message)
        .where(Message.case_id == case_id, Message.direction == "in")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    last = session.scalar(inbound.where(Message.is_private.is_(private))) or session.scalar(inbound)
    if last is None:
        raise InvalidInput(f"case {case_id} has no customer message to answer")
    account_id = case.account_id or last.account_id
    account = (
        session.get(NetworkAccount, account_id)
        if account_id is not None
        else session.scalar(
            select(NetworkAccount).where(NetworkAccount.network == case.network).limit(1)
        )
    )
    if account is None:
        raise InvalidInput(f"no {case.network} account to answer case {case_id} from")
    customer = session.get(Author, case.customer_id)
    assert customer is not None
    return ReplyTarget(case, last, account, customer)
