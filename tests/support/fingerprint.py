"""What the pipeline made of a fixed input, as plain JSON: the reference the speed work keeps.

`fingerprint(db)` lists every message (its case, category, sentiment, language), every case
(status, category, priority and its reasons, counts, subject), the inbox's first page and the
cases each search finds, keyed by external ids so database ids do not matter. Regenerate the
reference only when a change of output is intended:

    .venv/bin/python -m tests.support.fingerprint  # writes tests/data/pipeline_reference.json
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import time_machine
from sqlalchemy import select
from sqlalchemy.orm import aliased

from carebird.cases.inbox import InboxFilters, inbox
from carebird.cases.models import Case
from carebird.cases.states import Status
from carebird.db.database import Database
from carebird.flows.intake import process_batch
from carebird.ingest.models import Author, Message
from carebird.ingest.sim.network import SimulatedNetwork
from carebird.jobs.runner import register_accounts

REFERENCE = Path(__file__).resolve().parent.parent / "data" / "pipeline_reference.json"
FROZEN_AT = datetime(2026, 1, 9, 12, 0, tzinfo=UTC)  # a few days into the simulated stream
MESSAGES, BATCH, SEED = 1500, 250, 23
# Words, prefixes, accents, handles, a language facet and a query matching nothing.
SEARCHES = [
    "remboursement",
    "rembours",
    "livraison colis",
    "panne",
    "internet",
    "commande",
    "order",
    "refund",
    "merci",
    "thanks",
    "retard",
    "facture",
    "app",
    "Crème",
    "fibre",
    "zzzqqq",
    "82149557",
    "HR6CRW",
    "morin90",
]
LANGUAGES = ["fr", "en"]


def run_pipeline(db: Database) -> None:
    """The fixed input through the desk's pipeline, at a frozen instant, batch by batch."""
    from tests.factories import intake_for

    sim = SimulatedNetwork(seed=SEED, limit_total=MESSAGES)
    items, cursor = [], None
    while True:
        fetched = sim.fetch(cursor, limit=500)
        items.extend(fetched.items)
        cursor = fetched.cursor
        if not fetched.more:
            break
    register_accounts(db, sim)
    intake = intake_for()
    with time_machine.travel(FROZEN_AT, tick=False):
        for start in range(0, len(items), BATCH):
            with db.session() as session, session.begin():
                process_batch(session, items[start : start + BATCH], intake=intake)


def fingerprint(db: Database) -> dict[str, Any]:
    with time_machine.travel(FROZEN_AT, tick=False), db.session() as s:
        opening = aliased(Message)
        key_of = {
            case_id: ext
            for case_id, ext in s.execute(
                select(Case.id, opening.external_id).join(
                    opening, opening.id == Case.opening_message_id
                )
            )
        }
        messages = [
            [
                m.external_id,
                m.direction,
                m.kind,
                m.language,
                m.category,
                m.sentiment,
                key_of.get(m.case_id) if m.case_id else None,
            ]
            for m in s.scalars(select(Message).order_by(Message.network, Message.external_id))
        ]
        cases = [
            [
                key_of[c.id],
                handle,
                c.status,
                c.category,
                round(c.priority, 6),
                c.priority_reasons,
                c.message_count,
                c.subject,
            ]
            for c, handle in s.execute(
                select(Case, Author.handle).join(Author, Author.id == Case.customer_id)
            )
        ]
        cases.sort(key=lambda row: row[0])
        every = [str(st) for st in Status]

        def found(filters: InboxFilters) -> list[str]:
            keys: list[str] = []
            cursor = None
            while True:
                page = inbox(s, filters=filters, limit=200, cursor=cursor, count_cap=None)
                keys += [key_of[r.id] for r in page.items]
                if page.next is None:
                    return sorted(keys)
                cursor = page.next

        first_page = [key_of[r.id] for r in inbox(s, limit=50).items]
        searches = {q: found(InboxFilters(search=q, status=every)) for q in SEARCHES}
        languages = {lang: found(InboxFilters(language=lang, status=every)) for lang in LANGUAGES}
    return {
        "messages": messages,
        "cases": cases,
        "inbox_first_page": first_page,
        "searches": searches,
        "languages": languages,
    }


def dumps(data: dict[str, Any]) -> str:
    """JSON with one row per line, so a change shows as a readable diff."""
    parts = []
    for name, value in data.items():
        if isinstance(value, list):
            rows = ",\n".join(json.dumps(row, ensure_ascii=False) for row in value)
            parts.append(f"{json.dumps(name)}: [\n{rows}\n]")
        else:
            rows = ",\n".join(
                f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in value.items()
            )
            parts.append(f"{json.dumps(name)}: {{\n{rows}\n}}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/reference.db")
        db.upgrade()
        run_pipeline(db)
        data = fingerprint(db)
        db.dispose()
    REFERENCE.write_text(dumps(data))
    sys.stderr.write(f"wrote {REFERENCE} ({len(data['messages'])} messages)\n")


if __name__ == "__main__":
    main()
