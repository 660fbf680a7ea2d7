"""The outbox: replies are queued as rows, then sent at most once each.

Sending marks an attempt before calling the network and passes the row's idempotency key, so a
retry after a crash cannot post twice on networks that honour the key; the posted message is
stored with its case in the same transaction that marks the row sent, so the echo that comes
back later through the connector is a duplicate, never a new case.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.cases.log import record
from carebird.cases.models import Case
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.errors import CarebirdError, InvalidInput, NotFound
from carebird.ingest.base import (
    AuthorInfo,
    Connector,
    Direction,
    InboundItem,
    MessageKind,
    OutboundReply,
)
from carebird.ingest.models import Author, Message, NetworkAccount
from carebird.pipeline import process_batch
from carebird.reply.models import OutboxItem

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def queue_reply(
    session: Session,
    *,
    case_id: int,
    text: str,
    private: bool = False,
    agent_id: int | None = None,
    idempotency_key: str | None = None,
) -> OutboxItem:
    """Queue a reply to the case's latest inbound message (public) or its customer (private)."""
    if not text.strip():
        raise InvalidInput("a reply needs some text")
    if idempotency_key:
        existing = session.scalar(
            select(OutboxItem).where(OutboxItem.idempotency_key == idempotency_key)
        )
        if existing is not None:
            return existing  # the same request twice queues one reply
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
    return item


def send_pending(
    db: Database, connectors: Mapping[str, Connector], *, reopen_window: timedelta
) -> int:
    """Send every pending reply whose network has a connector; return how many were sent."""
    with db.session() as session:
        pending = session.scalars(
            select(OutboxItem.id)
            .where(OutboxItem.status == "pending", OutboxItem.network.in_(list(connectors)))
            .order_by(OutboxItem.id)
        ).all()
    sent = 0
    for item_id in pending:
        sent += _send_one(db, item_id, connectors, reopen_window=reopen_window)
    return sent


def _send_one(
    db: Database, item_id: int, connectors: Mapping[str, Connector], *, reopen_window: timedelta
) -> int:
    with db.session() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        if item is None or item.status != "pending":
            return 0
        account = session.get(NetworkAccount, item.account_id)
        assert account is not None
        item.attempts += 1
        request = OutboundReply(
            network=item.network,
            text=item.text,
            account_handle=account.handle,
            idempotency_key=item.idempotency_key,
            in_reply_to_id=item.in_reply_to_id,
            recipient_id=item.recipient_id,
            private=item.private,
        )
    connector = connectors[request.network]
    try:
        receipt = connector.send(request)
    except CarebirdError as exc:
        with db.session() as session, session.begin():
            item = session.get(OutboxItem, item_id)
            assert item is not None
            item.last_error = str(exc)[:2000]
            if item.attempts >= MAX_ATTEMPTS:
                item.status = "failed"
                record(
                    session,
                    item.case_id,
                    "reply_failed",
                    new=str(item.id),
                    data={"error": str(exc)[:500]},
                )
        log.warning("reply %s failed: %s", item_id, exc)
        return 0
    with db.session() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        assert item is not None
        ours = InboundItem(
            network=item.network,
            external_id=receipt.external_id,
            author=AuthorInfo(
                external_id=account.external_id or f"account:{account.handle}",
                handle=account.handle,
                display_name=account.display_name,
            ),
            text=item.text,
            created_at=receipt.created_at,
            kind=MessageKind.DIRECT if item.private else MessageKind.REPLY,
            direction=Direction.OUT,
            account_handle=account.handle,
            in_reply_to_id=item.in_reply_to_id,
            conversation_id=_conversation_of(session, item),
            raw={"outbox_id": item.id, "recipient_id": item.recipient_id, **receipt.raw},
        )
        process_batch(session, [ours], reopen_window=reopen_window)
        # A private reply has no reply chain to follow: attach it to the case explicitly.
        session.query(Message).filter(
            Message.network == item.network,
            Message.external_id == receipt.external_id,
            Message.case_id.is_(None),
        ).update({"case_id": item.case_id})
        item.status, item.external_id, item.sent_at = "sent", receipt.external_id, utcnow()
        item.last_error = None
        record(
            session,
            item.case_id,
            "reply_sent",
            new=receipt.external_id,
            actor_id=item.created_by,
            at=receipt.created_at,
        )
    return 1


def _conversation_of(session: Session, item: OutboxItem) -> str | None:
    if not item.in_reply_to_id:
        return None
    return session.scalar(
        select(Message.conversation_id).where(
            Message.network == item.network, Message.external_id == item.in_reply_to_id
        )
    )
