"""The registry of background runners: who is doing the desk's background work, and since when.

Every runner (an embedded `serve`, a `carebird worker`) beats here on a short interval; the
System page and `carebird doctor` read it. A row whose beat is older than `STALE_AFTER` belongs
to a runner that stopped (or was killed) and is shown as such.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from carebird.db.base import Base, Id, utcnow

STALE_AFTER = timedelta(seconds=60)


class WorkerBeat(Base):
    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)  # host:pid:kind
    kind: Mapped[str] = mapped_column(String(16))  # "embedded" (serve) or "worker"
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    stopped_at: Mapped[datetime | None]
    # What it last did, for the System page: {"task": "send_outbox", "at": "...", ...}.
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
