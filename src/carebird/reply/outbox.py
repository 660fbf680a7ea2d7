"""The outbox: replies are queued as rows, then sent at most once each (reply/sending.py).

Queueing refuses a public reply that carries personal data, never steps on a colleague's answer
the agent has not seen, records the reply's cost, and queues a long answer as a thread whose
parts go out in order. The same idempotency key queues one reply.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from carebird.cases.log import record
from carebird.errors import InvalidInput, PersonalDataInPublic
from carebird.reply.collision import check_reply_allowed
from carebird.reply.cost import estimate
from carebird.reply.models import OutboxItem
from carebird.reply.target import reply_target
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
    on_new: Callable[[OutboxItem], None] | None = None,
    purpose: str = "answer",
) -> OutboxItem:
    """Queue a reply to the case's latest inbound message (public) or its customer (private).

    `on_new` is called with the row when this call queued it (not when the same idempotency
    key had queued it before): the flows announce it to open inboxes.

    `purpose` is "acknowledgement" for the desk's automatic "bien reçu" (reply/acknowledging.py):
    sent like an answer, never counted as one.

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
    target = reply_target(session, case_id=case_id, private=private)
    case, last_in, customer = target.case, target.message, target.customer
    key = idempotency_key or secrets.token_hex(16)
    item = _insert_once(
        session,
        idempotency_key=key,
        case_id=case_id,
        account_id=target.account.id,
        network=case.network,
        in_reply_to_id=None if private else last_in.external_id,
        recipient_id=customer.external_id if private else None,
        private=private,
        text=text,
        created_by=agent_id,
        cost=estimate(case.network, text, private=private, overrides=prices).cost,
        card_title=card[0] if card else None,
        card_text=card[1] if card else None,
        purpose=purpose,
    )
    if item is None:  # a concurrent request with the same key queued it first
        existing = session.scalar(select(OutboxItem).where(OutboxItem.idempotency_key == key))
        assert existing is not None, "the conflicting reply vanished"
        return existing
    record(
        session,
        case_id,
        "reply_queued",
        new=str(item.id),
        actor_id=agent_id,
        data={"private": private, "purpose": purpose},
    )
    if on_new is not None:
        on_new(item)
    return item


def _insert_once(session: Session, **values: Any) -> OutboxItem | None:
    """Insert an outbox row unless its idempotency key exists: the unique key decides.

    `INSERT … ON CONFLICT DO NOTHING` on both engines: a concurrent insert of the same key
    waits for the other transaction (PostgreSQL) or for the single writer (SQLite), then does
    nothing; no error, no savepoint. None when the key was taken.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = pg_insert(OutboxItem).on_conflict_do_nothing(index_elements=["idempotency_key"])
    elif dialect == "sqlite":
        stmt = sqlite_insert(OutboxItem).on_conflict_do_nothing(index_elements=["idempotency_key"])
    else:  # pragma: no cover - the desk runs on the two engines above
        stmt = insert(OutboxItem)
    session.flush()  # pending rows first, so the insert sees them
    new_id = session.scalar(stmt.values(**values).returning(OutboxItem.id))
    if new_id is None:
        return None
    return session.get_one(OutboxItem, new_id)


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
    on_new: Callable[[OutboxItem], None] | None = None,
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
        on_new=on_new,
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
