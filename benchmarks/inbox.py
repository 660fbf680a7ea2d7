"""The agent workspace at scale: inbox and case API server time, and live-event delay.

Run from the repository root (PostgreSQL runs in a throwaway cluster from the test support):

    .venv/bin/python -m benchmarks.inbox [--cases 100000] [--engines sqlite,postgresql]

Data: the simulator's traffic through the real pipeline (store, understand, thread, score,
search index, events) for a base of `--base-messages`, then that base cloned in SQL until the
database holds `--cases` cases (new ids, external ids, search words; the same customers), and
`--active-share` of them left active (the rest resolved), as on a desk with history.

Server time: `GET /api/inbox` (first page by priority; with filters; with a search) and
`GET /api/cases/{id}`, each `--requests` times through FastAPI's in-process TestClient (the
whole request: auth, query, serialisation; no network), p50/p99 in milliseconds.

Live delay: `carebird serve` in its own process on loopback, one SSE client; messages enter
the pipeline at `--rate` per second for `--seconds`, one transaction each; the delay runs from
the pipeline call to the SSE event naming that message, p50/p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, insert, literal, select, text, update

from carebird.auth.service import create_agent, issue_token
from carebird.cases.models import Case, CaseEvent
from carebird.cases.search import CaseTerm
from carebird.cli.bench import fresh_database, generate
from carebird.config import Settings
from carebird.db.database import Database
from carebird.flows.intake import after_batch, process_batch
from carebird.ingest.models import Message
from carebird.jobs.runner import register_accounts
from carebird.web.app import create_app
from tests.factories import TestClient, intake_for
from tests.support.pg_cluster import PgCluster

WINDOW = timedelta(days=7)


def ms(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    p99 = values[min(len(values) - 1, math.ceil(len(values) * 0.99) - 1)]
    return {"p50_ms": round(statistics.median(values) * 1000, 1), "p99_ms": round(p99 * 1000, 1)}


# --- data -----------------------------------------------------------------------------------
def build(db: Database, *, cases: int, base_messages: int, active_share: float) -> dict[str, Any]:
    sim, items = generate(base_messages, seed=11)
    register_accounts(db, sim)
    t0 = time.perf_counter()
    for i in range(0, len(items), 1000):
        with db.session() as s, s.begin():
            after_batch(s, process_batch(s, items[i : i + 1000], intake=intake_for()))
    pipeline_s = time.perf_counter() - t0
    with db.session() as s:
        base_cases = s.scalar(select(func.max(Case.id))) or 0
        base_msgs = s.scalar(select(func.max(Message.id))) or 0
        base_count = s.scalar(select(func.count()).select_from(Case)) or 0
    copies = math.ceil(cases / base_count)
    cases_t, msgs_t, terms_t = Case.__table__, Message.__table__, CaseTerm.__table__
    events_t = CaseEvent.__table__
    t0 = time.perf_counter()
    for k in range(1, copies):
        _copy(db, k, k * base_cases, k * base_msgs, base_cases, base_msgs)
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            for table in ("cases", "messages"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    with db.engine.begin() as conn:
        # Trim to the exact count, then resolve all but the active share (spread over ids).
        extra = (
            select(cases_t.c.id)
            .order_by(cases_t.c.id.desc())
            .limit(max(0, base_count * copies - cases))
        )
        doomed = [r[0] for r in conn.execute(extra)]
        for i in range(0, len(doomed), 5000):
            part = doomed[i : i + 5000]
            for table in (terms_t, msgs_t, events_t):
                conn.execute(table.delete().where(table.c.case_id.in_(part)))
            conn.execute(cases_t.delete().where(cases_t.c.id.in_(part)))
        keep = max(1, round(1 / active_share)) if active_share > 0 else 0
        if keep != 1:
            cond = (cases_t.c.id % keep) != 0 if keep else literal(True)
            conn.execute(
                update(cases_t)
                .where(cond)
                .values(status="resolved", resolved_at=cases_t.c.last_activity_at)
            )
        conn.execute(text("ANALYZE"))
    clone_s = time.perf_counter() - t0
    with db.session() as s:
        total = s.scalar(select(func.count()).select_from(Case)) or 0
        active = (
            s.scalar(select(func.count()).select_from(Case).where(Case.status != "resolved")) or 0
        )
        messages = s.scalar(select(func.count()).select_from(Message)) or 0
        terms = s.scalar(select(func.count()).select_from(CaseTerm)) or 0
    return {
        "base_messages": len(items),
        "base_cases": base_count,
        "base_pipeline_msgs_per_s": round(len(items) / pipeline_s),
        "clone_seconds": round(clone_s, 1),
        "cases": total,
        "active_cases": active,
        "messages": messages,
        "search_terms": terms,
    }


def _copy(db: Database, k: int, co: int, mo: int, base_cases: int, base_msgs: int) -> None:
    """Copy k of the base: cases, then their messages, then their search words."""
    cases_t, msgs_t, terms_t = Case.__table__, Message.__table__, CaseTerm.__table__
    overrides_cases = {
        "id": cases_t.c.id + co,
        "opening_message_id": cases_t.c.opening_message_id + mo,
    }
    overrides_msgs = {
        "id": msgs_t.c.id + mo,
        "external_id": msgs_t.c.external_id + f"~{k}",
        "case_id": msgs_t.c.case_id + co,
    }
    with db.engine.begin() as conn:
        for table, over, where in (
            (cases_t, overrides_cases, cases_t.c.id <= base_cases),
            (msgs_t, overrides_msgs, msgs_t.c.id <= base_msgs),
            (terms_t, {"case_id": terms_t.c.case_id + co}, terms_t.c.case_id <= base_cases),
        ):
            cols = [c.name for c in table.columns]
            exprs = [over.get(c, table.c[c]).label(c) for c in cols]
            conn.execute(insert(table).from_select(cols, select(*exprs).where(where)))


# --- server time ----------------------------------------------------------------------------
def server_times(settings: Settings, db: Database, *, requests: int) -> dict[str, Any]:
    with db.session() as s, s.begin():
        agent = create_agent(
            s, email="bench@example.test", name="Bench Agent", password=None, role="agent"
        )
        token = issue_token(s, agent=agent, kind="api", name="bench")
        case_ids = list(s.scalars(select(Case.id)))
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(5)
    words = _common_and_rare_words(db)
    shapes: dict[str, Callable[[], str]] = {
        "inbox_first_page": lambda: "/api/inbox?limit=50",
        "inbox_filtered": lambda: (
            "/api/inbox?limit=50&unassigned=true&language=fr&category=complaint,assistance"
        ),
        "inbox_search_common_word": lambda: f"/api/inbox?limit=50&q={words[0]}",
        "inbox_search_two_words": lambda: f"/api/inbox?limit=50&q={words[0]}+{words[1]}",
        "inbox_search_rare_word": lambda: f"/api/inbox?limit=50&q={words[2]}",
        "case_detail": lambda: f"/api/cases/{rng.choice(case_ids)}",
        # The pages themselves (HTML shells; their rows come from the API calls above).
        "inbox_page": lambda: "/",
        "case_page": lambda: f"/cases/{rng.choice(case_ids)}",
    }
    out: dict[str, Any] = {"search_words": words}
    with TestClient(create_app(settings, db=db)) as client:
        for name, make in shapes.items():
            for _ in range(5):  # warm the caches and the connection pool
                client.get(make(), headers=headers)
            times: list[float] = []
            total = None
            for _ in range(requests):
                url = make()
                t0 = time.perf_counter()
                response = client.get(url, headers=headers)
                times.append(time.perf_counter() - t0)
                assert response.status_code == 200, (url, response.text)
                if response.headers.get("content-type", "").startswith("application/json"):
                    total = response.json().get("total")
            out[name] = {**ms(times), "matching": total}
    return out


def _common_and_rare_words(db: Database) -> list[str]:
    with db.session() as s:
        counts = s.execute(
            select(CaseTerm.term, func.count())
            .group_by(CaseTerm.term)
            .order_by(func.count().desc())
            .limit(400)
        ).all()
    words = [(t, n) for t, n in counts if ":" not in t]  # facets ("lang:fr") are not words
    common = [t for t, _ in words if len(t) >= 5][:2]
    rare = [t for t, _ in words if len(t) >= 6][-1]
    return [*common, rare]


# --- live delay -----------------------------------------------------------------------------
@contextmanager
def serve(url: str, port: int) -> Iterator[None]:
    env = {
        **os.environ,
        "CAREBIRD_DATABASE_URL": url,
        "CAREBIRD_ENV": "test",
        "CAREBIRD_SECRET_KEY": "bench-" + "x" * 30,
        "CAREBIRD_ADMIN_PASSWORD": "bench-password-123",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "carebird", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "carebird serve did not start"
                time.sleep(0.2)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listen(
    port: int,
    token: str,
    received: queue.Queue[tuple[int, float]],
    ready: threading.Event,
    stop: threading.Event,
) -> None:
    """Read the event stream, putting (message id, arrival time) of each message's event."""
    headers = {"Authorization": f"Bearer {token}"}
    with (
        httpx.Client(timeout=httpx.Timeout(10, read=None)) as client,
        client.stream(
            "GET", f"http://127.0.0.1:{port}/api/events/stream", headers=headers
        ) as response,
    ):
        ready.set()
        for line in response.iter_lines():
            if stop.is_set():
                return
            if line.startswith("data: {"):
                at = time.perf_counter()
                mid = json.loads(line[6:]).get("message_id")
                if mid is not None:
                    received.put((mid, at))


