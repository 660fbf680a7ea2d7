"""Live events are typed: one class per kind, one list of kinds, read by the pages."""

from __future__ import annotations

import html
import json
import re

from carebird.db.database import Database
from carebird.live import events
from carebird.live.events import ANNOUNCEMENTS, KINDS, Announcement, CaseNew, events_after
from tests.factories import TestClient


def test_every_kind_is_one_class_and_listed_once() -> None:
    declared = {
        c for c in vars(events).values() if isinstance(c, type) and issubclass(c, Announcement)
    }
    assert declared - {Announcement} == set(ANNOUNCEMENTS)
    assert len(set(KINDS)) == len(KINDS) == len(ANNOUNCEMENTS)


def test_publish_writes_the_kind_and_the_case(db: Database) -> None:
    with db.session() as s, s.begin():
        events.publish(s, CaseNew({"case_id": 7, "status": "new"}), CaseNew({"x": 1}, case_id=8))
    with db.session() as s:
        got = [(e.kind, e.case_id, e.payload) for e in events_after(s, 0)]
    assert got == [("case.new", 7, {"case_id": 7, "status": "new"}), ("case.new", 8, {"x": 1})]


def test_pages_carry_the_kinds_the_client_listens_to(client: TestClient) -> None:
    page = client.get("/login")  # every page extends the base template that carries them
    found = re.search(r'data-live-kinds="([^"]*)"', page.text)
    assert found is not None and json.loads(html.unescape(found.group(1))) == list(KINDS)
