"""Stored shapes of what comes in: the desk's own accounts, authors, messages, cursors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
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
    # Tokens and passwords, encrypted with the desk's secret key (see carebird.crypto).
    credentials: Mapped[str | None] = mapped_column(Text)
    # Network specifics: base_url, listening queries, char_limit… (never secrets).
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    monthly_cap: Mapped[float | None] = mapped_column(Float)  # API spending cap, in dollars


class OAuthApp(Base):
    """The desk's app registered on a Mastodon instance (POST /api/v1/apps), kept so the next
    account on that instance reuses it. The client secret is sealed like credentials."""

    __tablename__ = "oauth_apps"
    __table_args__ = (UniqueConstraint("network", "instance", "redirect_uri"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    network: Mapped[str] = mapped_column(String(16))
    instance: Mapped[str] = mapped_column(String(300))  # https://social.example
    redirect_uri: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(300))
    client_secret: Mapped[str] = mapped_column(Text)  # sealed (carebird.crypto)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiUsage(Base):
    """Billable network calls of one account in one calendar month (UTC), per operation."""

    __tablename__ = "api_usage"
    __table_args__ = (UniqueConstraint("account_id", "month", "op"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("network_accounts.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))  # "2026-11"
    op: Mapped[str] = mapped_column(String(24))
    calls: Mapped[int] = mapped_column(BigInteger, default=0)
    units: Mapped[int] = mapped_column(BigInteger, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)


class SourceHealth(Base):
    """How one inbound stream is doing: last success, lag, errors, rate-limit headroom."""

    __tablename__ = "source_health"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    network: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("network_accounts.id", ondelete="CASCADE")
    )
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_item_at: Mapped[datetime | None]  # creation time of the newest item fetched
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_errors: Mapped[int] = mapped_column(default=0)
    items_total: Mapped[int] = mapped_column(BigInteger, default=0)
    polls_total: Mapped[int] = mapped_column(BigInteger, default=0)
    # Typical gap between items (exponential moving average, seconds): the silence alarm's base.
    mean_gap_seconds: Mapped[float | None] = mapped_column(Float)
    rate_limits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # endpoint -> window
    paused_until: Mapped[datetime | None]
    paused_reason: Mapped[str | None] = mapped_column(String(200))


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


PENDING = "accurate_at IS NULL AND direction = 'in'"


INBOUND = "direction = 'in' AND case_id IS NOT NULL"


class Message(Base):
    """Every message in or out, stored exactly once per (network, external_id)."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("network", "external_id"),
        Index("ix_messages_case_created", "case_id", "created_at"),
        Index("ix_messages_conversation", "network", "conversation_id"),
        # A batch's recent history for the incident watch (cases/incident_watch.py), newest
        # first: without it every batch sorted every message (quadratic over an import).
        Index(
            "ix_messages_inbound_created",
            "created_at",
            "id",
            postgresql_where=text(INBOUND),
            sqlite_where=text(INBOUND),
        ),
        # Inbound messages the accurate tier has not read, newest first (flows/reclassify.py).
        Index(
            "ix_messages_accurate_pending",
            "created_at",
            postgresql_where=text(PENDING),
            sqlite_where=text(PENDING),
        ),
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
    # When the accurate tier re-read it (carebird.flows.reclassify); None: not yet.
    accurate_at: Mapped[datetime | None]


class Cursor(Base):
    """Where a source stopped; written in the same transaction as the messages it covers."""

    __tablename__ = "cursors"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
