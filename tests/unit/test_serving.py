"""A serving process tunes the cyclic garbage collector once its app is built."""

from __future__ import annotations

import gc

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
        assert before[0] < YOUNG_COLLECTION_EVERY  # rarer than CPython's default
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
