"""The README's configuration example holds for every case of a real history: importing TWCS
head5k through the `carebird` command routes and times each case as the example says (both
engines). The expected team and deadline are derived here from each exported row's own facts
(category, language, first inbound time, first response time) by the example's words, sharing
no code with the rules or the SLA arithmetic (the desk is open 24/7 in UTC, so business time
is plain time)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from carebird.config import Settings
from tests.integration.test_routing_config import EXAMPLE
from tests.support.processes import run_cli
from tests.support.shared import shared_data

DEFAULT_MINUTES = 20  # cases the example's policy does not cover


def test_the_example_routes_and_times_every_case_of_head5k(
    settings: Settings, tmp_path: Path
) -> None:
    path = shared_data("twcs-head5k/twcs.csv")
    (tmp_path / "carebird.toml").write_text(EXAMPLE)
    env = {
        "CAREBIRD_DATABASE_URL": settings.database_url,
        "CAREBIRD_SECRET_KEY": settings.secret_key,
        "CAREBIRD_SLA_FIRST_RESPONSE_MINUTES": str(DEFAULT_MINUTES),
    }
    run_cli(env, tmp_path, "import", str(path), "--json")
    out = run_cli(env, tmp_path, "cases", "export", "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(rows) > 1000

    wrong: list[tuple[int, str]] = []
    for row in rows:
        complaint = row["category"] == "complaint"
        team = "Escalations" if complaint and row["language"] == "en" else None
        if row["team"] != team:
            wrong.append((row["case_id"], f"team {row['team']!r}, expected {team!r}"))
        target = timedelta(minutes=60 if complaint else DEFAULT_MINUTES)
        due = datetime.fromisoformat(row["first_inbound_at"]) + target
        waited = row["first_response_seconds"]
        breached = waited is None or waited > target.total_seconds()
        got_due = datetime.fromisoformat(row["first_response_due_at"])
        if got_due != due or row["first_response_breached"] is not breached:
            wrong.append((row["case_id"], f"due {got_due}/{row['first_response_breached']}"))
    assert not wrong, wrong[:10]
    # Not vacuous: the rule routed some cases and left others; deadlines were kept and missed.
    teams = [r["team"] for r in rows]
    assert teams.count("Escalations") >= 100 and teams.count(None) >= 100
    flags = [r["first_response_breached"] for r in rows]
    assert flags.count(True) >= 100 and flags.count(False) >= 100
