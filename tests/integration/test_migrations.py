"""The migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from carebird.db.database import Database
from carebird.db.migrate import alembic_config, current, include_name
from carebird.db.models import Base

HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_the_migrations_form_one_line() -> None:
    assert HEAD is not None and HEAD.isdigit()


def test_migrated_schema_matches_the_models(db: Database) -> None:
    assert current(db.engine) == HEAD
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(db: Database) -> None:
    db.upgrade()
    db.upgrade()
    assert current(db.engine) == HEAD
