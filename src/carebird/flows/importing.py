"""The file importer: TWCS CSV files and carebird's own JSON-lines export, into the desk.

``import_file`` reads a whole file, orders its messages chronologically (parents before
replies, ties broken by id), then stores and threads them in batches of ``batch_size``, one
transaction each, through ``pipeline.process_batch``. Because the order is a pure function of
the file and every batch is atomic, killing the import anywhere and running it again gives
exactly the messages and cases of an uninterrupted run (what was committed is deduplicated on
``(network, external_id)``; the rest follows in the same order). Importing a file twice adds
nothing. The whole file is held in memory (tens of MB for the TWCS-sized files it is for).

Bad input never aborts an import and never costs a good row: each bad record is reported in
``ImportReport.skipped`` as ``(line, reason)``, line being the physical line where it starts.
A file lacking required columns raises :class:`carebird.errors.InvalidInput`.
Invariant: ``rows_read == stored + already_present + len(skipped)``.

The JSON-lines format (``.jsonl`` / ``.ndjson``), its reader and the export that writes it
are in :mod:`carebird.ingest.files.jsonl`; their names are importable from here too.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from carebird.db.database import Database
from carebird.errors import InvalidInput
from carebird.flows.intake import Intake, prepared_ahead, process_batch
from carebird.ingest.base import InboundItem
from carebird.ingest.files.jsonl import REQUIRED_FIELDS as REQUIRED_FIELDS
from carebird.ingest.files.jsonl import export_jsonl as export_jsonl
from carebird.ingest.files.jsonl import export_jsonl_item as export_jsonl_item
from carebird.ingest.files.jsonl import item_from_json as item_from_json
from carebird.ingest.files.jsonl import item_to_json as item_to_json
from carebird.ingest.files.jsonl import parse_jsonl
from carebird.ingest.files.jsonl import stored_items as stored_items
from carebird.ingest.files.twcs import NETWORK, parse_twcs
from carebird.ingest.models import NetworkAccount

log = logging.getLogger(__name__)
FORMATS = {".csv": "twcs", ".jsonl": "jsonl", ".ndjson": "jsonl"}
Entry = tuple[int, InboundItem]  # (line, item)


@dataclass(slots=True)
class ImportReport:
    rows_read: int = 0
    stored: int = 0
    already_present: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    cases_created: int = 0
    path: str = ""
    format: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (for ``--json``)."""
        skipped = [{"line": line, "reason": reason} for line, reason in self.skipped]
        data = asdict(self) | {"skipped": skipped, "seconds": round(self.seconds, 3)}
        return data | {"skipped_count": len(skipped)}


def detect_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(
            f"{path}: cannot tell the format from the extension {path.suffix!r}; "
            f"give it explicitly (one of: {', '.join(sorted(set(FORMATS.values())))})"
        )
    return fmt


def import_file(
    db: Database,
    path: Path,
    *,
    fmt: str | None = None,
    intake: Intake,
    batch_size: int = 1000,
    progress: bool = False,
) -> ImportReport:
    """Import a TWCS CSV or JSON-lines file; safe to interrupt and to run again."""
    started = time.perf_counter()
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS.values():
        raise InvalidInput(f"unknown import format {fmt!r} (twcs or jsonl)")
    if batch_size < 1:
        raise InvalidInput(f"batch_size must be at least 1, not {batch_size}")
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    if fmt == "twcs":
        with db.session() as session:
            known = session.scalars(
                select(NetworkAccount.handle).where(NetworkAccount.network == NETWORK)
            ).all()
        parsed = parse_twcs(path, known_accounts=known)
    else:
        parsed = parse_jsonl(path)
    report = ImportReport(
        rows_read=parsed.rows_read, skipped=list(parsed.skipped), path=str(path), format=fmt
    )
    entries = chronological(_storable(parsed.items, report.skipped))
    lines = {item.external_id[:200]: line for line, item in entries}
    with tqdm(
        total=len(entries), unit="msg", desc=path.name, file=sys.stderr, disable=not progress
    ) as bar:
        batches = (
            [item for _, item in entries[start : start + batch_size]]
            for start in range(0, len(entries), batch_size)
        )
        # Batch N+1 is normalised and understood while batch N is written (same result).
        for n, (batch, prepared) in enumerate(prepared_ahead(batches, list, intake=intake)):
            with db.session() as session, session.begin():
                if n == 0:
                    register_accounts(session, parsed.accounts)
                result = process_batch(session, batch, intake=intake, prepared=prepared)
            report.stored += result.stored
            report.already_present += result.duplicates
            report.cases_created += len(result.new_cases)
            report.skipped.extend((lines.get(ext, 0), why) for ext, why in result.rejected)
            bar.update(len(batch))
    report.skipped.sort()
    report.seconds = time.perf_counter() - started
    summary = {k: v for k, v in report.to_dict().items() if k not in ("path", "skipped")}
    log.info("imported %s: %s", path, summary)
    return report


