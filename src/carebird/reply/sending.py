"""Sending the outbox: each reply at most once.

A row is marked "sending" (a lease) before the network is called, with the row's idempotency
key. A retry after a crash or an unclear failure first asks the connector whether the reply is
already on the network (`find_sent`, for networks without idempotency keys such as X), so it is
never posted twice; failures are retried with backoff and shown on the case. A thread's later
part waits for the part before it and answers it. The posted message is stored with its case in
the same transaction that marks the row sent, so the echo that comes back later through the
connector is a duplicate, never a new case.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from carebird.cases.log import record
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.errors import BudgetExhausted, CarebirdError, InvalidInput, RateLimited
from carebird.ingest.base import (
    AuthorInfo,
    CanFindSent,
    CanSendMedia,
    Connector,
    Direction,
    InboundItem,
    MessageKind,
    OutboundReply,
    SendsIdempotently,
    SentReceipt,
)
from carebird.ingest.models import Message, NetworkAccount
from carebird.reply.cards import render_card
from carebird.reply.models import OutboxItem

log = logging.getLogger(__name__)
ACKNOWLEDGEMENT = "acknowledgement"  # an outbox row's purpose and its posted message's kind
# Purposes whose posts are stored under a kind of their own (never counted as answers), and
# the case event each records once sent (an answer records "reply_sent").
OWN_KINDS = {ACKNOWLEDGEMENT: MessageKind.ACKNOWLEDGEMENT, "survey": MessageKind.SURVEY}
SENT_EVENTS = {ACKNOWLEDGEMENT: "acknowledged", "survey": "survey_sent"}
MAX_ATTEMPTS = 8
RETRY_BASE = 5.0  # seconds before the 2nd attempt, doubling after each failure
SEND_LEASE = timedelta(minutes=2)  # a "sending" row older than this was abandoned by a crash


def due_count(db: Database, networks: Sequence[str], *, at: datetime) -> int:
    """How many replies are due now on these networks (an idle desk defers no sender)."""
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(
                    OutboxItem.status.in_(("pending", "sending")),
                    OutboxItem.network.in_(list(networks)),
                    or_(OutboxItem.next_attempt_at.is_(None), OutboxItem.next_attempt_at <= at),
                )
            )
            or 0
        )


def send_pending(
    db: Database,
    connectors: Mapping[str, Connector],
    *,
    after: AfterSend,
    now: Callable[[], datetime] = utcnow,
    should_stop: Callable[[], bool] = lambda: False,
    limit: int | None = None,
    lease: timedelta = SEND_LEASE,
) -> int:
    """Send due replies whose account has a connector; return how many were sent.

    `connectors` is keyed by "network:handle" (one per desk account) or by network alone.
    Several processes may run this at once: each row is claimed by one of them only. It stops
    between two sends when `should_stop()` says so (a SIGTERM), or after `limit` sends.
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
        if should_stop() or (limit is not None and sent >= limit):
            break
        sent += _send_one(db, item_id, connectors, after=after, now=now, lease=lease)
    return sent


@dataclass(frozen=True, slots=True)
class AfterSend:
    """What the caller adds to the transaction that settles a reply (carebird.flows.replies):
    storing and threading the desk's own post, then the search index and the live events."""

    record_post: Callable[[Session, InboundItem], None]
    sent: Callable[[Session, OutboxItem], None]
    failed: Callable[[Session, OutboxItem], None]


@dataclass(frozen=True)
class _Claimed:
    request: OutboundReply
    connector: Connector
    unsure: bool  # an earlier attempt may have posted
    card: bytes | None  # the answer card to attach, rendered


def _claim(
    db: Database,
    item_id: int,
    connectors: Mapping[str, Connector],
    at: datetime,
    lease: timedelta = SEND_LEASE,
    *,
    after: AfterSend,
) -> _Claimed | None:
    """Take the row's lease ("sending") if no one holds it; say whether an earlier attempt
    may have posted. The lease is one conditional UPDATE: of several processes trying the same
    row, exactly one sees it change."""
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
        pending_ack = item.purpose == ACKNOWLEDGEMENT and item.status == "pending"
        if pending_ack and _answered(session, item):
            _drop_acknowledgement(session, item)
            return None
        account = session.get(NetworkAccount, item.account_id)
        assert account is not None
        connector = connectors.get(f"{item.network}:{account.handle}") or connectors.get(
            item.network
        )
        if connector is None:
            return None
        won = session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.id == item_id,
                OutboxItem.status.in_(("pending", "sending")),
                OutboxItem.attempts == item.attempts,  # nobody claimed it since we read it
                or_(OutboxItem.next_attempt_at.is_(None), OutboxItem.next_attempt_at <= at),
            )
            .values(
                status="sending",
                attempts=OutboxItem.attempts + 1,
                next_attempt_at=at + lease,
                in_reply_to_id=in_reply_to,
            )
            .returning(OutboxItem.attempts)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if won is None:
            return None  # another process took the lease first
        # Any earlier attempt (a crash mid-send, a timeout after the network got the request)
        # may have posted: look before sending again. A network that cannot be asked and
        # offers no idempotent send gets the row marked "unsure" for a person to decide.
        unsure = won > 1
        if unsure and not _can_resend_safely(connector):
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id)
                .values(status="unsure", next_attempt_at=None)
                .execution_options(synchronize_session=False)
            )
            record(session, item.case_id, "reply_unsure", new=str(item_id))
            after.failed(session, item)
            log.warning("reply %s: an earlier attempt may have posted; marked unsure", item_id)
            return None
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


