"""inbound messages by time: the incident watch reads each batch's recent history through it

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INBOUND = "direction = 'in' AND case_id IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_messages_inbound_created",
        "messages",
        ["created_at", "id"],
        unique=False,
        postgresql_where=sa.text(INBOUND),
        sqlite_where=sa.text(INBOUND),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_inbound_created", table_name="messages")
