"""Scoring an intake batch: from the signals kept on cases, against a rebuild from the messages.

Run from the repository root (PostgreSQL runs in a throwaway cluster from the test support):

    .venv/bin/python -m benchmarks.scoring [--messages 30000] [--batch-size 1000]
        [--engines sqlite,postgresql]

The simulator's traffic goes through the real pipeline batch by batch. In each batch, the
intake's own scoring (`score_batch`: the batch's new messages merged into their cases' kept
signals, no message read) is timed, then, in the same transaction and on the same cases,
`score_cases` (the signals rebuilt from each case's latest messages: what every batch did
before the signals were kept). Wall and CPU seconds summed over the batches, per path.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from carebird.cases import scoring
from carebird.cli.bench import fresh_database, generate
from carebird.db.database import Database
from carebird.flows import intake as intake_module
from carebird.flows.intake import process_batch
from carebird.jobs.runner import register_accounts
from tests.factories import intake_for
from tests.support.pg_cluster import PgCluster


class Clock:
    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    @contextmanager
    def run(self) -> Iterator[None]:
        w, c = time.perf_counter(), time.process_time()
        yield
        self.wall += time.perf_counter() - w
        self.cpu += time.process_time() - c

    def figures(self, batches: int) -> dict[str, float]:
        return {
            "wall_s": round(self.wall, 3),
            "cpu_s": round(self.cpu, 3),
            "ms_per_batch": round(1000 * self.wall / max(1, batches), 2),
        }


def run(url: str, messages: int, batch_size: int) -> dict[str, Any]:
    sim, items = generate(messages)
    kept, rebuilt = Clock(), Clock()
    real = scoring.score_batch

    def timed(session: Any, stored: Any, threaded: Any, refreshed: Any, **kw: Any) -> set[int]:
        with kept.run():
            changed = real(session, stored, threaded, refreshed, **kw)
        with rebuilt.run():
            scoring.score_cases(session, threaded.touched | set(refreshed), **kw)
        return changed

    batches = 0
    with fresh_database(url) as bench_url:
        db = Database(bench_url)
        db.upgrade()
        register_accounts(db, sim)
        intake_module.score_batch = timed  # type: ignore[assignment]
        try:
            for i in range(0, len(items), batch_size):
                with db.session() as session, session.begin():
                    process_batch(session, items[i : i + batch_size], intake=intake_for())
                batches += 1
        finally:
            intake_module.score_batch = real
            db.dispose()
    return {
        "engine": url.split(":", 1)[0],
        "messages": len(items),
        "batches": batches,
        "score_batch (kept signals)": kept.figures(batches),
        "score_cases (rebuilt from messages)": rebuilt.figures(batches),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--engines", default="sqlite")
    args = parser.parse_args()
    for engine in args.engines.split(","):
        if engine == "postgresql":
            with PgCluster() as cluster:
                cluster.create_database("bench")
                figures = run(cluster.url("bench"), args.messages, args.batch_size)
        else:
            figures = run("sqlite:///unused.db", args.messages, args.batch_size)
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
