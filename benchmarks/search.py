"""Inbox search at scale: the engine's full-text index (carebird.cases.search) on both engines.

Run from the repository root (PostgreSQL runs in a throwaway cluster from the test support):

    .venv/bin/python -m benchmarks.search [--cases 100000] [--engines sqlite,postgresql]

Data: the simulator's traffic through the real pipeline (which keeps the search rows) for a
base of `--base-messages`, then that base cloned in SQL, search rows included, until the
database holds `--cases` cases, `--active-share` of them active. Figures: the inbox's first
page (50 rows by priority, total capped as the desk does) for a common word, a prefix, two
words, a rare word, a reference substring and the language facet, each `--requests` times
(p50/p99 ms); a case written to again (`add_message_terms`, one case); `index_cases` of one
case; and `reindex_all` over the base (cases per second).

The helpers `copy_rows`, `count_rows` and `search_words` serve benchmarks/inbox.py too.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, func, insert, literal, select, text, update

from carebird.cases.inbox import InboxFilters, inbox
from carebird.cases.models import Case
from carebird.cases.search import add_message_terms, index_cases, is_reference, reindex_all, terms
from carebird.cli.bench import fresh_database, generate
from carebird.db.database import Database
from carebird.flows.intake import process_batch
from carebird.ingest.models import Message
from carebird.jobs.runner import register_accounts
from tests.factories import intake_for
from tests.support.pg_cluster import PgCluster


def ms(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    p99 = values[min(len(values) - 1, math.ceil(len(values) * 0.99) - 1)]
    return {"p50_ms": round(statistics.median(values) * 1000, 2), "p99_ms": round(p99 * 1000, 2)}


# --- helpers for any benchmark that clones cases ---------------------------------------------
def copy_rows(conn: Connection, offset: int, base_cases: int) -> None:
    """Copy the search rows of cases 1..base_cases to the cases `offset` further."""
    args = {"o": offset, "b": base_cases}
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "INSERT INTO case_search (case_id, lang, doc, refs) "
                "SELECT case_id + :o, lang, doc, refs FROM case_search WHERE case_id <= :b"
            ),
            args,
        )
        return
    conn.execute(
        text(
            "INSERT INTO case_search (rowid, words, lang) "
            "SELECT rowid + :o, words, lang FROM case_search WHERE rowid <= :b"
        ),
        args,
    )
    conn.execute(
        text(
            "INSERT INTO case_refs (rowid, refs) "
            "SELECT rowid + :o, refs FROM case_refs WHERE rowid <= :b"
        ),
        args,
    )


def delete_rows(conn: Connection, case_ids: list[int]) -> None:
    """Drop the search rows of these cases (before deleting the cases, on SQLite)."""
    marks = ",".join(str(int(i)) for i in case_ids) or "0"
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"DELETE FROM case_search WHERE case_id IN ({marks})"))
        return
    conn.execute(text(f"DELETE FROM case_search WHERE rowid IN ({marks})"))
    conn.execute(text(f"DELETE FROM case_refs WHERE rowid IN ({marks})"))


def count_rows(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM case_search")).scalar_one())


def search_words(db: Database, sample: int = 3000) -> dict[str, str]:
    """Words to search for, from the cases' messages: common, second common, rare, reference."""
    counts: Counter[str] = Counter()
    with db.session() as s:
        texts = s.scalars(select(Message.text).order_by(Message.id).limit(sample))
        for t in texts:
            counts.update(terms(t))
    ranked = [w for w, _ in counts.most_common() if not is_reference(w)]
    refs = [w for w, n in counts.most_common() if is_reference(w) and len(w) >= 7 and n == 1]
    common = [w for w in ranked if len(w) >= 5]
    rare = [w for w in ranked if len(w) >= 6 and counts[w] == 1]
    ref = refs[0][1:-1] if refs else "000"  # a substring inside a reference
    return {"common": common[0], "common2": common[1], "rare": rare[0], "ref": ref}


