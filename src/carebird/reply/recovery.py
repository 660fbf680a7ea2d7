"""An admin's decision on a reply the outbox could not send: send it again, or never.

- `retry_reply`: a "failed" reply goes back to "pending" for a fresh round of attempts. It keeps
  one attempt on record, so the sender still looks on the network before posting (or, on a
  network it cannot ask, marks it "unsure" rather than risk a second post). An "unsure" reply
  (an earlier attempt may have posted, and the network could not be asked) goes back only when
  the admin says it is not on the network (`confirm_not_posted`): it is then sent as new.
- `cancel_reply`: a pending, failed or unsure reply is never sent ("cancelled"); the later parts
  of its thread, which would answer it, are cancelled with it.

Each change is one conditional UPDATE on the status and attempts the admin saw, so a sender
claiming the same row at that moment and the admin never both win; each is in the case log.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from carebird.cases.log import record
from carebird.errors import Conflict, NotFound
from carebird.reply.models import OutboxItem

RETRYABLE = ("failed", "unsure")
CANCELLABLE = ("pending", "failed", "unsure")


def _get(session: Session, outbox_id: int) -> OutboxItem:
    item = session.get(OutboxItem, outbox_id)
    if item is None:
        raise NotFound(f"reply {outbox_id} not found")
    return item


def _change(session: Session, item: OutboxItem, **values: object) -> None:
    """Apply `values` only if the row is still as read; else someone (a sender) moved it."""
    changed = session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id == item.id,
            OutboxItem.status == item.status,
            OutboxItem.attempts == item.attempts,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not changed:
        raise Conflict(f"reply {item.id} changed meanwhile; reload and decide again")
    session.expire(item)


def retry_reply(
    session: Session, *, outbox_id: int, agent_id: int | None, confirm_not_posted: bool = False
) -> OutboxItem:
    """Put a failed or unsure reply back in the queue (see the module's docstring)."""
    item = _get(session, outbox_id)
    status, attempts, error = item.status, item.attempts, item.last_error
    if status not in RETRYABLE:
        raise Conflict(f"reply {outbox_id} is {status}: only a failed or unsure reply is retried")
    if status == "unsure" and not confirm_not_posted:
        raise Conflict(
            f"reply {outbox_id} may already be on the network: check there, and retry only "
            "after confirming it was not posted (retrying could post it twice)"
        )
    # No attempt on record: sent as new. One: looked for on the network first.
    kept = 0 if confirm_not_posted else min(attempts, 1)
    _change(session, item, status="pending", next_attempt_at=None, attempts=kept)
    record(
        session,
        item.case_id,
        "reply_retried",
        old=status,
        new=str(outbox_id),
        actor_id=agent_id,
        data={
            "attempts": attempts,
            "error": (error or "")[:500],
            "confirmed_not_posted": confirm_not_posted,
        },
    )
    return item


def cancel_reply(session: Session, *, outbox_id: int, agent_id: int | None) -> list[OutboxItem]:
    """Never send this reply, nor the thread's parts after it; the cancelled rows, first first."""
    item = _get(session, outbox_id)
    if item.status not in CANCELLABLE:
        raise Conflict(
            f"reply {outbox_id} is {item.status}: only a pending, failed or unsure reply "
            "is cancelled"
        )
    chain = [item]
    while True:  # the later parts wait for this one: they would never go
        after = session.scalar(select(OutboxItem).where(OutboxItem.follows_id == chain[-1].id))
        if after is None or after.status not in CANCELLABLE:
            break
        chain.append(after)
    for part in chain:
        status = part.status
        _change(session, part, status="cancelled", next_attempt_at=None)
        record(
            session,
            part.case_id,
            "reply_cancelled",
            old=status,
            new=str(part.id),
            actor_id=agent_id,
            data={"thread_of": outbox_id} if part is not item else {},
        )
    return chain
