"""What the planner does with the inbox's page statement: EXPLAIN on either engine.

The statement is the one the code sends (captured as it runs), not a copy, so the plan shown
is the plan used. Shared by `benchmarks.inbox` and tests/integration/test_inbox_plans.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from carebird.db.database import Database


@contextmanager
def page_statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """The paged statements (ORDER BY … LIMIT, not the count) sent while the block runs."""
    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "ORDER BY cases." in statement and "count(" not in statement:
            seen.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)


def plan_of(db: Database, call: Callable[[Session], object]) -> str:
    """The plan of the last page statement `call` sends."""
    with page_statements(db) as seen, db.session() as s:
        call(s)
    statement, params = seen[-1]
    prefix = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN "
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, params).all()
    return "\n".join(str(r[-1]) for r in rows)


def cases_scan(plan: str) -> str:
    """The plan's line that reads the cases table (its index, or a full scan)."""
    lines = [ln for ln in plan.splitlines() if " cases " in f"{ln} " and "SUBQUERY" not in ln]
    return lines[0].strip() if lines else plan


def sorts(plan: str) -> bool:
    """Whether the plan sorts rows (rather than reading them in the index's order)."""
    return "TEMP B-TREE" in plan or "Sort Key" in plan
