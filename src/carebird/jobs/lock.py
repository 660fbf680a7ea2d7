"""One embedded background runner per database.

On SQLite the lock is an OS file lock beside the database file (`flock`): the kernel drops it
when the process dies, `kill -9` included, so a restarted desk takes it back at once. On
PostgreSQL it is a session advisory lock held on a connection of its own, for the same reason.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from carebird.db.database import Database
from carebird.errors import CarebirdError

# Distinct from every other advisory key of the desk (events.py uses "carebird").
ADVISORY_KEY = int.from_bytes(b"cbrunner", "big") & 0x7FFF_FFFF_FFFF_FFFF


class RunnerBusy(CarebirdError):
    """Another process already runs the background work on this database."""


def lock_path(url: str) -> Path | None:
    """The lock file of a SQLite database, or None (in-memory SQLite, other engines)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve().with_name(Path(parsed.database).name + ".runner.lock")


@contextlib.contextmanager
def runner_lock(db: Database) -> Iterator[None]:
    """Hold the database's background-runner lock for the block, or raise RunnerBusy."""
    path = lock_path(db.url)
    if db.dialect == "postgresql":
        with _advisory_lock(db):
            yield
    elif path is not None:
        with _file_lock(path):
            yield
    else:
        yield  # an in-memory database lives in one process only


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    fh: IO[str] = path.open("a+")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise RunnerBusy(
                f"the background work on {path.with_suffix('').with_suffix('')} is already run "
                f"by {holder}; this process serves the web only (stop the other one, or use "
                "PostgreSQL and `carebird worker` to share the work)"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        yield
    finally:
        fh.close()  # closing the descriptor releases the lock


@contextlib.contextmanager
def _advisory_lock(db: Database) -> Iterator[None]:
    conn: Any = db.engine.connect()
    try:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
        conn.commit()
        if not got:
            raise RunnerBusy(
                "another process already runs the embedded background work on this database; "
                "this process serves the web only"
            )
        yield
    finally:
        with contextlib.suppress(Exception):
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            conn.commit()
        conn.close()
