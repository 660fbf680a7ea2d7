"""oauth_apps: the desk's app registered on each Mastodon instance (client id, sealed secret)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "oauth_apps",
        sa.Column("id", Id, nullable=False),
        sa.Column("network", sa.String(16), nullable=False),
        sa.Column("instance", sa.String(300), nullable=False),
        sa.Column("redirect_uri", sa.String(500), nullable=False),
        sa.Column("client_id", sa.String(300), nullable=False),
        sa.Column("client_secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_apps")),
        sa.UniqueConstraint(
            "network",
            "instance",
            "redirect_uri",
            name=op.f("uq_oauth_apps_network_instance_redirect_uri"),
        ),
    )


def downgrade() -> None:
    op.drop_table("oauth_apps")
