"""wait_estimates: each account's latest expected wait (the live estimate, one row each)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "wait_estimates",
        sa.Column("account_id", ID, nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("open_seconds", sa.Float(), nullable=False),
        sa.Column("opens_at", sa.DateTime(), nullable=True),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("sample", sa.Integer(), nullable=False),
        sa.Column("backlog", sa.Integer(), nullable=False),
        sa.Column("agents", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["network_accounts.id"],
            name=op.f("fk_wait_estimates_account_id_network_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_wait_estimates")),
    )


def downgrade() -> None:
    op.drop_table("wait_estimates")
