"""teams: a lead, an assignment mode and a cap per agent; an agent's status; an outbox row's
purpose (answer or acknowledgement)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite")))
        batch.add_column(
            sa.Column(
                "assignment", sa.String(16), nullable=False, server_default=sa.text("'manual'")
            )
        )
        batch.add_column(sa.Column("max_open_per_agent", sa.Integer()))
        batch.add_column(
            sa.Column("last_assigned_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"))
        )
        batch.create_foreign_key(
            op.f("fk_teams_lead_id_agents"), "agents", ["lead_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_foreign_key(
            op.f("fk_teams_last_assigned_id_agents"),
            "agents",
            ["last_assigned_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("agents") as batch:
        batch.add_column(
            sa.Column(
                "status", sa.String(16), nullable=False, server_default=sa.text("'available'")
            )
        )
        batch.add_column(sa.Column("status_changed_at", sa.DateTime()))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("purpose", sa.String(16), nullable=False, server_default=sa.text("'answer'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("purpose")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("status_changed_at")
        batch.drop_column("status")
    with op.batch_alter_table("teams") as batch:
        batch.drop_constraint(op.f("fk_teams_last_assigned_id_agents"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_teams_lead_id_agents"), type_="foreignkey")
        batch.drop_column("last_assigned_id")
        batch.drop_column("max_open_per_agent")
        batch.drop_column("assignment")
        batch.drop_column("lead_id")
