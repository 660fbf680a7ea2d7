"""Live updates: the event stream, presence, bulk actions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["live"])
