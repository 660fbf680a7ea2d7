"""messages.accurate_at: when the accurate tier re-read an inbound message (None: not yet)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("accurate_at", sa.DateTime(), nullable=True))
    pending = sa.text("accurate_at IS NULL AND direction = 'in'")
    op.create_index(
        "ix_messages_accurate_pending",
        "messages",
        ["created_at"],
        postgresql_where=pending,
        sqlite_where=pending,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_accurate_pending", table_name="messages")
    op.drop_column("messages", "accurate_at")