def live_delay(db: Database, url: str, *, rate: float, seconds: float) -> dict[str, Any]:
    with db.session() as s, s.begin():
        agent = create_agent(
            s, email="live@example.test", name="Live Viewer", password=None, role="viewer"
        )
        token = issue_token(s, agent=agent, kind="api", name="bench")
    count = int(rate * seconds)
    _, items = generate(count, seed=99)  # another seed: new external ids
    received: queue.Queue[tuple[int, float]] = queue.Queue()
    port = _free_port()
    with serve(url, port):
        stop = threading.Event()
        ready = threading.Event()
        reader = threading.Thread(
            target=_listen, args=(port, token, received, ready, stop), daemon=True
        )
        reader.start()
        assert ready.wait(30)
        time.sleep(0.5)
        started: dict[int, float] = {}
        t_begin = time.perf_counter()
        for n, it in enumerate(items):
            due = t_begin + n / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            t0 = time.perf_counter()
            with db.session() as s, s.begin():
                after_batch(s, process_batch(s, [it], intake=intake_for()))
                mid = s.scalar(
                    select(Message.id).where(
                        Message.network == it.network, Message.external_id == it.external_id
                    )
                )
            if mid is not None:
                started[mid] = t0
        achieved = len(items) / (time.perf_counter() - t_begin)
        delays: list[float] = []
        deadline = time.monotonic() + 15
        seen: set[int] = set()
        while len(seen) < len(started) and time.monotonic() < deadline:
            try:
                mid, at = received.get(timeout=0.5)
            except queue.Empty:
                continue
            if mid in started and mid not in seen:
                seen.add(mid)
                delays.append(at - started[mid])
        stop.set()
    return {
        "messages": len(items),
        "rate_asked": rate,
        "rate_achieved": round(achieved, 1),
        "delivered": len(delays),
        "expected": len(started),
        **ms(delays),
    }


