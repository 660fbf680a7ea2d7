"""Case exports (CSV, JSON lines) for spreadsheets and BI tools."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from carebird.errors import InvalidInput
from carebird.insights.metrics import CaseTimes

COLUMNS = [
    "case_id",
    "customer",
    "network",
    "account",
    "status",
    "category",
    "language",
    "team",
    "assignee",
    "priority",
    "created_at",
    "first_inbound_at",
    "first_response_at",
    "first_response_seconds",
    "resolved_at",
    "resolution_seconds",
    "first_response_due_at",
    "first_response_breached",
    "resolution_due_at",
    "resolution_breached",
]


def iso(v: Any) -> str | None:
    return v.isoformat() if v is not None else None


def case_identity(t: CaseTimes) -> dict[str, Any]:
    """Who and where a case is: the first columns of every per-case table."""
    return {
        "case_id": t.case_id,
        "customer": t.customer,
        "network": t.network,
        "account": t.account,
        "status": t.status,
        "category": t.category,
        "language": t.language,
        "team": t.team,
        "assignee": t.assignee,
    }


def case_record(t: CaseTimes) -> dict[str, Any]:
    return {
        **case_identity(t),
        "priority": t.priority,
        "created_at": iso(t.created_at),
        "first_inbound_at": iso(t.first_inbound_at),
        "first_response_at": iso(t.first_response_at),
        "first_response_seconds": t.first_response_seconds,
        "resolved_at": iso(t.resolved_at),
        "resolution_seconds": t.resolution_seconds,
        "first_response_due_at": iso(t.first_response_due_at),
        "first_response_breached": t.first_response_breached,
        "resolution_due_at": iso(t.resolution_due_at),
        "resolution_breached": t.resolution_breached,
    }


def write_cases(rows: Iterable[CaseTimes], out: TextIO, *, fmt: str) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for t in rows:
            rec = case_record(t)
            writer.writerow({k: ("" if v is None else v) for k, v in rec.items()})
            count += 1
    elif fmt == "jsonl":
        for t in rows:
            out.write(json.dumps(case_record(t), ensure_ascii=False) + "\n")
            count += 1
    else:
        raise InvalidInput(f"unknown export format {fmt!r} (csv or jsonl)")
    return count


def table_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Every column of a table's rows, in the order they first appear."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def write_table(rows: Sequence[dict[str, Any]], out: TextIO, *, fmt: str) -> int:
    """A table of the figures (carebird.insights.figures) as CSV or as a JSON array."""
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=table_columns(rows), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    elif fmt == "json":
        json.dump(list(rows), out, ensure_ascii=False)
        out.write("\n")
    else:
        raise InvalidInput(f"unknown table format {fmt!r} (csv or json)")
    return len(rows)
