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

JSON-lines format (``.jsonl`` / ``.ndjson``, UTF-8, one object per ``\\n``-terminated line,
blank lines ignored) — one :class:`~carebird.ingest.base.InboundItem` per line::

    {"network": "x",                        required, str
     "external_id": "123",                  required, str (an integer is accepted)
     "author": {"external_id": "42",        required, str
                "handle": "alice",          required, str
                "display_name": "",         str, default ""
                "followers": 0,             int, default 0
                "verified": false},         bool, default false
     "text": "…",                           required, str, verbatim
     "created_at": "2017-10-31T22:10:47+00:00",  required, ISO 8601 with an offset
     "kind": "mention",                     mention|reply|direct|keyword|quote|own_post
     "direction": "in",                     in|out, default "in"
     "account_handle": null,                str|null: our account addressed / speaking
     "in_reply_to_id": null,                str|null
     "conversation_id": null,               str|null
     "language": null,                      str|null
     "metrics": {},                         {str: int}
     "raw": {}}                             object, kept as given

``export_jsonl_item`` writes exactly this shape and ``export_jsonl`` dumps a database with it,
so export → import reproduces the same messages (and, threaded in the same order, cases).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from carebird.db.database import Database
from carebird.errors import InvalidInput
from carebird.ingest.base import AuthorInfo, Direction, InboundItem, MessageKind
from carebird.ingest.models import Author, Message, NetworkAccount
from carebird.ingest.twcs import NETWORK, ParsedFile, parse_twcs
from carebird.pipeline import process_batch

log = logging.getLogger(__name__)
FORMATS = {".csv": "twcs", ".jsonl": "jsonl", ".ndjson": "jsonl"}
REQUIRED_FIELDS = ("network", "external_id", "author", "text", "created_at")
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
    reopen_window: timedelta,
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
        for start in range(0, len(entries), batch_size):
            batch = [item for _, item in entries[start : start + batch_size]]
            with db.session() as session, session.begin():
                if start == 0:
                    register_accounts(session, parsed.accounts)
                result = process_batch(session, batch, reopen_window=reopen_window)
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
    tail = (0, int(ext), "") if ext.isdigit() else (1, 0, ext)  # numeric ids in numeric order
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


# --- JSON lines -------------------------------------------------------------------------


def parse_jsonl(path: Path) -> ParsedFile:
    out = ParsedFile()
    seen: dict[tuple[str, str], int] = {}
    with open(path, "rb") as fh:
        for number, data in enumerate(fh, start=1):
            text = data.decode("utf-8", errors="replace")
            if number == 1:
                text = text.removeprefix("\ufeff")
            if not text.strip():
                continue
            out.rows_read += 1
            try:
                item = item_from_json(json.loads(text, strict=False))
            except json.JSONDecodeError as exc:
                out.skipped.append((number, f"invalid JSON: {exc.msg} (column {exc.colno})"))
                continue
            except (ValueError, TypeError) as exc:
                out.skipped.append((number, str(exc)))
                continue
            key = (item.network, item.external_id)
            if key in seen:
                out.skipped.append((number, f"duplicate {key[0]} id {key[1]} (line {seen[key]})"))
                continue
            seen[key] = number
            if item.direction is Direction.OUT and item.account_handle:
                out.accounts.add((item.network, item.account_handle))
            out.items.append((number, item))
    return out