def _answered(session: Session, item: OutboxItem) -> bool:
    """Whether an agent answered the case (posted or queued) before its acknowledgement left."""
    posted = select(Message.id).where(
        Message.case_id == item.case_id,
        Message.direction == "out",
        Message.kind != ACKNOWLEDGEMENT,
    )
    queued = select(OutboxItem.id).where(
        OutboxItem.case_id == item.case_id,
        OutboxItem.purpose != ACKNOWLEDGEMENT,
        OutboxItem.status.in_(("pending", "sending", "sent")),
    )
    return session.scalar(posted.limit(1)) is not None or (
        session.scalar(queued.limit(1)) is not None
    )


def _drop_acknowledgement(session: Session, item: OutboxItem) -> None:
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == item.id)
        .values(status="cancelled", next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    data = {"outbox_id": item.id}
    record(session, item.case_id, "acknowledgement_skipped", new="answered", data=data)
    log.info("acknowledgement %s of case %s dropped: an agent answered", item.id, item.case_id)


def _can_resend_safely(connector: Connector) -> bool:
    """A retry is safe when the network can be asked first, or deduplicates by our key."""
    if isinstance(connector, CanFindSent):
        return True
    return isinstance(connector, SendsIdempotently) and bool(connector.idempotent_send)


def _send_one(
    db: Database,
    item_id: int,
    connectors: Mapping[str, Connector],
    *,
    after: AfterSend,
    now: Callable[[], datetime] = utcnow,
    lease: timedelta = SEND_LEASE,
) -> int:
    claimed = _claim(db, item_id, connectors, now(), lease, after=after)
    if claimed is None:
        return 0
    request, connector = claimed.request, claimed.connector
    try:
        receipt = None
        if claimed.unsure and isinstance(connector, CanFindSent):
            receipt = connector.find_sent(request)
            if receipt is not None:
                log.info("reply %s had been posted before a crash: not sending again", item_id)
        if receipt is None and claimed.card is not None:
            if not isinstance(connector, CanSendMedia):
                raise InvalidInput(f"{request.network} replies cannot carry an answer card")
            receipt = connector.send_with_media(request, [claimed.card])
        elif receipt is None:
            receipt = connector.send(request)
    except CarebirdError as exc:
        _failed(db, item_id, exc, now(), after=after)
        return 0
    _sent(db, item_id, receipt, after=after)
    return 1


def _failed(
    db: Database, item_id: int, exc: CarebirdError, at: datetime, *, after: AfterSend
) -> None:
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
            after.failed(session, item)
        record(
            session,
            item.case_id,
            "reply_failed" if final else "reply_error",
            new=str(item.id),
            data={"error": str(exc)[:500], "attempt": item.attempts},
        )
    log.warning("reply %s failed (%s): %s", item_id, "final" if final else "will retry", exc)


def _sent(db: Database, item_id: int, receipt: SentReceipt, *, after: AfterSend) -> None:
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
            kind=_kind_of(item),
            direction=Direction.OUT,
            account_handle=account.handle,
            in_reply_to_id=item.in_reply_to_id,
            conversation_id=_conversation_of(session, item),
            raw={"outbox_id": item.id, "recipient_id": item.recipient_id, **receipt.raw},
        )
        after.record_post(session, ours)
        # A private reply has no reply chain to follow: attach it to the case explicitly.
        session.query(Message).filter(
            Message.network == item.network,
            Message.external_id == receipt.external_id,
            Message.case_id.is_(None),
        ).update({"case_id": item.case_id})
        if item.purpose in OWN_KINDS:  # even if the network's echo was stored first
            session.query(Message).filter(
                Message.network == item.network, Message.external_id == receipt.external_id
            ).update({"kind": str(OWN_KINDS[item.purpose]), "is_private": item.private})
        item.status, item.external_id, item.sent_at = "sent", receipt.external_id, utcnow()
        item.last_error, item.next_attempt_at = None, None
        record(
            session,
            item.case_id,
            SENT_EVENTS.get(item.purpose, "reply_sent"),
            new=receipt.external_id,
            actor_id=item.created_by,
            at=receipt.created_at,
        )
        after.sent(session, item)


def _kind_of(item: OutboxItem) -> MessageKind:
    """How the desk's own post is stored: an acknowledgement is told apart from an answer."""
    if item.purpose in OWN_KINDS:
        return OWN_KINDS[item.purpose]
    return MessageKind.DIRECT if item.private else MessageKind.REPLY


def _conversation_of(session: Session, item: OutboxItem) -> str | None:
    if not item.in_reply_to_id:
        return None
    return session.scalar(
        select(Message.conversation_id).where(
            Message.network == item.network, Message.external_id == item.in_reply_to_id
        )
    )
