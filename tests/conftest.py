"""Shared fixtures: every `db` test runs on SQLite and on a throwaway PostgreSQL cluster.

Both engines start from a template migrated once per run, so a test gets a fresh database
in milliseconds (a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL).
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from carebird.config import Settings
from carebird.db.database import Database

sys.path.insert(0, str(Path(__file__).parent))
from support.pg_cluster import PgCluster  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
_counter = itertools.count()


def shared_data(relative: str) -> Path:
    """A file from ../shared/data, or a skip saying why when this machine lacks it."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} is absent on this machine (CI always has ../shared/data)")
    return path


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    url = os.environ.get("CAREBIRD_TEST_PG_URL")
    if url:  # an external server was given; tests still create their own databases on it
        raise pytest.UsageError("CAREBIRD_TEST_PG_URL is not supported yet; let tests start one")
    with PgCluster() as cluster:
        cluster.create_database("template_carebird")
        db = Database(cluster.url("template_carebird"))
        db.upgrade()
        db.dispose()
        yield cluster


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated, empty database on each engine."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "carebird.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = f"t{os.getpid()}_{next(_counter)}"
    cluster.create_database(name, template="template_carebird")
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(env="test", database_url=db_url, secret_key="test-secret-" + "x" * 20)
