"""indexes for the inbox's filters and orders: each ends in (priority, id), the keyset's order

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 22:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name -> columns; carebird.cases.models.Case.__table_args__ declares the same.
INDEXES = {
    "ix_cases_priority_id": ["priority", "id"],
    "ix_cases_status_priority": ["status", "priority", "id"],
    "ix_cases_assignee_priority": ["assignee_id", "priority", "id"],
    "ix_cases_team_priority": ["team_id", "priority", "id"],
    "ix_cases_account_priority": ["account_id", "priority", "id"],
    "ix_cases_activity_id": ["last_activity_at", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "cases", columns, unique=False)


def downgrade() -> None:
    for name in reversed(list(INDEXES)):
        op.drop_index(name, table_name="cases")
