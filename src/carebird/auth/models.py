"""Who works the desk: agents and teams, and their credentials (API tokens and browser
sessions, stored as SHA-256 digests only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column

from carebird.db.base import Base, Id, utcnow


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Told of the team's deadlines at risk (in the desk and by e-mail).
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL", use_alter=True)
    )
    # How a routed case finds its agent: manual | round_robin | least_loaded.
    assignment: Mapped[str] = mapped_column(
        String(16), default="manual", server_default=text("'manual'")
    )
    max_open_per_agent: Mapped[int | None]  # None: no cap
    # Round robin's cursor: the agent the team handed a case to last.
    last_assigned_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL", use_alter=True)
    )


class Agent(Base):
    """A desk user. `role` is one of admin, supervisor, agent, viewer."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    initials: Mapped[str] = mapped_column(String(8), default="")
    role: Mapped[str] = mapped_column(String(16), default="agent")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # available | away | offline: only available agents are handed new cases.
    status: Mapped[str] = mapped_column(
        String(16), default="available", server_default=text("'available'")
    )
    status_changed_at: Mapped[datetime | None]


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="api")  # api | session
    name: Mapped[str] = mapped_column(String(120), default="")
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)
