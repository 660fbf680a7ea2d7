"""The speed work changes how the pipeline writes, never what it makes: on a fixed simulated
input the messages, cases, categories, priorities, inbox order and search results equal the
reference recorded from the pipeline before that work (tests/support/fingerprint.py)."""

from __future__ import annotations

import json

from carebird.db.database import Database
from tests.support.fingerprint import REFERENCE, fingerprint, run_pipeline


def test_the_pipeline_makes_what_it_made_before(db: Database) -> None:
    reference = json.loads(REFERENCE.read_text())
    run_pipeline(db)
    now = json.loads(json.dumps(fingerprint(db), ensure_ascii=False))
    assert len(now["messages"]) == len(reference["messages"]) >= 1500
    for section in ("messages", "cases", "inbox_first_page", "languages"):
        assert now[section] == reference[section], section
    for q, expected in reference["searches"].items():
        assert now["searches"][q] == expected, q
    # The reference is not empty where it matters: searches and facets find cases.
    assert sum(1 for hits in reference["searches"].values() if hits) >= 8
    assert all(reference["languages"].values())
