"""A desk of any size, fast: cases, customers and messages written by bulk Core inserts.

Not the pipeline (`benchmarks.connectors` and `carebird bench` measure that): rows shaped like
the pipeline's — a case per customer problem, its opening message (with its language), an
answer of ours on some, a follow-up on fewer, tags on a few — then the search index rebuilt
by `carebird.cases.search.reindex_all`, whichever implementation of search is installed.

Texts draw from a few common words (many matches), many rare invented words (few matches),
and an order reference per case ("CMD-1234567"), so searches for a word, a prefix and a piece
of a reference all have something to find. Priorities have two decimals: many ties, which the
keyset (priority, id) must page through without losing or repeating a case.

A desk at its steady state: every message already read by the accurate tier, as its
background pass keeps up with live traffic (else a desk started on the seed spends its first
minutes re-reading the whole history, beside whatever is measured); the caller writes the
deadline marks due and the signals kept on each case (`benchmarks.inbox` does, with the
desk's own watcher and re-scoring).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text

from carebird.auth.models import Agent, Team
from carebird.cases.models import Case, CaseTag
from carebird.cases.search import reindex_all
from carebird.db.database import Database
from carebird.ingest.models import Author, Message, NetworkAccount

COMMON = [
    "commande",
    "livraison",
    "colis",
    "retard",
    "remboursement",
    "facture",
    "produit",
    "service",
    "client",
    "order",
    "delivery",
    "package",
    "refund",
    "invoice",
    "account",
    "broken",
    "please",
    "help",
]
ACTIVE = ("new", "open", "waiting_customer", "waiting_third_party")
CATEGORIES = ("complaint", "assistance", "question", "suggestion", "praise", "other")
LANGUAGES = ("fr", "fr", "fr", "en", "en", "es", "de")
TAGS = ("vip", "legal", "press", "refund")
SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "ka",
    "ke",
    "ki",
    "ko",
    "ku",
    "la",
    "le",
    "li",
    "lo",
    "lu",
    "ma",
    "me",
    "mi",
    "mo",
    "mu",
    "ra",
    "re",
    "ri",
    "ro",
    "ru",
]
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
CHUNK = 20_000
Rows = list[dict[str, Any]]


@dataclass(slots=True)
class Desk:
    cases: int
    active: int
    messages: int
    agent_ids: list[int]
    team_ids: list[int]
    account_ids: list[int]
    seconds: float = 0.0
    index_seconds: float = 0.0


def rare_words(n: int, rng: random.Random) -> list[str]:
    words = {"".join(rng.choice(SYLLABLES) for _ in range(4)) for _ in range(n * 2)}
    return sorted(words)[:n]


def reference(case_id: int) -> str:
    return f"CMD-{1_000_000 + (case_id * 7919) % 9_000_000}"


def _people(db: Database, agents: int) -> tuple[list[int], list[int], list[int], int]:
    """Agents, teams, the brand's accounts and its author row."""
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        for i in range(3):
            conn.execute(
                insert(NetworkAccount).values(
                    network="x", handle=f"Brand_{i}", display_name=f"Brand {i}", created_at=now
                )
            )
        for i in range(5):
            conn.execute(insert(Team).values(name=f"Team {i}", created_at=now))
        for i in range(agents):
            conn.execute(
                insert(Agent).values(
                    email=f"seed{i}@example.test", name=f"Seed Agent {i}", initials="SA",
                    role="agent", locale="fr", timezone="Europe/Paris", created_at=now,
                )
            )  # fmt: skip
        brand = conn.execute(
            insert(Author).values(
                network="x", external_id="brand", handle="Brand_0", display_name="Brand",
                followers=0, verified=True, is_brand=True, updated_at=now,
            )
        ).inserted_primary_key  # fmt: skip
        ids = [
            [r[0] for r in conn.execute(text(f"SELECT id FROM {t} ORDER BY id"))]
            for t in ("agents", "teams", "network_accounts")
        ]
    assert brand is not None
    return ids[0], ids[1], ids[2], int(brand[0])


