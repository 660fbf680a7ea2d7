"""An account's automatic acknowledgements ("message bien reçu…"): per channel, off by default
(see carebird.reply.acknowledgement). Admins read and set them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from carebird.reply.acknowledgement import get_ack_settings, set_ack_settings
from carebird.web.deps import Admin, DbSession
from carebird.web.params import Id

router = APIRouter(prefix="/api", tags=["accounts"])


@router.get("/accounts/{account_id}/acknowledgements")
def acknowledgements(account_id: Id, agent: Admin, session: DbSession) -> dict[str, Any]:
    """The account's settings: public, private, max_per_hour, automated_posts,
    automated_minutes, max_age_minutes."""
    return {"account_id": account_id, **get_ack_settings(session, account_id).as_dict()}


@router.put("/accounts/{account_id}/acknowledgements")
def set_acknowledgements(
    account_id: Id,
    body: Annotated[dict[str, Any], Body()],
    agent: Admin,
    session: DbSession,
) -> dict[str, Any]:
    """Replace the settings; a setting left out takes its default (off for both channels)."""
    settings = set_ack_settings(session, account_id, body)
    return {"account_id": account_id, **settings.as_dict()}
