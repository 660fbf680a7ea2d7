"""understanding

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 06:59:27.700075
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("task", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=24), nullable=False),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_labels_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_labels_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
    )
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_labels_message_id"), ["message_id"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "category_source", sa.String(length=8), nullable=False, server_default="model"
            )
        )
        batch_op.create_index(batch_op.f("ix_cases_priority"), ["priority"], unique=False)

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("interactions", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("interactions_at_arrival", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("category", sa.String(length=24), nullable=True))
        batch_op.add_column(
            sa.Column("category_scores", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(sa.Column("sentiment", sa.String(length=12), nullable=True))
        batch_op.add_column(
            sa.Column("cues", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(
            sa.Column("personal_data", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("personal_data")
        batch_op.drop_column("cues")
        batch_op.drop_column("sentiment")
        batch_op.drop_column("category_scores")
        batch_op.drop_column("category")
        batch_op.drop_column("interactions_at_arrival")
        batch_op.drop_column("interactions")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_priority"))
        batch_op.drop_column("category_source")

    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_labels_message_id"))

    op.drop_table("labels")
