"""Background work on PostgreSQL by 1 and 3 `carebird worker` processes, against the local X
peer answering every request after `--latency` seconds (50 ms: a real network's round trip).

Run from the repository root (PostgreSQL runs in a throwaway cluster from the test support):

    .venv/bin/python -m benchmarks.workers [--mentions 3000] [--replies 600] [--latency 0.05]

For each worker count, on a fresh database: `--mentions` mentions wait on the peer for
`--accounts` brand accounts (one mentions stream each), the workers start, and the time from
their start to the last mention stored gives mentions/s (one stream is polled by one worker at a
time, so more workers help across streams). Then `--replies` replies are queued at once and the
time to the last one posted gives replies/s. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from starlette.types import ASGIApp, Receive, Scope, Send

from carebird.cases.models import Case
from carebird.db.database import Database
from carebird.ingest.accounts import add_account
from carebird.ingest.models import Message
from carebird.reply.models import OutboxItem
from carebird.reply.outbox import queue_reply
from tests.support.pg_cluster import PgCluster
from tests.support.processes import Carebird, wait_for
from tests.support.x_harness import CLIENT_ID, XHarness

SECRET = "b" * 40


class Latency:
    """Every request answered after `seconds` (the peer itself answers at once)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


def _count(db: Database, model: Any, *where: Any) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def run(workers: int, args: argparse.Namespace, cluster: PgCluster, workdir: Path) -> dict:
    name = f"bench_workers_{workers}_{time.monotonic_ns()}"
    cluster.create_database(name)
    url = cluster.url(name)
    db = Database(url)
    db.upgrade()
    peer = XHarness(listening=[], validate=False, limits={"POST /2/tweets": 1_000_000})
    peer.peer.web.app = Latency(peer.peer.web.app, args.latency)  # type: ignore[assignment]
    with peer:
        state, tokens = peer.peer.state, peer.peer.tokens
        brands = [peer.brand_user] + [
            state.add_user(f"Brand{n}_SAV", f"Brand {n}", followers=1000)
            for n in range(1, args.accounts)
        ]
        with db.session() as s, s.begin():
            for brand in brands:
                token = tokens.issue_oauth2(brand.id, CLIENT_ID)
                add_account(
                    s,
                    secret_key=SECRET,
                    network="x",
                    handle=brand.username,
                    credentials={
                        "access_token": str(token["access_token"]),
                        "refresh_token": str(token["refresh_token"]),
                        "expires_at": f"{tokens.clock() + 7000:.0f}",
                        "client_id": CLIENT_ID,
                    },
                    options={"base_url": peer.peer.base_url, "own_posts": False},
                    external_id=brand.id,
                )
        customers = [peer.customer(n) for n in range(args.replies)]
        for n in range(args.mentions):
            brand = brands[n % len(brands)]
            state.add_post(customers[n % len(customers)].id, f"@{brand.username} colis {n} ?")
        env = {
            "CAREBIRD_DATABASE_URL": url,
            "CAREBIRD_SECRET_KEY": SECRET,
            "CAREBIRD_OPENING_HOURS": "Mon-Sun 00:00-24:00",
            "CAREBIRD_POLL_OPEN_SECONDS": "0.5",
            "CAREBIRD_RECONCILE_INTERVAL_SECONDS": "86400",
        }
        procs = [Carebird("worker", env=env, workdir=workdir) for _ in range(workers)]
        try:
            start = time.monotonic()
            wait_for(
                "mentions stored",
                lambda: _count(db, Message, Message.direction == "in") >= args.mentions,
                timeout=1800,
                every=0.1,
            )
            ingest = time.monotonic() - start
            with db.session() as s, s.begin():
                for case_id in s.scalars(select(Case.id).order_by(Case.id).limit(args.replies)):
                    queue_reply(s, case_id=case_id, text=f"Nous regardons le dossier {case_id}.")
            queued = _count(db, OutboxItem)
            start = time.monotonic()
            wait_for(
                "replies sent",
                lambda: _count(db, OutboxItem, OutboxItem.status == "sent") >= queued,
                timeout=1800,
                every=0.1,
            )
            send = time.monotonic() - start
        finally:
            for proc in procs:
                proc.stop()
            db.dispose()
            cluster.drop_database(name)
    return {
        "workers": workers,
        "mentions": args.mentions,
        "mentions_per_s": round(args.mentions / ingest, 1),
        "replies": queued,
        "replies_per_s": round(queued / send, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=3000)
    parser.add_argument("--replies", type=int, default=600)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", default="1,3")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp, PgCluster() as cluster:
        cluster.start()
        for n in (int(w) for w in args.workers.split(",")):
            results.append(run(n, args, cluster, Path(tmp)))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print(json.dumps({"latency_s": args.latency, "accounts": args.accounts, "runs": results}))


if __name__ == "__main__":
    main()
