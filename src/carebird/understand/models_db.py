"""Stored labels: agents' corrections, the training data of a desk's own model."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from carebird.db.base import Base, Id, utcnow


class Label(Base):
    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    task: Mapped[str] = mapped_column(String(16))  # category | sentiment | complaint
    label: Mapped[str] = mapped_column(String(24))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