def _rows(
    n: int, desk: Desk, brand_id: int, active_share: float, seed: int
) -> Iterator[tuple[Rows, Rows, Rows, Rows]]:
    """Authors, cases, messages and tags, one chunk of cases at a time."""
    rng = random.Random(seed)
    rare = rare_words(5000, rng)
    mid = 0
    for start in range(1, n + 1, CHUNK):
        authors: Rows = []
        cases: Rows = []
        messages: Rows = []
        tags: Rows = []
        for cid in range(start, min(n, start + CHUNK - 1) + 1):
            at = T0 + timedelta(seconds=cid * 20)
            words = [rng.choice(COMMON) for _ in range(3)] + [rng.choice(rare) for _ in range(2)]
            body = f"{' '.join(words)} {reference(cid)}"
            author_id = brand_id + cid
            authors.append(
                {"id": author_id, "network": "x", "external_id": f"a{cid}",
                 "handle": f"customer{cid}", "display_name": f"Customer {cid}",
                 "followers": rng.randrange(5000), "verified": False, "is_brand": False,
                 "updated_at": at}
            )  # fmt: skip
            active = rng.random() < active_share
            answered, followed = rng.random() < 0.4, rng.random() < 0.2
            thread = [("in", "mention", body, at)]
            if answered:
                thread.append(
                    ("out", "reply", "Bonjour, nous regardons.", at + timedelta(minutes=9))
                )
                if followed:
                    again = f"{rng.choice(COMMON)} merci"
                    thread.append(("in", "reply", again, at + timedelta(minutes=30)))
            opening = mid + 1
            language = rng.choice(LANGUAGES)
            for direction, kind, txt, when in thread:
                mid += 1
                messages.append(
                    {"id": mid, "network": "x", "external_id": f"s{mid}", "direction": direction,
                     "kind": kind, "account_id": desk.account_ids[0],
                     "author_id": author_id if direction == "in" else brand_id, "case_id": cid,
                     "text": txt, "language": language if direction == "in" else None,
                     "created_at": when, "accurate_at": when}
                )  # fmt: skip
            last = thread[-1][3]
            cases.append(
                {"id": cid, "network": "x", "customer_id": author_id,
                 "account_id": rng.choice(desk.account_ids),
                 "status": rng.choice(ACTIVE) if active else "resolved",
                 "category": rng.choice(CATEGORIES), "priority": round(rng.random() * 10, 2),
                 "priority_reasons": [], "subject": body[:200],
                 "assignee_id": rng.choice(desk.agent_ids) if rng.random() < 0.6 else None,
                 "team_id": rng.choice(desk.team_ids) if rng.random() < 0.7 else None,
                 "created_at": at, "last_activity_at": last,
                 "resolved_at": None if active else last + timedelta(hours=1),
                 "message_count": len(thread), "opening_message_id": opening}
            )  # fmt: skip
            if rng.random() < 0.1:
                tags.append({"case_id": cid, "tag": rng.choice(TAGS)})
        yield authors, cases, messages, tags


def seed(
    db: Database,
    *,
    cases: int,
    active_share: float = 0.2,
    seed: int = 3,
    agents: int = 20,
    search_index: bool = True,
) -> Desk:
    """Fill an empty, migrated database with `cases` cases; returns what it holds."""
    t0 = time.perf_counter()
    agent_ids, teams, accounts, brand_id = _people(db, agents)
    desk = Desk(cases, 0, 0, agent_ids, teams, accounts)
    for authors, case_rows, messages, tags in _rows(cases, desk, brand_id, active_share, seed):
        with db.engine.begin() as conn:
            conn.execute(insert(Author), authors)
            conn.execute(insert(Case), case_rows)
            conn.execute(insert(Message), messages)
            if tags:
                conn.execute(insert(CaseTag), tags)
        desk.active += sum(1 for c in case_rows if c["status"] != "resolved")
        desk.messages += len(messages)
    _fix_sequences(db)
    t1 = time.perf_counter()
    if search_index:
        with db.session() as s, s.begin():
            reindex_all(s)
    desk.index_seconds = time.perf_counter() - t1
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    desk.seconds = time.perf_counter() - t0
    return desk


def _fix_sequences(db: Database) -> None:
    """PostgreSQL: the next id after the ones given explicitly."""
    if db.dialect != "postgresql":
        return
    with db.engine.begin() as conn:
        for table in ("authors", "cases", "messages"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
