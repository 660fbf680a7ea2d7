"""Stored shapes of the work: cases, their append-only event log and tags (agents and teams
are identities: carebird.auth.models)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from carebird.db.base import Base, Id, utcnow


class Case(Base):
    """One customer × one problem. Times are facts of the case; metrics derive from messages."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_activity", "status", "last_activity_at"),
        Index("ix_cases_customer_status", "customer_id", "status"),
        # The inbox's filters and orders, each ending in the keyset's (priority, id): 0020.
        Index("ix_cases_priority_id", "priority", "id"),
        Index("ix_cases_status_priority", "status", "priority", "id"),
        Index("ix_cases_assignee_priority", "assignee_id", "priority", "id"),
        Index("ix_cases_team_priority", "team_id", "priority", "id"),
        Index("ix_cases_account_priority", "account_id", "priority", "id"),
        Index("ix_cases_activity_id", "last_activity_at", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    network: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("network_accounts.id"))
    status: Mapped[str] = mapped_column(String(24), default="new")
    category: Mapped[str | None] = mapped_column(String(24))
    category_source: Mapped[str] = mapped_column(String(8), default="model")  # model | agent
    priority: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    priority_boost: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))
    priority_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    subject: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]  # the first inbound message's time
    last_activity_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    message_count: Mapped[int] = mapped_column(default=0)
    # The message that opened the case: lets threading insert new cases in bulk and find them.
    opening_message_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # What scoring needs of the latest messages, kept by the intake (carebird.cases.signals);
    # recent_messages None: never kept, rebuilt from the messages when next scored.
    inbound_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    inbound_category: Mapped[str | None] = mapped_column(String(24))
    inbound_sentiment: Mapped[str | None] = mapped_column(String(12))
    inbound_cues: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    inbound_interactions: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    inbound_interactions_at_arrival: Mapped[int] = mapped_column(
        default=0, server_default=text("0")
    )
    waiting_since: Mapped[datetime | None]  # the customer spoke last, unanswered since then
    recent_messages: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))


class CaseTag(Base):
    __tablename__ = "case_tags"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class CaseEvent(Base):
    """Append-only: who did what to a case, and when. Never updated, never deleted."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))  # None: the system
    at: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
