"""The agent workspace at scale: the inbox's queries in-process, the desk under load, and the
delay from a message's arrival to the open inbox.

Run from the repository root (PostgreSQL runs in a throwaway cluster from the test support):

    .venv/bin/python -m benchmarks.inbox [--cases 100000] [--engine sqlite|postgresql|both]
        [--requests 200] [--load-seconds 30] [--clients 20] [--workers 2] [--rates 50,500]
        [--live-seconds 10]

Data (benchmarks.inbox_seed): `--cases` cases with their customers and messages written by
bulk inserts, `--active-share` of them active, then the search index rebuilt by
`carebird.cases.search.reindex_all`.

Plans: EXPLAIN of each paged shape's statement, as sent: the index that reads the cases and
whether anything is sorted.

In-process: each shape `--requests` times (or for `--shape-seconds`, whichever ends first),
a session per call as a request has, p50/p99 in milliseconds: the inbox's first page with the
desk's SLA, its next page (keyset), a case's detail, the filtered rows (status + priority,
assignee, team, account) and searches (a common word, a prefix, two words, a rare word, a
piece of an order reference), all through `carebird.cases.inbox.inbox` or
`carebird.cases.queries`.

Under load: `carebird serve --workers 2` (`--workers`: web processes, one per core; the
command's own process does the background work) on loopback, `--clients` concurrent clients
of `hey` (Debian package; scripts/ensure-hey.sh) for `--load-seconds` on `/` and on
`/api/inbox?limit=50`, signed in with an agent's API token: requests/s, p50/p99.

Live delay: messages arrive at each of `--rates` per second for `--live-seconds`, batched as
they fall due; from a message's arrival to the server-sent event that puts it in an open inbox
(the page then re-reads `/api/inbox`, measured above), p50/p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks.inbox_plans import cases_scan, plan_of, sorts
from benchmarks.inbox_seed import Desk, rare_words, reference, seed
from benchmarks.inbox_serve import free_port, hey, live_delay, ms, serve, token_for
from carebird.cases.inbox import InboxFilters, inbox
from carebird.cases.models import Case
from carebird.cases.queries import case_detail, list_cases
from carebird.cases.scoring import rescore_active
from carebird.cases.sla import SlaSetup
from carebird.cases.states import ACTIVE
from carebird.cli.bench import fresh_database, generate
from carebird.config import Settings
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.flows.deadlines import watch_deadlines
from carebird.jobs.runner import register_accounts
from tests.support.pg_cluster import PgCluster

Shape = Callable[[Session], object]


def shapes(
    desk: Desk, case_ids: list[int], active_ids: list[int], sla: SlaSetup, rng: random.Random
) -> dict[str, Shape]:
    rare = rare_words(5000, random.Random(3))  # the seeder's own draw (seed 3)
    # Five digits inside "CMD-1234567" of an active case: the inbox shows active cases.
    piece = reference(rng.choice(active_ids))[6:11]

    def search(q: str) -> Shape:
        return lambda s: inbox(s, filters=InboxFilters(search=q), sla=sla)

    def second_page(s: Session) -> object:
        first = inbox(s, sla=sla)
        return inbox(s, sla=sla, cursor=first.next)

    return {
        "inbox_first_page": lambda s: inbox(s, sla=sla),
        "inbox_first_and_next_page": second_page,
        "case_page": lambda s: case_detail(s, case_id=rng.choice(case_ids)),
        "rows_status_priority": lambda s: list_cases(s, status=["new", "open"], sort="priority"),
        "rows_assignee": lambda s: inbox(
            s, filters=InboxFilters(assignee_id=rng.choice(desk.agent_ids)), sla=sla
        ),
        "rows_team": lambda s: inbox(
            s, filters=InboxFilters(team_id=rng.choice(desk.team_ids)), sla=sla
        ),
        "rows_account": lambda s: inbox(
            s, filters=InboxFilters(account_id=rng.choice(desk.account_ids)), sla=sla
        ),
        "search_common_word": search("livraison"),
        "search_prefix": search("rembour"),
        "search_two_words": search("colis retard"),
        "search_rare_word": search(rare[len(rare) // 2]),
        "search_reference_piece": search(piece),
    }


def plans(db: Database, table: dict[str, Shape]) -> dict[str, str]:
    out = {}
    for name, call in table.items():
        if name.startswith(("inbox_first_page", "rows_")):
            plan = plan_of(db, call)
            out[name] = cases_scan(plan) + ("  [SORTS]" if sorts(plan) else "")
    return out


def in_process(
    db: Database, table: dict[str, Shape], *, requests: int, budget: float
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, call in table.items():
        for _ in range(3):  # warm the caches
            with db.session() as s:
                call(s)
        times: list[float] = []
        stop = time.perf_counter() + budget
        matching = None
        while len(times) < requests and time.perf_counter() < stop:
            t0 = time.perf_counter()
            with db.session() as s:
                result = call(s)
            times.append(time.perf_counter() - t0)
            matching = getattr(result, "total", matching)
        out[name] = {**ms(times), "runs": len(times), "matching": matching}
    return out


def under_load(port: int, token: str, *, clients: int, seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {"clients": clients, "seconds": seconds}
    for path in ("/", "/api/inbox?limit=50"):
        hey(port, path, token, clients=2, seconds=1)  # warm up
        out[path] = hey(port, path, token, clients=clients, seconds=seconds)
    return out


def live(
    db: Database, port: int, token: str, *, rates: list[float], seconds: float
) -> list[dict[str, Any]]:
    counts = [max(1, int(rate * seconds)) for rate in rates]
    sim, items = generate(sum(counts), seed=99)  # another seed than the desk's: new ids
    register_accounts(db, sim)
    out, start = [], 0
    for rate, count in zip(rates, counts, strict=True):
        part = items[start : start + count]
        start += count
        out.append(live_delay(db, port, part, rate=rate, token=token))
    return out


def served(db: Database, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """The parts against a running `carebird serve --workers N` (the same desk for both)."""
    out: dict[str, Any] = {}
    port = free_port()
    # The tokens before the desk starts: its start-up work may hold SQLite's write lock a while.
    agent_token = token_for(db, email="load@example.test")
    viewer_token = token_for(db, email="live@example.test", role="viewer")
    with serve(url, port, args.workers):
        if args.load_seconds > 0:
            out["under_load"] = under_load(
                port, agent_token, clients=args.clients, seconds=args.load_seconds
            )
        if args.live_seconds > 0:
            rates = [float(r) for r in args.rates.split(",") if r]
            out["live_delay_sse"] = live(
                db, port, viewer_token, rates=rates, seconds=args.live_seconds
            )
    return out


def _progress(out: dict[str, Any]) -> None:
    """What is measured so far, on stderr: a long run that is stopped still tells something."""
    sys.stderr.write(json.dumps(out) + "\n")
    sys.stderr.flush()


def run_engine(url: str, args: argparse.Namespace) -> dict[str, Any]:
    with fresh_database(url) as bench_url:
        db = Database(bench_url)
        db.upgrade()
        settings = Settings(env="test", database_url=bench_url, secret_key="bench-" + "x" * 30)
        try:
            out: dict[str, Any] = {"engine": db.dialect}
            desk = seed(db, cases=args.cases, active_share=args.active_share)
            started = time.perf_counter()
            with db.session() as s, s.begin():  # the marks a running desk has written by now
                marks = len(watch_deadlines(s, SlaSetup.from_settings(settings), now=utcnow()))
            with db.session() as s:  # and the signals its intake keeps on each case
                rescore_active(s, commit_each=True)
            steady_seconds = time.perf_counter() - started
            out["data"] = {
                "cases": desk.cases,
                "active": desk.active,
                "messages": desk.messages,
                "seed_seconds": round(desk.seconds, 1),
                "of_which_search_index_seconds": round(desk.index_seconds, 1),
                "deadline_marks": marks,
                "marks_and_signals_seconds": round(steady_seconds, 1),
            }
            with db.session() as s:
                case_ids = list(s.scalars(select(Case.id)))
                active_ids = list(s.scalars(select(Case.id).where(Case.status.in_(ACTIVE))))
            _progress(out)
            sla = SlaSetup.from_settings(settings)
            table = shapes(desk, case_ids, active_ids, sla, random.Random(5))
            out["plans"] = plans(db, table)
            out["in_process"] = in_process(
                db, table, requests=args.requests, budget=args.shape_seconds
            )
            _progress(out)
            if args.load_seconds > 0 or args.live_seconds > 0:
                out.update(served(db, bench_url, args))
            return out
        finally:
            db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--engine", default="both", help="sqlite, postgresql or both")
    parser.add_argument("--active-share", type=float, default=0.2)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--shape-seconds", type=float, default=20.0)
    parser.add_argument("--load-seconds", type=float, default=30.0, help="0: no load run")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="web processes of `serve`")
    parser.add_argument("--rates", default="50,500")
    parser.add_argument("--live-seconds", type=float, default=10.0, help="0: no live run")
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else args.engine.split(",")
    for engine in engines:
        if engine == "sqlite":
            result = run_engine("sqlite:///unused.db", args)
        else:
            with PgCluster() as cluster:
                result = run_engine(cluster.url("postgres"), args)
        print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
