"""The message stream, in and out, across cases."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from carebird.cases import queries
from carebird.web.api.schemas import MessagePage
from carebird.web.deps import DbSession, Viewer
from carebird.web.params import IdQuery, Offset

router = APIRouter(prefix="/api", tags=["messages"])


@router.get("/messages", response_model=MessagePage)
def list_messages(
    agent: Viewer,
    session: DbSession,
    case_id: IdQuery = None,
    direction: Literal["in", "out"] | None = None,
    network: str | None = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_LIMIT)] = 50,
    offset: Offset = 0,
) -> queries.Page[queries.MessageRow]:
    """Oldest first within one case (`case_id`), newest first otherwise."""
    return queries.list_messages(
        session, case_id=case_id, direction=direction, network=network, limit=limit, offset=offset
    )
