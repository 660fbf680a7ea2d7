"""Session factory bound to one engine; the unit of work is one `with session.begin()`."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def take_sqlite_write_lock(session: Session) -> None:
    """On SQLite, take the database's write lock now, before reading what will be written
    (a transaction that reads first and writes later lets another writer in between); on
    other engines, nothing (they lock rows)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE cases SET id = id WHERE 1 = 0"))
