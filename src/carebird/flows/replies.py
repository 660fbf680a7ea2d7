"""Replies: queue (from the composer, the API, a forward's notice), send, retry, cancel.

Each function is the whole use case: the reply stage's service, then what open inboxes are
told, in the caller's transaction. Sending also stores the desk's own post through the intake,
so it is threaded and indexed exactly like a message read from the network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from carebird.cases.scoring import score_cases
from carebird.cases.search import index_cases
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.flows.announce import announce_cases
from carebird.flows.intake import Intake, process_batch
from carebird.ingest.base import Connector, InboundItem
from carebird.live.events import CaseUpdated, ReplyFailed, ReplyQueued, ReplySent
from carebird.reply import outbox, recovery, sending
from carebird.reply.models import OutboxItem


def _announce_queued(session: Session, agent_id: int | None) -> Callable[[OutboxItem], None]:
    def announce(item: OutboxItem) -> None:
        extra = {"agent_id": agent_id, "outbox_id": item.id}
        announce_cases(session, [item.case_id], ReplyQueued, extra)

    return announce


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
) -> OutboxItem:
    """Queue one reply (see `reply.outbox.queue_reply`) and announce it once."""
    return outbox.queue_reply(
        session,
        case_id=case_id,
        text=text,
        private=private,
        agent_id=agent_id,
        idempotency_key=idempotency_key,
        allow_personal_data=allow_personal_data,
        prices=prices,
        on_new=_announce_queued(session, agent_id),
    )


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
    """Queue an answer in parts (see `reply.outbox.queue_thread`) and announce it once."""
    return outbox.queue_thread(
        session,
        case_id=case_id,
        parts=parts,
        private=private,
        agent_id=agent_id,
        idempotency_key=idempotency_key,
        allow_personal_data=allow_personal_data,
        prices=prices,
        seen_message_id=seen_message_id,
        card=card,
        on_new=_announce_queued(session, agent_id),
    )


def retry_reply(
    session: Session, *, outbox_id: int, agent_id: int | None, confirm_not_posted: bool = False
) -> OutboxItem:
    item = recovery.retry_reply(
        session, outbox_id=outbox_id, agent_id=agent_id, confirm_not_posted=confirm_not_posted
    )
    announce_cases(
        session, [item.case_id], CaseUpdated, {"agent_id": agent_id, "outbox_id": outbox_id}
    )
    return item


def cancel_reply(session: Session, *, outbox_id: int, agent_id: int | None) -> list[OutboxItem]:
    chain = recovery.cancel_reply(session, outbox_id=outbox_id, agent_id=agent_id)
    extra = {"agent_id": agent_id, "outbox_id": outbox_id}
    announce_cases(session, [chain[0].case_id], CaseUpdated, extra)
    return chain


def after_send(intake: Intake) -> sending.AfterSend:
    """What settling a reply adds to its transaction: the post stored and threaded through the
    intake, the case re-indexed, and the outcome announced."""

    def record_post(session: Session, post: InboundItem) -> None:
        process_batch(session, [post], intake=intake)

    def sent(session: Session, item: OutboxItem) -> None:
        # A private reply joins its case only now (no reply chain for the intake to follow),
        # and a purpose may re-label an echo stored first: the case's kept signals are
        # rebuilt from its messages so the customer no longer counts as waiting.
        score_cases(session, [item.case_id], weights=intake.weights)
        index_cases(session, [item.case_id])
        extra = {"agent_id": item.created_by, "outbox_id": item.id}
        announce_cases(session, [item.case_id], ReplySent, extra)

    def failed(session: Session, item: OutboxItem) -> None:
        announce_cases(session, [item.case_id], ReplyFailed, {"outbox_id": item.id})

    return sending.AfterSend(record_post=record_post, sent=sent, failed=failed)


def send_pending(
    db: Database,
    connectors: Mapping[str, Connector],
    *,
    intake: Intake,
    now: Callable[[], datetime] = utcnow,
    should_stop: Callable[[], bool] = lambda: False,
    limit: int | None = None,
    lease: timedelta = sending.SEND_LEASE,
) -> int:
    """Send the due replies these connectors can send (see `reply.sending.send_pending`)."""
    return sending.send_pending(
        db,
        connectors,
        after=after_send(intake),
        now=now,
        should_stop=should_stop,
        limit=limit,
        lease=lease,
    )
