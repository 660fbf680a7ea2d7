"""Bidi controls in customers' text (U+202E RIGHT-TO-LEFT OVERRIDE…) cannot reorder the
pages: the text sits in an isolating element (dir="auto", <bdi>) and each control is shown
as a visible marker."""

from __future__ import annotations

import re
from typing import Any

from carebird.cases.forwarding import create_owner
from carebird.db.database import Database
from carebird.flows.forwarding import forward_case
from carebird.ingest.base import AuthorInfo
from tests.factories import TestClient, agent_with_token, case_of, ingest, item

RLO, PDI, LRI = "\u202e", "\u2069", "\u2066"
EVIL = AuthorInfo("u66", f"eve{RLO}gpj.exe", f"Eve {LRI}Admin{PDI}")
TEXT = f"Mon colis {RLO}987 ed kcart est perdu"
SHOWN = "Mon colis ⟨U+202E⟩987 ed kcart est perdu"


def outside_data(body: str) -> str:
    """The page without the JSON the scripts read (their text goes through textContent)."""
    return re.sub(r'data-[a-z-]+="[^"]*"', "", body)


def test_case_page_isolates_and_shows_bidi_controls(client: TestClient, db: Database) -> None:
    ingest(db, [item(EVIL, TEXT, external_id="b1")])
    _, token = agent_with_token(db, "viewer")
    client.cookies.set("carebird_session", token)
    page = client.get(f"/cases/{case_of(db, 'b1')}")
    assert page.status_code == 200
    body = page.text
    assert f'<p class="subject" id="case-subject" dir="auto">{SHOWN}</p>' in body
    assert "<bdi>eve⟨U+202E⟩gpj.exe</bdi> (<bdi>Eve ⟨U+2066⟩Admin⟨U+2069⟩</bdi>)" in body
    assert not re.search(f"[{RLO}{LRI}{PDI}]", outside_data(body))


class CaughtMail:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, **mail: Any) -> None:
        self.sent.append(mail)


def test_outside_page_isolates_and_shows_bidi_controls(client: TestClient, db: Database) -> None:
    ingest(db, [item(EVIL, TEXT, external_id="b2")])
    agent, _ = agent_with_token(db, "agent")
    with db.session() as s, s.begin():
        owner = create_owner(s, name="Paul", email="paul@transport.test")
        done = forward_case(
            s,
            case_id=case_of(db, "b2"),
            owner_id=owner.id,
            note=f"Vérifiez {RLO}tôpéd el",
            due_hours=24,
            actor_id=agent.id,
            mailer=CaughtMail(),  # type: ignore[arg-type]
            public_url="http://testserver",
            tell_customer=False,
        )
    page = client.get(done.link.removeprefix("http://testserver"))
    assert page.status_code == 200, page.text
    body = page.text
    assert f'<p class="text" dir="auto">{SHOWN}</p>' in body
    assert '<p class="text" dir="auto">Vérifiez ⟨U+202E⟩tôpéd el</p>' in body
    assert "<bdi>@eve⟨U+202E⟩gpj.exe</bdi>" in body
    assert not re.search(f"[{RLO}{LRI}{PDI}]", body)
