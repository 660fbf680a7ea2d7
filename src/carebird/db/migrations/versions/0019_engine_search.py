"""search by the database engine: FTS5 (SQLite) or tsvector + pg_trgm (PostgreSQL); drop case_terms

Each case gets one search row (carebird.cases.search), filled here from the existing cases;
the hand-written inverted index `case_terms` goes. Downgrade recreates `case_terms` empty:
`carebird db reindex` of that version fills it again.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE = [
    # One row per case (rowid = case id): its words, then its opening message's language.
    "CREATE VIRTUAL TABLE case_search USING fts5(words, lang, "
    "tokenize = \"unicode61 remove_diacritics 2 tokenchars '_'\", prefix = '3 4 5')",
    # Its references (words with a digit), found by any substring of three characters.
    "CREATE VIRTUAL TABLE case_refs USING fts5(refs, tokenize = 'trigram')",
]
POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE case_search ("
    " case_id BIGINT NOT NULL,"
    " lang VARCHAR(16) NOT NULL DEFAULT '',"
    " doc TSVECTOR NOT NULL,"
    " refs TEXT NOT NULL DEFAULT '',"
    " CONSTRAINT pk_case_search PRIMARY KEY (case_id),"
    " CONSTRAINT fk_case_search_case_id_cases FOREIGN KEY (case_id)"
    " REFERENCES cases (id) ON DELETE CASCADE)",
    "CREATE INDEX ix_case_search_doc ON case_search USING gin (doc)",
    "CREATE INDEX ix_case_search_refs ON case_search USING gin (refs gin_trgm_ops)",
    "CREATE INDEX ix_case_search_lang ON case_search (lang, case_id)",
]


def upgrade() -> None:
    from carebird.cases.search import reindex_all

    bind = op.get_bind()
    for statement in POSTGRESQL if bind.dialect.name == "postgresql" else SQLITE:
        op.execute(statement)
    reindex_all(Session(bind=bind))
    op.drop_table("case_terms")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE case_search")  # pg_trgm stays: other objects may use it
    else:
        op.execute("DROP TABLE case_refs")
        op.execute("DROP TABLE case_search")
    op.create_table(
        "case_terms",
        sa.Column("term", sa.String(length=48), nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_terms_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("term", "case_id", name=op.f("pk_case_terms")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("case_terms", schema=None) as batch_op:
        batch_op.create_index("ix_case_terms_case_id", ["case_id"], unique=False)
