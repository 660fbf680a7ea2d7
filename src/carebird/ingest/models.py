"""Stored shapes of what comes in: the desk's own accounts, authors, messages, cursors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carebird.db.base import Base, Id, utcnow


class NetworkAccount(Base):
    """One of the brand's own handles (a support handle, a brand handle…)."""

    __tablename__ = "network_accounts"
    __table_args__ = (UniqueConstraint("network", "handle"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    network: Mapped[str] = mapped_column(String(16))
    handle: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default="support")  # support | brand
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Author(Base):
    """A per-network identity: a customer, or one of our own accounts as the network sees it."""

    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("network", "external_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    network: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(200))
    handle: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    followers: Mapped[int] = mapped_column(BigInteger, default=0)
    verified: Mapped[bool] = mapped_column(default=False)
    is_brand: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    """Every message in or out, stored exactly once per (network, external_id)."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("network", "external_id"),
        Index("ix_messages_case_created", "case_id", "created_at"),
        Index("ix_messages_conversation", "network", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    network: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(4))  # in | out
    kind: Mapped[str] = mapped_column(String(16))
    is_private: Mapped[bool] = mapped_column(default=False)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("network_accounts.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)
    in_reply_to_id: Mapped[str | None] = mapped_column(String(200))
    conversation_id: Mapped[str | None] = mapped_column(String(200))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # latest seen
    # likes + reposts + quotes, now and when first stored: virality without decoding JSON.
    interactions: Mapped[int] = mapped_column(default=0)
    interactions_at_arrival: Mapped[int] = mapped_column(default=0)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Written by the understand stage (inbound messages only).
    category: Mapped[str | None] = mapped_column(String(24))
    category_scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sentiment: Mapped[str | None] = mapped_column(String(12))
    cues: Mapped[list[Any]] = mapped_column(JSON, default=list)
    personal_data: Mapped[list[Any]] = mapped_column(JSON, default=list)  # kinds and spans


class Cursor(Base):
    """Where a source stopped; written in the same transaction as the messages it covers."""

    __tablename__ = "cursors"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
