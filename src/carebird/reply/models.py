"""The outbox: every reply is a row first, sent at most once thanks to its idempotency key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from carebird.db.base import Base, Id, utcnow


class OutboxItem(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("network_accounts.id"))
    network: Mapped[str] = mapped_column(String(16))
    in_reply_to_id: Mapped[str | None] = mapped_column(String(200))
    recipient_id: Mapped[str | None] = mapped_column(String(200))
    private: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str] = mapped_column(Text)
    # pending → sending → sent; back to pending (with next_attempt_at) after a failure, failed
    # after MAX_ATTEMPTS. A row left in "sending" by a crash has an unknown outcome.
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    next_attempt_at: Mapped[datetime | None]
    cost: Mapped[float | None] = mapped_column(Float)  # the network's price, told before sending
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # A thread's later part waits for the part before it and answers it once that is posted.
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    # An answer card: this text (e.g. a rendered template) sent as an image with the reply.
    card_title: Mapped[str | None] = mapped_column(String(200))
    card_text: Mapped[str | None] = mapped_column(Text)
    # answer | acknowledgement ("bien reçu, nous revenons vers vous…"): not an answer in metrics.
    purpose: Mapped[str] = mapped_column(
        String(16), default="answer", server_default=sql_text("'answer'")
    )
