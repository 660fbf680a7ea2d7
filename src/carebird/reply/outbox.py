"""The outbox: replies are queued as rows, then sent at most once each (reply/sending.py).

Queueing refuses a public reply that carries personal data, never steps on a colleague's answer
the agent has not seen, records the reply's cost, and queues a long answer as a thread whose
parts go out in order. The same idempotency key queues one reply.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.cases.log import record
from carebird.cases.models import Case
from carebird.errors import InvalidInput, NotFound, PersonalDataInPublic
from carebird.events import publish_case_change
from carebird.ingest.models import Author, Message, NetworkAccount
from carebird.reply.collision import check_reply_allowed
from carebird.reply.cost import estimate
from carebird.reply.models import OutboxItem
from carebird.understand.pii import find_personal_data

log = logging.getLogger(__name__)


def queue_reply(
    session: Session,
    *,
    case_id: int,
    text: str,
    private: bool = False,
    agent_id: int | None = None,
    idempotency_key: str | None = None,
    allow_personal_data: bool = False,
    prices: Mapping[str, Mapping[str, float]] | None = None,
    seen_message_id: int | None = None,
    card: tuple[str, str] | None = None,
) -> OutboxItem:
    """Queue a reply to the case's latest inbound message (public) or its customer (private).

    A public reply that contains personal data (a phone number, an e-mail, an order or account
    reference, an IBAN…) is refused unless `allow_personal_data`: send it privately instead.
    """
    if not text.strip():
        raise InvalidInput("a reply needs some text")
    if not private and not allow_personal_data:
        found = find_personal_data(text)
        if found:
            raise PersonalDataInPublic(sorted({f.kind for f in found}))
    if idempotency_key:
        existing = session.scalar(
            select(OutboxItem).where(OutboxItem.idempotency_key == idempotency_key)
        )
        if existing is not None:
            return existing  # the same request twice queues one reply
    if agent_id is not None:  # never step on a colleague's answer the agent has not seen
        check_reply_allowed(
            session, case_id=case_id, agent_id=agent_id, seen_message_id=seen_message_id
        )
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    last_in = session.scalar(
        select(Message)
        .where(Message.case_id == case_id, Message.direction == "in")
        .where(Message.is_private.is_(private))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    ) or session.scalar(
        select(Message)
        .where(Message.case_id == case_id, Message.direction == "in")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    if last_in is None:
        raise InvalidInput(f"case {case_id} has no customer message to answer")
    account_id = case.account_id or last_in.account_id
    if account_id is None:
        account_id = session.scalar(
            select(NetworkAccount.id).where(NetworkAccount.network == case.network).limit(1)
        )
    if account_id is None:
        raise InvalidInput(f"no {case.network} account to answer case {case_id} from")
    customer = session.get(Author, case.customer_id)
    assert customer is not None
    item = OutboxItem(
        idempotency_key=idempotency_key or secrets.token_hex(16),
        case_id=case_id,
        account_id=account_id,
        network=case.network,
        in_reply_to_id=None if private else last_in.external_id,
        recipient_id=customer.external_id if private else None,
        private=private,
        text=text,
        created_by=agent_id,
        cost=estimate(case.network, text, private=private, overrides=prices).cost,
        card_title=card[0] if card else None,
        card_text=card[1] if card else None,
    )
    session.add(item)
    session.flush()
    record(
        session,
        case_id,
        "reply_queued",
        new=str(item.id),
        actor_id=agent_id,
        data={"private": private},
    )
    publish_case_change(
        session, case_id, "reply.queued", {"agent_id": agent_id, "outbox_id": item.id}
    )
    return item


def queue_thread(
    session: Session,
    *,
    case_id: int,
    parts: Sequence[str],
    private: bool = False,
    agent_id: int | None = None,
    idempotency_key: str | None = None,
    allow_personal_data: bool = False,
    prices: Mapping[str, Mapping[str, float]] | None = None,
    seen_message_id: int | None = None,
    card: tuple[str, str] | None = None,
) -> list[OutboxItem]:
    """Queue an answer split into parts ("1/2", "2/2"): each later part answers the one before
    it once that one is posted, so the thread reads in order on the network."""
    if not parts:
        raise InvalidInput("a reply needs some text")
    first = queue_reply(
        session,
        case_id=case_id,
        text=parts[0],
        private=private,
        agent_id=agent_id,
        idempotency_key=idempotency_key,
        allow_personal_data=allow_personal_data,
        prices=prices,
        seen_message_id=seen_message_id,
        card=card,  # on the first post of a thread
    )
    items = [first]
    following = session.scalar(select(OutboxItem).where(OutboxItem.follows_id == first.id))
    if following is not None or len(parts) == 1:  # the same request again: already queued
        while following is not None:
            items.append(following)
            following = session.scalar(
                select(OutboxItem).where(OutboxItem.follows_id == following.id)
            )
        return items
    for n, text in enumerate(parts[1:], 2):
        found = [] if private or allow_personal_data else find_personal_data(text)
        if found:
            raise PersonalDataInPublic(sorted({f.kind for f in found}))
        item = OutboxItem(
            idempotency_key=f"{first.idempotency_key[:56]}:{n}",
            case_id=case_id,
            account_id=first.account_id,
            network=first.network,
            recipient_id=first.recipient_id,
            private=private,
            text=text,
            created_by=agent_id,
            cost=estimate(first.network, text, private=private, overrides=prices).cost,
            follows_id=items[-1].id,
        )
        session.add(item)
        session.flush()
        items.append(item)
    return items
