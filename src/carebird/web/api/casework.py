"""Case work: notes, outside owners, merge and split, the customer's profile."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["casework"])
