"""surveys and survey_customers: the satisfaction survey after a resolution

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=True),
        sa.Column("team_id", ID, nullable=True),
        sa.Column("category", sa.String(length=24), nullable=True),
        sa.Column("network", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("outbox_id", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_surveys_score_range")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_surveys_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["authors.id"], name=op.f("fk_surveys_customer_id_authors")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["network_accounts.id"],
            name=op.f("fk_surveys_account_id_network_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_surveys_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_surveys_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_surveys_outbox_id_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("case_id", name=op.f("uq_surveys_case_id")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_surveys_token_digest")),
    )
    op.create_index(op.f("ix_surveys_customer_id"), "surveys", ["customer_id"])
    op.create_index(op.f("ix_surveys_account_id"), "surveys", ["account_id"])
    op.create_index(op.f("ix_surveys_agent_id"), "surveys", ["agent_id"])
    op.create_index(op.f("ix_surveys_created_at"), "surveys", ["created_at"])
    op.create_table(
        "survey_customers",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("last_offered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["authors.id"],
            name=op.f("fk_survey_customers_customer_id_authors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_survey_customers")),
    )


def downgrade() -> None:
    op.drop_table("survey_customers")
    op.drop_index(op.f("ix_surveys_created_at"), table_name="surveys")
    op.drop_index(op.f("ix_surveys_agent_id"), table_name="surveys")
    op.drop_index(op.f("ix_surveys_account_id"), table_name="surveys")
    op.drop_index(op.f("ix_surveys_customer_id"), table_name="surveys")
    op.drop_table("surveys")
