"""`python -m benchmarks.inbox` runs end to end at a tiny size (so it cannot rot): a seeded
desk, the plans, the in-process shapes, `hey` against a running `carebird serve`, and the live
delay; every request answered 200 and every live message delivered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_inbox_benchmark_runs_at_a_tiny_size() -> None:
    command = [sys.executable, "-m", "benchmarks.inbox", "--cases", "2000"]
    command += ["--engine", "sqlite", "--requests", "3", "--clients", "4"]
    command += ["--load-seconds", "2", "--live-seconds", "1", "--rates", "20"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)

    assert result["engine"] == "sqlite" and result["data"]["cases"] == 2000
    assert "ix_cases_priority_id" in result["plans"]["inbox_first_page"]
    assert not any("[SORTS]" in plan for plan in result["plans"].values())
    shapes = result["in_process"]
    assert shapes["inbox_first_page"]["runs"] == 3 and shapes["inbox_first_page"]["matching"] > 0
    assert all(s["p99_ms"] >= s["p50_ms"] > 0 for s in shapes.values())
    for path in ("/", "/api/inbox?limit=50"):
        load = result["under_load"][path]
        assert load["requests_per_s"] > 0 and set(load["statuses"]) == {"200"}, load
    (live,) = result["live_delay_sse"]
    assert live["delivered"] == live["expected"] > 0 and live["p99_ms"] > 0
