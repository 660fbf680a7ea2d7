"""`carebird metrics --json` on TWCS head5k equals figures computed here straight from the CSV
(both engines).

The reference re-reads the CSV with the csv module and threads it by the documented rules
(one case per customer while it stays open; our replies join the case of the tweet they
answer), takes the first reply as the first contact and the first reply that is not a bare
"please DM us" (the desk's own definition, `is_dm_request`) as the first answer, and computes
medians and 90th percentiles with numpy and business time by walking the days of a
Mon-Fri 09:00-17:00 UTC week. Only the categories come from the desk (the `cases export`),
as the understanding gave them.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import numpy as np
import pytest

from carebird.config import Settings
from carebird.insights.contact import is_dm_request
from tests.support.processes import run_cli
from tests.support.shared import shared_data


@dataclass
class Thread:
    first_in: datetime
    first_contact: datetime | None = None
    first_answer: datetime | None = None


def threads(path: Path) -> dict[str, Thread]:
    text = path.read_bytes().decode("utf-8").replace("\r\n", "\n").replace("\r", "\ue000")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    tweets = []
    for row in rows:
        parent = row["in_response_to_tweet_id"].strip()
        tweets.append((
            datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y"),
            int(row["tweet_id"]), row["author_id"], row["inbound"] == "True",
            int(float(parent)) if parent else None, row["text"].replace("\ue000", "\r"),
        ))  # fmt: skip
    tweets.sort(key=lambda t: (t[0], t[1]))
    case_of: dict[int, str] = {}
    out: dict[str, Thread] = {}
    for at, tid, author, inbound, parent, body in tweets:
        key = author if inbound else (case_of.get(parent) if parent is not None else None)
        if key is None:
            continue
        case_of[tid] = key
        if inbound:
            out.setdefault(author, Thread(at))
            continue
        thread = out[key]
        if thread.first_contact is None:
            thread.first_contact = at
        if thread.first_answer is None and not is_dm_request(body):
            thread.first_answer = at
    return out


def office_seconds(start: datetime, end: datetime) -> float:
    """Open time within [start, end) of a Mon-Fri 09:00-17:00 UTC week, day by day."""
    total, day = 0.0, start.date()
    while day <= end.date():
        if day.weekday() < 5:
            opens = datetime.combine(day, time(9), tzinfo=start.tzinfo)
            closes = datetime.combine(day, time(17), tzinfo=start.tzinfo)
            total += max(0.0, (min(end, closes) - max(start, opens)).total_seconds())
        day += timedelta(days=1)
    return total


def figures(items: list[tuple[Thread, str]]) -> dict[str, object]:
    support = [t for t, category in items if category != "other"]
    waits = [(t.first_answer - t.first_in).total_seconds() for t in support if t.first_answer]
    contacts = [(t.first_contact - t.first_in).total_seconds() for t in support if t.first_contact]
    n = len(support)
    return {
        "support_cases": n,
        "answered": len(waits),
        "median_first_response_seconds": float(np.median(waits)) if waits else None,
        "p90_first_response_seconds": float(np.percentile(waits, 90)) if waits else None,
        "answered_within_1h": sum(w <= 3600 for w in waits) / n if n else None,
        "answered_within_24h": sum(w <= 86400 for w in waits) / n if n else None,
        "silence_rate": (n - len(waits)) / n if n else None,
        "median_first_contact_seconds": float(np.median(contacts)) if contacts else None,
        "contacted_within_1h": sum(w <= 3600 for w in contacts) / n if n else None,
    }


def approx(expected: dict[str, object]) -> dict[str, object]:
    return {
        k: pytest.approx(v, abs=1e-9) if isinstance(v, float) else v for k, v in expected.items()
    }


def test_head5k_metrics_match_the_csv(settings: Settings, tmp_path: Path) -> None:
    path = shared_data("twcs-head5k/twcs.csv")
    env = {
        "CAREBIRD_DATABASE_URL": settings.database_url,
        "CAREBIRD_SECRET_KEY": settings.secret_key,
        "CAREBIRD_OPENING_HOURS": "Mon-Fri 09:00-17:00",
        "CAREBIRD_TIMEZONE": "UTC",
    }
    run_cli(env, tmp_path, "import", str(path), "--json")
    exported = run_cli(env, tmp_path, "cases", "export", "--format", "jsonl")
    category = {
        row["customer"]: row["category"]
        for row in map(json.loads, filter(str.strip, exported.splitlines()))
    }
    reference = threads(path)
    assert set(category) == set(reference)
    items = [(t, category[c]) for c, t in reference.items()]

    got = json.loads(run_cli(env, tmp_path, "metrics", "--json"))
    expected = figures(items)
    assert {k: got[k] for k in expected} == approx(expected)
    assert got["cases"] == len(reference)
    support = [t for t, c in items if c != "other"]
    business = [office_seconds(t.first_in, t.first_answer) for t in support if t.first_answer]
    assert got["median_first_response_business_seconds"] == pytest.approx(np.median(business))
    assert got["p90_first_response_business_seconds"] == pytest.approx(np.percentile(business, 90))
    # Not vacuous: thousands of cases, contacts that are not answers, silent cases, and the
    # "please DM us" rule moving the figures.
    assert got["support_cases"] > 1000 and 0 < got["silence_rate"] < 0.5
    assert got["contact_only"] > 50
    assert got["median_first_contact_seconds"] < got["median_first_response_seconds"]

    by_category = {row["category"]: row for row in got["by_category"]}
    for name in {c for _, c in items}:
        one = figures([(t, c) for t, c in items if c == name])
        assert by_category[name]["cases"] == sum(1 for _, c in items if c == name)
        for key in ("support_cases", "answered", "median_first_response_seconds",
                    "answered_within_1h", "silence_rate"):  # fmt: skip
            assert by_category[name][key] == approx({key: one[key]})[key], (name, key)
    assert [row["network"] for row in got["by_network"]] == ["x"]

    # A filter gives the same figures as the reference restricted the same way.
    complaints = json.loads(run_cli(env, tmp_path, "metrics", "--category", "complaint", "--json"))
    only = figures([(t, c) for t, c in items if c == "complaint"])
    assert {k: complaints[k] for k in only} == approx(only)

    # Every table exports; the per-case table holds every case.
    table = run_cli(env, tmp_path, "metrics", "--table", "cases", "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(table)))) == len(reference)
    rows = json.loads(
        run_cli(env, tmp_path, "metrics", "--table", "by_category", "--format", "json")
    )
    assert rows == got["by_category"]
