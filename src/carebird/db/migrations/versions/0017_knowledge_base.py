"""The knowledge base (articles, their versions) and the suggestions agents chose

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-07 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "account_id",
            ID,
            sa.ForeignKey("network_accounts.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", ID, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", ID, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("slug"),
    )
    op.create_index("ix_articles_account_id", "articles", ["account_id"])
    op.create_table(
        "article_versions",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "article_id", ID, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_by", ID, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.UniqueConstraint("article_id", "version"),
    )
    op.create_table(
        "suggestion_uses",
        sa.Column("id", ID, primary_key=True),
        sa.Column("case_id", ID, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("agent_id", ID, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("message_text", sa.Text(), nullable=False),
        sa.Column("inserted_text", sa.Text(), nullable=False),
        sa.Column("sent_text", sa.Text()),
        sa.Column("kept", sa.Float()),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime()),
    )
    op.create_index("ix_suggestion_uses_case_id", "suggestion_uses", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_suggestion_uses_case_id", table_name="suggestion_uses")
    op.drop_table("suggestion_uses")
    op.drop_table("article_versions")
    op.drop_index("ix_articles_account_id", table_name="articles")
    op.drop_table("articles")
