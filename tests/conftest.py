"""Shared fixtures: every `db` test runs on SQLite and on a throwaway PostgreSQL cluster.

Both engines start from a template migrated once per run, so a test gets a fresh database
in milliseconds (a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL).
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from carebird.config import Settings
from carebird.db.database import Database
from carebird.web.app import create_app
from tests.factories import TestClient
from tests.support.pg_cluster import PgCluster
from tests.support.shared import shared_data

__all__ = ["shared_data"]
# Settings built in this process: the accurate tier's background pass is off unless asked for.
os.environ.setdefault("CAREBIRD_ACCURATE_TIER", "false")
_counter = itertools.count()


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
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_db_url(
    engine_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], str]]:
    """A factory of fresh, migrated, empty databases on the test's engine."""
    created: list[str] = []

    def make() -> str:
        n = next(_counter)
        if engine_name == "sqlite":
            template: Path = request.getfixturevalue("sqlite_template")
            path = tmp_path / f"carebird{n}.db"
            shutil.copyfile(template, path)
            return f"sqlite:///{path}"
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        name = f"t{os.getpid()}_{n}"
        cluster.create_database(name, template="template_carebird")
        created.append(name)
        return cluster.url(name)

    yield make
    if created:
        cluster = request.getfixturevalue("pg_cluster")
        for name in created:
            cluster.drop_database(name)


@pytest.fixture
def db_url(new_db_url: Callable[[], str]) -> str:
    """The URL of a fresh, migrated, empty database on each engine."""
    return new_db_url()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    # A private key, as a deployment must have (the built-in one is refused outside dev).
    return Settings(env="test", database_url=db_url, secret_key=secrets.token_urlsafe(32))


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    """The desk's application on the test's database (both engines)."""
    return create_app(settings, db=db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c
