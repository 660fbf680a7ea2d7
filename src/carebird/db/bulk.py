"""Bulk writes through SQLAlchemy Core (one executemany per table per batch), for the hot
paths that must not pay for the ORM's unit of work or its bulk machinery.

They run on the session's connection, in its transaction; the session's identity map is not
updated (as with the ORM's bulk UPDATE by primary key)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def update_by_id(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """`UPDATE table SET … WHERE id = ?` as one Core executemany; every row has the same keys,
    "id" among them."""
    if not rows:
        return
    names = [k for k in rows[0] if k != "id"]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values({k: bindparam(f"b_{k}") for k in names})
    )
    session.connection().execute(stmt, [{f"b_{k}": v for k, v in r.items()} for r in rows])


def insert_ignoring_duplicates(session: Session, table: Any, keys: Sequence[str]) -> Any:
    """`INSERT … ON CONFLICT (keys) DO NOTHING` in the session's dialect (both engines)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return pg_insert(table).on_conflict_do_nothing(index_elements=list(keys))
    if dialect == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing(index_elements=list(keys))
    return insert(table)


def uniform(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` with the same keys (a Core executemany compiles one statement from the first):
    a column some rows lack gets the column's default, as the ORM would have given it."""
    keys = {k for r in rows for k in r}
    for key in keys:
        default = _column_default(table.c[key])
        for r in rows:
            if key not in r:
                r[key] = default()
    return rows


def _column_default(column: Any) -> Callable[[], Any]:
    default = column.default
    if default is None:
        return lambda: None
    if default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy wraps a no-argument callable
    return lambda: default.arg