def item_from_json(obj: Any) -> InboundItem:
    """An item from one decoded JSON line; ValueError naming the problem when it is bad."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, found {type(obj).__name__}")
    author = obj.get("author")
    if author is not None and not isinstance(author, dict):
        raise ValueError("field author: expected an object")
    missing = [k for k in REQUIRED_FIELDS if obj.get(k) is None]
    if author is not None:
        missing += [f"author.{k}" for k in ("external_id", "handle") if not author.get(k)]
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    assert isinstance(author, dict)  # for the type checker: checked above
    created_at = _str(obj, "created_at")
    try:
        when = datetime.fromisoformat(created_at)
    except ValueError:
        raise ValueError(f"field created_at: not an ISO 8601 time: {created_at[:60]!r}") from None
    if when.tzinfo is None:
        raise ValueError(f"field created_at: no UTC offset in {created_at[:60]!r}")
    try:
        kind = MessageKind(obj.get("kind") or MessageKind.MENTION)
        direction = Direction(obj.get("direction") or Direction.IN)
    except ValueError as exc:
        raise ValueError(f"field kind/direction: {exc}") from None
    metrics = obj.get("metrics") or {}
    if not isinstance(metrics, dict) or not all(_is_int(v) for v in metrics.values()):
        raise ValueError("field metrics: expected an object of integers")
    raw = obj.get("raw") or {}
    if not isinstance(raw, dict):
        raise ValueError("field raw: expected an object")
    followers = author.get("followers") or 0
    if not _is_int(followers):
        raise ValueError("field author.followers: expected an integer")
    verified = author.get("verified") or False
    if not isinstance(verified, bool):
        raise ValueError("field author.verified: expected true or false")
    if not _str(obj, "network"):
        raise ValueError("field network: empty")
    return InboundItem(
        network=obj["network"],
        external_id=_id(obj, "external_id"),
        author=AuthorInfo(
            external_id=_id(author, "external_id", "author."),
            handle=_str(author, "handle", "author."),
            display_name=_str(author, "display_name", "author."),
            followers=followers,
            verified=verified,
        ),
        text=_str(obj, "text"),
        created_at=when,
        kind=kind,
        direction=direction,
        account_handle=_opt(obj, "account_handle"),
        in_reply_to_id=_opt(obj, "in_reply_to_id", ids=True),
        conversation_id=_opt(obj, "conversation_id", ids=True),
        language=_opt(obj, "language"),
        metrics={str(k): int(v) for k, v in metrics.items()},
        raw=raw,
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _str(obj: dict[str, Any], key: str, prefix: str = "") -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"field {prefix}{key}: expected a string, found {type(value).__name__}")
    return value


def _id(obj: dict[str, Any], key: str, prefix: str = "") -> str:
    value = obj.get(key)
    value = str(value) if _is_int(value) else _str(obj, key, prefix)
    if not value:
        raise ValueError(f"field {prefix}{key}: empty id")
    return value


def _opt(obj: dict[str, Any], key: str, *, ids: bool = False) -> str | None:
    if obj.get(key) is None:
        return None
    return (_id(obj, key) if ids else _str(obj, key)) or None


def item_to_json(item: InboundItem) -> dict[str, Any]:
    a = item.author
    return {
        "network": item.network,
        "external_id": item.external_id,
        "author": {
            "external_id": a.external_id,
            "handle": a.handle,
            "display_name": a.display_name,
            "followers": a.followers,
            "verified": a.verified,
        },
        "text": item.text,
        "created_at": item.created_at.isoformat(),
        "kind": str(item.kind),
        "direction": str(item.direction),
        "account_handle": item.account_handle,
        "in_reply_to_id": item.in_reply_to_id,
        "conversation_id": item.conversation_id,
        "language": item.language,
        "metrics": dict(item.metrics),
        "raw": item.raw,
    }


def export_jsonl_item(item: InboundItem) -> str:
    """One line of the JSON-lines format (no trailing newline; text escapes keep it one line)."""
    line = json.dumps(item_to_json(item), ensure_ascii=False, default=str)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: keep them as \\u escapes
        line = json.dumps(item_to_json(item), default=str)
    return line


def stored_items(session: Session) -> Iterable[InboundItem]:
    """Every stored message as an item, in the order an import would process them."""
    stmt = (
        select(Message, Author, NetworkAccount.handle)
        .join(Author, Author.id == Message.author_id)
        .outerjoin(NetworkAccount, NetworkAccount.id == Message.account_id)
        .order_by(Message.created_at, Message.id)
        .execution_options(yield_per=1000)
    )
    for msg, a, account in session.execute(stmt):
        yield InboundItem(
            network=msg.network,
            external_id=msg.external_id,
            author=AuthorInfo(a.external_id, a.handle, a.display_name, a.followers, a.verified),
            text=msg.text,
            created_at=msg.created_at,
            kind=MessageKind(msg.kind),
            direction=Direction(msg.direction),
            account_handle=account,
            in_reply_to_id=msg.in_reply_to_id,
            conversation_id=msg.conversation_id,
            language=msg.language,
            metrics=dict(msg.metrics or {}),
            raw=dict(msg.raw or {}),
        )


def export_jsonl(db: Database, path: Path) -> int:
    """Write every stored message to `path` in the JSON-lines format; returns the count."""
    count = 0
    with db.session() as session, open(path, "w", encoding="utf-8", newline="\n") as fh:
        for item in stored_items(session):
            fh.write(export_jsonl_item(item) + "\n")
            count += 1
    return count
