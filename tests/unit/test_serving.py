"""A serving process: the garbage collector tuned once its app is built; the background work
of `serve --workers N` on its own thread."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

import pytest

from carebird.config import Settings
from carebird.db.database import Database
from carebird.jobs import runner
from carebird.web.app import YOUNG_COLLECTION_EVERY, tune_collector


def test_start_up_objects_are_set_aside_and_young_collections_spaced() -> None:
    before = gc.get_threshold()
    try:
        gc.unfreeze()
        held = {"made at start-up": [object()]}
        assert any(o is held for o in gc.get_objects())
        tune_collector()
        assert gc.get_freeze_count() > 0
        assert not any(o is held for o in gc.get_objects())  # no collection walks it again
        assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, 20, 20)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_background_work_that_cannot_start_stops_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`serve --workers N` runs the background work on a thread of the supervising process:
    when it cannot start, the command fails as `serve` does, rather than serve without it."""

    @contextlib.asynccontextmanager
    async def broken(settings: Settings, db: Database) -> AsyncIterator[None]:
        raise RuntimeError("the intake's model is missing")
        yield

    monkeypatch.setattr(runner, "serve_background", broken)
    settings = Settings(database_url="sqlite://", secret_key="s" * 40)
    with (
        pytest.raises(RuntimeError, match="model is missing"),
        runner.background_thread(settings, Database("sqlite://")),
    ):
        raise AssertionError("the block must not run")
