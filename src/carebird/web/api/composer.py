"""The composer: previews per network, length rules, templates, answer cards."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["composer"])
