"""The migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from carebird.db.database import Database
from carebird.db.migrate import current
from carebird.db.models import Base


def test_migrated_schema_matches_the_models(db: Database) -> None:
    assert current(db.engine) == "0002"
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(db: Database) -> None:
    db.upgrade()
    db.upgrade()
    assert current(db.engine) == "0002"
