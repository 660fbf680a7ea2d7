"""network accounts: credentials, options, API usage, source health, outbox retries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("network_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credentials", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("options", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("monthly_cap", sa.Float(), nullable=True))

    op.create_table(
        "api_usage",
        sa.Column("id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("op", sa.String(length=24), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["network_accounts.id"],
            name=op.f("fk_api_usage_account_id_network_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_usage")),
        sa.UniqueConstraint(
            "account_id", "month", "op", name=op.f("uq_api_usage_account_id_month_op")
        ),
    )
    op.create_table(
        "source_health",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("network", sa.String(length=16), nullable=False),
        sa.Column("account_id", ID, nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(), nullable=True),
        sa.Column("last_item_at", sa.DateTime(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_errors", sa.Integer(), nullable=False),
        sa.Column("items_total", sa.BigInteger(), nullable=False),
        sa.Column("polls_total", sa.BigInteger(), nullable=False),
        sa.Column("mean_gap_seconds", sa.Float(), nullable=True),
        sa.Column("rate_limits", sa.JSON(), nullable=False),
        sa.Column("paused_until", sa.DateTime(), nullable=True),
        sa.Column("paused_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["network_accounts.id"],
            name=op.f("fk_source_health_account_id_network_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_source_health")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("cost", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("cost")
        batch_op.drop_column("next_attempt_at")
    op.drop_table("source_health")
    op.drop_table("api_usage")
    with op.batch_alter_table("network_accounts", schema=None) as batch_op:
        batch_op.drop_column("monthly_cap")
        batch_op.drop_column("active")
        batch_op.drop_column("options")
        batch_op.drop_column("credentials")
