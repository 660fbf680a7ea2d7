"""Bounded integers for every id, limit and offset a request can carry (path, query or body).

A row id is 1..2**63-1 on both engines (SQLite's INTEGER, PostgreSQL's BIGINT): an integer
outside that range names no row, and left unchecked it overflows the driver (a 500). Each
parameter says so in the OpenAPI document and is refused with 422 before any query runs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

MAX_ID = 2**63 - 1
MAX_OFFSET = 1_000_000  # far past any desk's list; OFFSET cost grows with it

# Path parameters: /cases/{case_id}
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
# Query parameters: ?team_id=3 (always optional filters)
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
# Body fields: {"owner_id": 3}
IdField = Annotated[int, Field(ge=1, le=MAX_ID)]


def parse_id(value: str | None) -> int | None:
    """A row id from free text (a header), or None when it is not one."""
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if number <= MAX_ID else None
