"""Access to ../shared/data: tests that read it skip, saying why, where it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared_data(relative: str) -> Path:
    """A file from ../shared/data, or a skip saying why when this machine lacks it."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} is absent on this machine (CI always has ../shared/data)")
    return path
