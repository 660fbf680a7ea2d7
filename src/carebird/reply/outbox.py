"""The outbox: replies are queued as rows, then sent at most once each.

Sending marks the row "sending" (a lease) before calling the network and passes the row's
idempotency key. A retry after a crash or an unclear failure first asks the connector whether
the reply is already on the network (`find_sent`, for networks without idempotency keys such as
X), so it is never posted twice; failures are retried with backoff and shown on the case. The
posted message is stored with its case in the same transaction that marks the row sent, so the
echo that comes back later through the connector is a duplicate, never a new case.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from carebird.cases.log import record
from carebird.cases.models import Case
from carebird.cases.search import index_cases
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.errors import (
    BudgetExhausted,
    CarebirdError,
    InvalidInput,
    NotFound,
    PersonalDataInPublic,
    RateLimited,
)
from carebird.events import publish_case_change
from carebird.ingest.base import (
    AuthorInfo,
    Connector,
    Direction,
    InboundItem,
    MessageKind,
    OutboundReply,
    SentReceipt,
)
from carebird.ingest.models import Author, Message, NetworkAccount
from carebird.pipeline import process_batch
from carebird.reply.cards import render_card
from carebird.reply.collision import check_reply_allowed
from carebird.reply.cost import estimate
from carebird.reply.models import OutboxItem
from carebird.understand.pii import find_personal_data

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
RETRY_BASE = 5.0  # seconds before the 2nd attempt, doubling after each failure
SEND_LEASE = timedelta(minutes=2)  # a "sending" row older than this was abandoned by a crash


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
        if not private and not allow_personal_data and find_personal_data(text):
            raise PersonalDataInPublic(sorted({f.kind for f in find_personal_data(text)}))
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


def send_pending(
    db: Database,
    connectors: Mapping[str, Connector],
    *,
    reopen_window: timedelta,
    now: Callable[[], datetime] = utcnow,
) -> int:
    """Send every due reply whose account has a connector; return how many were sent.

    `connectors` is keyed by "network:handle" (one per desk account) or by network alone.
    """
    networks = sorted({key.split(":", 1)[0] for key in connectors})
    at = now()
    with db.session() as session:
        due = session.scalars(
            select(OutboxItem.id)
            .where(
                OutboxItem.status.in_(("pending", "sending")),
                OutboxItem.network.in_(networks),
                or_(OutboxItem.next_attempt_at.is_(None), OutboxItem.next_attempt_at <= at),
            )
            .order_by(OutboxItem.id)
        ).all()
    sent = 0
    for item_id in due:
        sent += _send_one(db, item_id, connectors, reopen_window=reopen_window, now=now)
    return sent


@dataclass(frozen=True)
class _Claimed:
    request: OutboundReply
    connector: Connector
    unsure: bool  # an earlier attempt may have posted
    card: bytes | None  # the answer card to attach, rendered


def _claim(
    db: Database, item_id: int, connectors: Mapping[str, Connector], at: datetime
) -> _Claimed | None:
    """Mark the row "sending" (a lease) and say whether an earlier attempt may have posted."""
    with db.session() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        if item is None or item.status not in ("pending", "sending"):
            return None
        if item.next_attempt_at is not None and item.next_attempt_at > at:
            return None  # another worker holds the lease, or a retry is not due yet
        in_reply_to = item.in_reply_to_id
        if item.follows_id is not None:
            before = session.get(OutboxItem, item.follows_id)
            if before is None or before.status != "sent":
                return None  # the part before it is not posted yet (or failed: so does this)
            in_reply_to = None if item.private else before.external_id
            item.in_reply_to_id = in_reply_to
        account = session.get(NetworkAccount, item.account_id)
        assert account is not None
        connector = connectors.get(f"{item.network}:{account.handle}") or connectors.get(
            item.network
        )
        if connector is None:
            return None
        # Any earlier attempt (a crash mid-send, a timeout after the network got the request)
        # may have posted: look before sending again.
        unsure = item.attempts > 0
        item.attempts += 1
        item.status = "sending"
        item.next_attempt_at = at + SEND_LEASE
        request = OutboundReply(
            network=item.network,
            text=item.text,
            account_handle=account.handle,
            idempotency_key=item.idempotency_key,
            in_reply_to_id=in_reply_to,
            recipient_id=item.recipient_id,
            private=item.private,
        )
        card = None
        if item.card_text:
            card = render_card(
                item.card_text,
                title=item.card_title or "",
                brand=account.display_name or account.handle,
            )
    return _Claimed(request, connector, unsure, card)


def _send_one(
    db: Database,
    item_id: int,
    connectors: Mapping[str, Connector],
    *,
    reopen_window: timedelta,
    now: Callable[[], datetime] = utcnow,
) -> int:
    claimed = _claim(db, item_id, connectors, now())
    if claimed is None:
        return 0
    request, connector = claimed.request, claimed.connector
    try:
        receipt = None
        find_sent = getattr(connector, "find_sent", None)
        if claimed.unsure and find_sent is not None:
            receipt = find_sent(request)
            if receipt is not None:
                log.info("reply %s had been posted before a crash: not sending again", item_id)
        if receipt is None and claimed.card is not None:
            send_with_media = getattr(connector, "send_with_media", None)
            if send_with_media is None:
                raise InvalidInput(f"{request.network} replies cannot carry an answer card")
            receipt = send_with_media(request, [claimed.card])
        elif receipt is None:
            receipt = connector.send(request)
    except CarebirdError as exc:
        _failed(db, item_id, exc, now())
        return 0
    _sent(db, item_id, receipt, reopen_window=reopen_window)
    return 1


def _failed(db: Database, item_id: int, exc: CarebirdError, at: datetime) -> None:
    """Keep the reply for a later try (visible on the case); give up after MAX_ATTEMPTS."""
    with db.session() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        assert item is not None
        item.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        waiting = isinstance(exc, RateLimited | BudgetExhausted)  # not the reply's fault
        final = isinstance(exc, InvalidInput) or (item.attempts >= MAX_ATTEMPTS and not waiting)
        if final:
            item.status, item.next_attempt_at = "failed", None
        else:
            item.status = "pending"
            wait = RETRY_BASE * 2 ** (item.attempts - 1)
            if isinstance(exc, RateLimited):
                wait = max(wait, exc.retry_after)
            elif isinstance(exc, BudgetExhausted):
                wait = max(wait, 3600.0)
            item.next_attempt_at = at + timedelta(seconds=wait)
        if final:
            publish_case_change(session, item.case_id, "reply.failed", {"outbox_id": item.id})
        record(
            session,
            item.case_id,
            "reply_failed" if final else "reply_error",
            new=str(item.id),
            data={"error": str(exc)[:500], "attempt": item.attempts},
        )
    log.warning("reply %s failed (%s): %s", item_id, "final" if final else "will retry", exc)


def _sent(db: Database, item_id: int, receipt: SentReceipt, *, reopen_window: timedelta) -> None:
    with db.session() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        assert item is not None
        account = session.get(NetworkAccount, item.account_id)
        assert account is not None
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
        index_cases(session, [item.case_id])
        item.status, item.external_id, item.sent_at = "sent", receipt.external_id, utcnow()
        item.last_error, item.next_attempt_at = None, None
        record(
            session,
            item.case_id,
            "reply_sent",
            new=receipt.external_id,
            actor_id=item.created_by,
            at=receipt.created_at,
        )
        publish_case_change(
            session, item.case_id, "reply.sent", {"agent_id": item.created_by, "outbox_id": item.id}
        )


def _conversation_of(session: Session, item: OutboxItem) -> str | None:
    if not item.in_reply_to_id:
        return None
    return session.scalar(
        select(Message.conversation_id).where(
            Message.network == item.network, Message.external_id == item.in_reply_to_id
        )
    )