def register_accounts(session: Session, accounts: Iterable[tuple[str, str]]) -> None:
    """Make sure each (network, handle) is one of the desk's accounts (role "support")."""
    existing = {(a.network, a.handle.lower()) for a in session.scalars(select(NetworkAccount))}
    for network, handle in sorted(accounts):
        if (network, handle.lower()) not in existing:
            session.add(NetworkAccount(network=network, handle=handle, role="support"))
            existing.add((network, handle.lower()))
    session.flush()


def _storable(entries: list[Entry], skipped: list[tuple[int, str]]) -> list[Entry]:
    """Drop (reporting them) items a column would refuse, so one bad row cannot fail a batch."""
    kept: list[Entry] = []
    for line, item in entries:
        problem = _column_problem(item)
        if problem:
            skipped.append((line, f"{item.network} {item.external_id[:40]}: {problem}"))
        else:
            kept.append((line, item))
    return kept


def _column_problem(item: InboundItem) -> str | None:
    """Why a column would refuse `item` (PostgreSQL enforces sizes and ranges), or None."""
    for name, value, limit in (
        ("network", item.network, 16),
        ("external_id", item.external_id, 200),
        ("author.external_id", item.author.external_id, 200),
        ("account_handle", item.account_handle, 200),
        ("in_reply_to_id", item.in_reply_to_id, 200),
        ("conversation_id", item.conversation_id, 200),
        ("language", item.language, 8),
    ):
        if value and len(value) > limit:
            return f"field {name} longer than {limit} characters"
    if not 0 <= item.author.followers < 2**63:
        return "field author.followers out of range"
    try:
        item.created_at.astimezone(UTC)
    except OverflowError:
        return "field created_at out of range"
    return None


def _sort_key(item: InboundItem) -> tuple[Any, ...]:
    ext = item.external_id
    tail = (0, int(ext), "") if ext.isdecimal() else (1, 0, ext)  # numeric ids in numeric order
    return (item.created_at, item.network, *tail)


def chronological(entries: Sequence[Entry]) -> list[Entry]:
    """Sort by (created_at, id), moving a reply stamped before its parent to just after it.

    Threading attaches a reply to its parent's case only if the parent is already stored, so
    a parent present in the same import always goes first. Pure function of its input.
    """
    ordered = sorted(entries, key=lambda e: _sort_key(e[1]))
    present = {(item.network, item.external_id) for _, item in ordered}
    done: set[tuple[str, str]] = set()
    waiting: dict[tuple[str, str], list[Entry]] = {}
    out: list[Entry] = []
    for entry in ordered:
        item = entry[1]
        parent = (item.network, item.in_reply_to_id or "")
        if parent in present and parent not in done and item.in_reply_to_id != item.external_id:
            waiting.setdefault(parent, []).append(entry)
            continue
        stack = [entry]
        while stack:
            current = stack.pop()
            out.append(current)
            key = (current[1].network, current[1].external_id)
            done.add(key)
            stack.extend(reversed(waiting.pop(key, [])))
    leftovers = [e for group in waiting.values() for e in group]  # reply cycles in bad data
    out.extend(sorted(leftovers, key=lambda e: _sort_key(e[1])))
    return out