# --- data -----------------------------------------------------------------------------------
def build(db: Database, *, cases: int, base_messages: int, active_share: float) -> dict[str, Any]:
    sim, items = generate(base_messages, seed=11)
    register_accounts(db, sim)
    for i in range(0, len(items), 1000):
        with db.session() as s, s.begin():
            process_batch(s, items[i : i + 1000], intake=intake_for())
    with db.session() as s:
        base_cases = s.scalar(select(func.max(Case.id))) or 0
        base_msgs = s.scalar(select(func.max(Message.id))) or 0
        base_count = s.scalar(select(func.count()).select_from(Case)) or 0
    with db.session() as s, s.begin():
        t0 = time.perf_counter()
        reindex_all(s)
        reindex_rate = base_count / (time.perf_counter() - t0)
    copies = math.ceil(cases / base_count)
    t0 = time.perf_counter()
    for k in range(1, copies):
        _copy(db, k * base_cases, k * base_msgs, base_cases, base_msgs, k)
    cases_t = Case.__table__
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            for table in ("cases", "messages"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        keep = max(1, round(1 / active_share)) if active_share > 0 else 0
        if keep != 1:
            cond = (cases_t.c.id % keep) != 0 if keep else literal(True)
            conn.execute(update(cases_t).where(cond).values(status="resolved"))
        conn.execute(text("ANALYZE"))
    return {
        "base_messages": len(items),
        "base_cases": base_count,
        "reindex_cases_per_s": round(reindex_rate),
        "clone_seconds": round(time.perf_counter() - t0, 1),
        "cases": base_count * copies,
        "search_rows": count_rows(db),
    }


def _copy(db: Database, co: int, mo: int, base_cases: int, base_msgs: int, k: int) -> None:
    cases_t, msgs_t = Case.__table__, Message.__table__
    over_cases = {"id": cases_t.c.id + co, "opening_message_id": cases_t.c.opening_message_id + mo}
    over_msgs = {
        "id": msgs_t.c.id + mo,
        "external_id": msgs_t.c.external_id + f"~{k}",
        "case_id": msgs_t.c.case_id + co,
    }
    with db.engine.begin() as conn:
        for table, over, where in (
            (cases_t, over_cases, cases_t.c.id <= base_cases),
            (msgs_t, over_msgs, msgs_t.c.id <= base_msgs),
        ):
            cols = [c.name for c in table.columns]
            exprs = [over.get(c, table.c[c]).label(c) for c in cols]
            conn.execute(insert(table).from_select(cols, select(*exprs).where(where)))
        copy_rows(conn, co, base_cases)


# --- figures --------------------------------------------------------------------------------
def first_page(db: Database, **filters: Any) -> int | None:
    """The function to time: the inbox's first page with a search (what GET /api/inbox runs)."""
    with db.session() as s:
        return inbox(s, filters=InboxFilters(**filters), limit=50).total


def timings(db: Database, *, requests: int) -> dict[str, Any]:
    w = search_words(db)
    shapes: dict[str, Callable[[], int | None]] = {
        "no_search": lambda: first_page(db),
        "common_word": lambda: first_page(db, search=w["common"]),
        "prefix": lambda: first_page(db, search=w["common"][:4]),
        "two_words": lambda: first_page(db, search=f"{w['common']} {w['common2']}"),
        "rare_word": lambda: first_page(db, search=w["rare"]),
        "reference_substring": lambda: first_page(db, search=w["ref"]),
        "language_fr": lambda: first_page(db, language="fr"),
        "word_and_language": lambda: first_page(db, search=w["common"], language="en"),
    }
    out: dict[str, Any] = {"words": w}
    for name, run in shapes.items():
        for _ in range(3):
            run()
        times, total = [], None
        for _ in range(requests):
            t0 = time.perf_counter()
            total = run()
            times.append(time.perf_counter() - t0)
        out[name] = {**ms(times), "matching": total}
    out["write_again"] = _writes(db, requests)
    return out


def _writes(db: Database, requests: int) -> dict[str, Any]:
    """A case written to again (its new message's words appended), and a case rebuilt."""
    with db.session() as s:
        rows = s.execute(select(Message.id, Message.case_id).order_by(Message.id.desc())).all()
    append, rebuild = [], []
    for message_id, case_id in rows[:requests]:
        with db.session() as s, s.begin():
            t0 = time.perf_counter()
            add_message_terms(s, [message_id], {case_id})
            append.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            index_cases(s, [case_id])
            rebuild.append(time.perf_counter() - t0)
    return {"add_message_terms": ms(append), "index_cases_one": ms(rebuild)}


def run_engine(url: str, args: argparse.Namespace) -> dict[str, Any]:
    with fresh_database(url) as bench_url:
        db = Database(bench_url)
        db.upgrade()
        try:
            out: dict[str, Any] = {"engine": db.dialect}
            out["data"] = build(
                db,
                cases=args.cases,
                base_messages=args.base_messages,
                active_share=args.active_share,
            )
            out["inbox_first_page"] = timings(db, requests=args.requests)
            return out
        finally:
            db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--base-messages", type=int, default=5_000)
    parser.add_argument("--active-share", type=float, default=0.2)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    for engine in args.engines.split(","):
        if engine == "sqlite":
            result = run_engine("sqlite:///unused.db", args)
        else:
            with PgCluster() as cluster:
                result = run_engine(cluster.url("postgres"), args)
        print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