# --- driver ---------------------------------------------------------------------------------
def run_engine(url: str, args: argparse.Namespace) -> dict[str, Any]:
    with fresh_database(url) as bench_url:
        db = Database(bench_url)
        db.upgrade()
        settings = Settings(env="test", database_url=bench_url, secret_key="bench-" + "x" * 30)
        try:
            out: dict[str, Any] = {"engine": db.dialect}
            out["data"] = build(
                db,
                cases=args.cases,
                base_messages=args.base_messages,
                active_share=args.active_share,
            )
            out["server_time_testclient"] = server_times(settings, db, requests=args.requests)
            if args.seconds > 0:
                out["live_delay_sse"] = live_delay(
                    db, bench_url, rate=args.rate, seconds=args.seconds
                )
            return out
        finally:
            db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--base-messages", type=int, default=20_000)
    parser.add_argument("--active-share", type=float, default=0.2)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=30.0, help="0: no live-delay run")
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    results = []
    for engine in args.engines.split(","):
        if engine == "sqlite":
            results.append(run_engine("sqlite:///unused.db", args))
        else:
            with PgCluster() as cluster:
                results.append(run_engine(cluster.url("postgres"), args))
        print(json.dumps(results[-1], indent=2), flush=True)


if __name__ == "__main__":
    main()
