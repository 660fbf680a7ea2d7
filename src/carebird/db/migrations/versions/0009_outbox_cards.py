"""outbox cards: an answer card rendered as an image and attached to the reply

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_title", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("card_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("card_text")
        batch_op.drop_column("card_title")
