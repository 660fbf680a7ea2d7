"""Messages/s each connector ingests from its local peer over loopback HTTP.

Run from the repository root (the peers live with the tests):

    .venv/bin/python -m benchmarks.connectors [--messages 10000]

For each network: the connector alone (fetch until done), then the whole pipeline into a fresh
SQLite database (store, understand, thread, score). The X and Bluesky peers can check every
exchange against the official specs; that costs more than the connector itself, so it is off
here and on in the tests.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from carebird.db.database import Database
from carebird.flows.intake import poll_once
from carebird.ingest.models import NetworkAccount
from tests.factories import intake_for
from tests.support.bluesky_harness import BlueskyHarness
from tests.support.mastodon_harness import MastodonHarness
from tests.support.x_harness import XHarness

HARNESSES: dict[str, Any] = {
    "x": lambda: XHarness(validate=False),
    "mastodon": lambda: MastodonHarness(),
    "bluesky": lambda: BlueskyHarness(strict=False),
}


def _fetch_all(connectors: list[Any]) -> int:
    total = 0
    for connector in connectors:
        cursor = None
        while True:
            result = connector.fetch(cursor, limit=500)
            total += len(result.items)
            cursor = result.cursor
            if not result.more:
                break
    return total


def _pipeline(harness: Any, path: Path) -> int:
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    with db.session() as s, s.begin():
        s.add(
            NetworkAccount(
                network=harness.network,
                handle=harness.brand.handle,
                external_id=harness.brand.external_id,
            )
        )
    stored = 0
    for connector in harness.inbound_connectors():
        more = True
        while more:
            report, more = poll_once(db, connector, intake=intake_for(), limit=500)
            stored += report.stored
    db.dispose()
    return stored


def run(messages: int) -> dict[str, Any]:
    out: dict[str, Any] = {"messages": messages}
    for network, make in HARNESSES.items():
        with make() as harness:
            harness.post_mentions(messages, customers=max(1, messages // 20))
            t0 = time.perf_counter()
            fetched = _fetch_all(harness.inbound_connectors())
            t1 = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                stored = _pipeline(harness, Path(tmp) / "bench.db")
            t2 = time.perf_counter()
        out[network] = {
            "fetched": fetched,
            "connector_msg_per_s": round(fetched / (t1 - t0)),
            "stored": stored,
            "pipeline_sqlite_msg_per_s": round(stored / (t2 - t1)),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    print(json.dumps(run(parser.parse_args().messages), indent=2))


if __name__ == "__main__":
    main()
