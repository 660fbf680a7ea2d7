"""Search by the engine (FTS5 on SQLite, tsvector + pg_trgm on PostgreSQL): words, prefixes,
accents, handles, references by substring, facets, hostile queries, a case written to again or
split, the migration both ways, and the agent's path through `GET /api/inbox?q=`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from carebird.cases import search
from carebird.cases.inbox import InboxFilters, inbox
from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.cases.search import facet_condition, indexed_cases, reindex_all
from carebird.config import Settings
from carebird.db.database import Database
from carebird.db.migrate import alembic_config, upgrade
from carebird.flows.casework import split_case
from carebird.ingest.base import AuthorInfo
from carebird.ingest.models import Message
from carebird.web.app import create_app
from tests.factories import TestClient, agent_with_token, bearer, case_of, customer, ingest, item

HOSTILE = [
    '"',
    '""',
    "*",
    "parcel*",
    '"parcel"',
    "-parcel",
    "(parcel",
    "parcel)",
    "NEAR(parcel zeppelin)",
    "parcel OR zzzz",
    "parcel NOT zeppelin",
    "words:parcel",
    "{words lang}: parcel",
    "^parcel",
    "parcel\x00",
    "'; DROP TABLE cases; --",
    "pa%rcel_",
    "parcel:*",
    "parcel & !zeppelin",
    "\\",
    "x" * 100_000,
    "parcel " * 5_000,
]


@dataclass
class Cases:
    fr: int
    booking: int
    parcel: int


def build(db: Database) -> Cases:
    ingest(
        db,
        [
            item(
                customer(1),
                "Ma commande 82149557 n'est jamais arrivée, je veux un remboursement immédiat",
                external_id="fr",
            ),
            item(customer(2), "My booking HR6CRW was cancelled, crème brûlée", external_id="bk"),
            item(customer(3), "My parcel is late again", external_id="p1"),
        ],
    )
    ingest(db, [item(customer(3), "tracking says zeppelin", minutes=5, in_reply_to_id="p1")])
    return Cases(case_of(db, "fr"), case_of(db, "bk"), case_of(db, "p1"))


def found(db: Database, q: str | None = None, **filters: object) -> set[int]:
    with db.session() as s:
        page = inbox(s, filters=InboxFilters(search=q, **filters), limit=200)  # type: ignore[arg-type]
    return {r.id for r in page.items}


def test_words_prefixes_accents_handles_and_every_word(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = build(db)
    for common in (search.COMMON, 1):  # few matches listed, many matches as a set (SQLite)
        monkeypatch.setattr(search, "COMMON", common)
        assert found(db, "customer") == {c.fr, c.booking, c.parcel}
        assert found(db, "customer late") == {c.parcel}
        assert found(db, "557 customer", language="fr") == {c.fr}
    assert found(db, "remboursement") == {c.fr}
    assert found(db, "REMBOURS") == {c.fr}  # a word prefix, any case
    assert found(db, "arrivee") == {c.fr}  # accents folded
    assert found(db, "CREME Brûlée") == {c.booking}
    assert found(db, "customer2") == {c.booking}  # the customer's handle
    assert found(db, "Customer 3") == {c.fr, c.booking, c.parcel}  # names; "3" is ignored
    assert found(db, "parcel zeppelin") == {c.parcel}  # two words from two messages
    assert found(db, "parcel booking") == set()
    assert found(db, "pa") == set()  # two letters: a whole word only
    assert found(db, "rembourser") == set()  # a longer word is not a prefix of the text's
    assert found(db, "the parcel") == {c.parcel}  # stopwords are left out


def test_a_reference_is_found_by_any_substring(db: Database) -> None:
    c = build(db)
    assert found(db, "82149557") == {c.fr}
    assert found(db, "214955") == {c.fr}
    assert found(db, "557") == {c.fr}
    assert found(db, "6crw") == {c.booking}
    assert found(db, "hr6C") == {c.booking}
    assert found(db, "214955 remboursement") == {c.fr}  # references and words together
    assert found(db, "214955 booking") == set()
    assert found(db, "2149x") == set()


def test_the_language_facet(db: Database) -> None:
    c = build(db)
    assert found(db, language="fr") == {c.fr}
    assert found(db, language=" EN ") == {c.booking, c.parcel}
    assert found(db, "parcel", language="en") == {c.parcel}
    assert found(db, "parcel", language="fr") == set()
    assert found(db, "fr") == set()  # the facet is not a word of the case
    for odd in ('fr" OR "en', "*", "-", "\x00"):
        assert found(db, language=odd) == set()
    with db.session() as s, pytest.raises(ValueError):
        facet_condition(s, "tag", "vip")


def test_hostile_queries_are_only_words(db: Database) -> None:
    c = build(db)
    for q in HOSTILE:
        found(db, q)  # never an engine error
    assert found(db, "NEAR(parcel zeppelin)") == set()  # "near" is a word no case holds
    assert found(db, "parcel OR zzzz") == set()  # "or" a word, "zzzz" too: every one needed
    assert found(db, '"parcel"') == found(db, "-parcel") == found(db, "parcel*") == {c.parcel}
    assert found(db, "words:parcel") == set()  # "words" is not a word of the case
    assert found(db, "parcel\x00") == {c.parcel}
    assert found(db, "x" * 100_000) == set()
    assert found(db, "pa%rcel_") == set()


def test_a_case_written_to_again_is_found_by_its_new_words(db: Database) -> None:
    c = build(db)
    ingest(db, [item(customer(1), "ornithorynque 4455XY", minutes=9, in_reply_to_id="fr")])
    assert found(db, "ornitho") == {c.fr}
    assert found(db, "455x") == {c.fr}  # a second reference: appended
    assert found(db, "214955") == {c.fr}  # the first one kept
    ingest(db, [item(customer(3), "ticket ZZ9876 please", minutes=9, in_reply_to_id="p1")])
    assert found(db, "987 zeppelin") == {c.parcel}
    zoe = AuthorInfo("u77", "zoe", "Zoé Martin", 10, False)  # no digit in her handle
    ingest(db, [item(zoe, "bonjour", minutes=9, external_id="z1")])
    ingest(db, [item(zoe, "dossier AB1234", minutes=10, in_reply_to_id="z1")])
    assert found(db, "b123 zoe") == {case_of(db, "z1")}  # the case's first reference


def test_a_split_case_is_reindexed(db: Database) -> None:
    c = build(db)
    with db.session() as s, s.begin():
        moved = s.scalars(select(Message.id).where(Message.text.contains("zeppelin"))).all()
        w = DEFAULT_WEIGHTS
        new = split_case(s, case_id=c.parcel, message_ids=moved, actor_id=None, weights=w).id
    assert found(db, "zeppelin") == {new}
    assert found(db, "parcel zeppelin") == set()
    assert found(db, "parcel") == {c.parcel}


def test_reindex_rebuilds_every_row(db: Database) -> None:
    c = build(db)
    table = "case_search" if db.engine.dialect.name == "postgresql" else "case_refs"
    with db.session() as s, s.begin():
        s.execute(text(f"DELETE FROM {table}"))
        s.execute(text("DELETE FROM case_search"))
        assert indexed_cases(s, [c.fr, c.parcel]) == set()
    # A case without a row (lost, never indexed) written to again gets its row built whole.
    ingest(db, [item(customer(2), "still nothing", minutes=9, in_reply_to_id="bk")])
    assert found(db, "6crw booking nothing") == {c.booking}
    with db.session() as s, s.begin():
        assert reindex_all(s, batch=2) == 3
        assert indexed_cases(s, [c.fr, c.parcel, 10**9]) == {c.fr, c.parcel}
    assert found(db, "214955 remboursement") == {c.fr}


def test_the_migration_down_and_up(db: Database) -> None:
    c = build(db)
    cfg = alembic_config(db.engine.url.render_as_string(hide_password=False))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0018")
    tables = set(inspect(db.engine).get_table_names())
    assert "case_terms" in tables and "case_search" not in tables
    upgrade(db.engine)  # refills the search rows from the cases
    tables = set(inspect(db.engine).get_table_names())
    assert "case_terms" not in tables and "case_search" in tables
    assert found(db, "214955") == {c.fr}
    assert found(db, "parcel zeppelin") == {c.parcel}
    assert found(db, language="fr") == {c.fr}


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db=db)) as c:
        yield c


def test_the_agent_searches_the_inbox(client: TestClient, db: Database) -> None:
    c = build(db)
    _, token = agent_with_token(db, "viewer")
    h = bearer(token)

    def ids(q: str) -> list[int]:
        response = client.get("/api/inbox", params={"q": q}, headers=h)
        assert response.status_code == 200, q
        return [row["id"] for row in response.json()["items"]]

    assert ids("2149") == [c.fr]
    assert ids("zeppel") == [c.parcel]
    for q in HOSTILE[:-2]:
        ids(q)


def test_a_language_facet_is_the_whole_tag_on_both_engines(db: Database) -> None:
    """Bluesky says "pt-BR": the facet "pt" is Portuguese as tagged "pt", not "pt-BR"."""
    ingest(
        db,
        [
            item(
                customer(7), "Minha encomenda atrasou de novo", external_id="br", language="pt-BR"
            ),
            item(customer(8), "A minha encomenda chegou partida", external_id="pt", language="pt"),
        ],
    )
    br, pt = case_of(db, "br"), case_of(db, "pt")
    with db.session() as s:
        tagged = dict(s.execute(select(Message.external_id, Message.language)).tuples().all())
    assert (tagged["br"], tagged["pt"]) == ("pt-BR", "pt")
    assert found(db, language="pt") == {pt}
    assert found(db, language="pt-BR") == {br}
    assert found(db, language="br") == set()
