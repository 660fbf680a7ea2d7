"""cases: the signals scoring needs of their latest messages, kept on the case (backfilled)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 22:45:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("inbound_count", sa.Integer(), False),
    ("inbound_category", sa.String(length=24), True),
    ("inbound_sentiment", sa.String(length=12), True),
    ("inbound_cues", sa.JSON(none_as_null=True), True),
    ("inbound_interactions", sa.Integer(), False),
    ("inbound_interactions_at_arrival", sa.Integer(), False),
    ("waiting_since", sa.DateTime(), True),
    ("recent_messages", sa.JSON(none_as_null=True), True),
)
BATCH = 500


def upgrade() -> None:
    for name, type_, nullable in COLUMNS:
        default = None if nullable else sa.text("0")
        op.add_column("cases", sa.Column(name, type_, nullable=nullable, server_default=default))
    _backfill()


def _backfill() -> None:
    """Every case's signals from its latest messages, BATCH cases at a time (both engines)."""
    from carebird.cases.models import Case
    from carebird.cases.scoring import recent_windows
    from carebird.cases.signals import summarize

    session = Session(bind=op.get_bind())
    last = 0
    while True:
        ids = list(
            session.scalars(sa.select(Case.id).where(Case.id > last).order_by(Case.id).limit(BATCH))
        )
        if not ids:
            break
        windows = recent_windows(session, ids)
        # Only the columns this revision adds: a signal a later revision adds is not there yet.
        names = {name for name, _, _ in COLUMNS}
        rows: list[dict[str, Any]] = [
            {"id": case_id}
            | {k: v for k, v in summarize(windows.get(case_id, [])).items() if k in names}
            for case_id in ids
        ]
        session.execute(sa.update(Case), rows)
        last = ids[-1]


def downgrade() -> None:
    for name, _, _ in reversed(COLUMNS):  # SQLite drops columns in place (3.35+)
        op.drop_column("cases", name)
