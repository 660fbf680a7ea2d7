"""live events, presence, inbox search

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_created_at"), ["created_at"], unique=False)

    op.create_table(
        "presence",
        sa.Column("case_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_presence_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_presence_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", "agent_id", name=op.f("pk_presence")),
    )
    with op.batch_alter_table("presence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_presence_seen_at"), ["seen_at"], unique=False)

    op.create_table(
        "case_terms",
        sa.Column("term", sa.String(length=48), nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_terms_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("term", "case_id", name=op.f("pk_case_terms")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("case_terms", schema=None) as batch_op:
        batch_op.create_index("ix_case_terms_case_id", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_table("case_terms")
    op.drop_table("presence")
    op.drop_table("events")
