"""Run Alembic migrations programmatically (`carebird db upgrade`, tests, the demo)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x6362_6D69_6772  # "cbmigr": one upgrade at a time per database
# Tables the migrations make per engine, outside the models (carebird.cases.search): FTS5
# virtual tables and their shadow tables on SQLite, the tsvector table on PostgreSQL.
ENGINE_TABLES = ("case_search", "case_refs")


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Whether autogenerate compares this object (not the engine-specific search tables)."""
    if type_ == "table" and name is not None:
        return not any(name == t or name.startswith(f"{t}_") for t in ENGINE_TABLES)
    return True


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Web processes and workers starting together upgrade one after the other (the
            # later ones find the schema at head); the lock ends with the transaction.
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
