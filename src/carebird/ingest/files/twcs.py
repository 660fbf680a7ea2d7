"""Parsing of TWCS files (Kaggle "Customer Support on Twitter") into inbound items.

Columns are found by header name (case-insensitive), so pandas index columns (an empty
header, ``index``…) and any unknown column are tolerated and ignored. Required:
``tweet_id, author_id, inbound, created_at, text, in_response_to_tweet_id``;
``response_tweet_id`` is optional (kept in ``raw`` only).

Records are read by ``csv_lines`` (bare ``\\r`` inside unquoted fields, control characters,
unterminated quotes: see there); a line that reads as the start of a record on its own has a
valid tweet id, inbound flag and date in their columns.

``raw`` keeps the TWCS columns and a bounded remainder: the first ``MAX_EXTRA_COLUMNS`` other
named columns, each cut to ``MAX_EXTRA_CHARS`` (cut values end with "…"), and the number of
columns left out under ``_dropped_columns``: a 50,000-column row is stored like any other, its
``raw`` a few KB.

Bad rows never abort the parse: they are returned in ``skipped`` as (line, reason), where
line is the physical line (``\\n``-terminated) on which the record starts.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from carebird.errors import InvalidInput
from carebird.ingest.base import AuthorInfo, Direction, InboundItem, MessageKind
from carebird.ingest.files.csv_lines import LineSource, open_lines, records, unescape

NETWORK = "x"
REQUIRED = ("tweet_id", "author_id", "inbound", "created_at", "text", "in_response_to_tweet_id")
KNOWN = (*REQUIRED, "response_tweet_id")  # the columns kept whole in raw
MAX_EXTRA_COLUMNS = 8  # other columns kept in raw…
MAX_EXTRA_CHARS = 256  # …each cut to this many characters

_ID = re.compile(r"(\d{1,30})(?:\.0*)?")  # "3" or pandas' float spelling "3.0"
_MENTION = re.compile(r"(?<![\w@])@(\w{1,50})")
_BOOLS = {"true": True, "false": False, "1": True, "0": False}
_MONTHS = {"janfebmaraprmayjunjulaugsepoctnovdec"[3 * i : 3 * i + 3]: i + 1 for i in range(12)}


@dataclass(slots=True)
class ParsedFile:
    """What a reader got out of a file (the shape shared with the JSON-lines reader)."""

    items: list[tuple[int, InboundItem]] = field(default_factory=list)  # (line, item)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    rows_read: int = 0
    accounts: set[tuple[str, str]] = field(default_factory=set)  # (network, handle) of ours


@dataclass(slots=True)
class _Row:
    line: int
    tweet_id: str
    author_id: str
    inbound: bool
    created_at: datetime
    text: str
    parent_id: str | None
    raw: dict[str, str]


def parse_twcs(path: Path, *, known_accounts: Iterable[str] = ()) -> ParsedFile:
    """Read a whole TWCS file and turn it into items (held in memory: fine for these sizes).

    `known_accounts` are the desk's handles already registered on X: a customer's @mention of
    one of them names the account addressed, like a mention of a brand seen in the file.
    """
    out = ParsedFile()
    rows: dict[str, _Row] = {}

    def skip(line: int, reason: str) -> None:
        out.rows_read += 1
        out.skipped.append((line, reason))

    with open_lines(path) as lines:
        source = LineSource(lines)
        header = _read_header(csv.reader(source, strict=False), path)
        cols = _columns(header, path)
        plan = _raw_plan(header, cols)
        starts = functools.partial(_starts_record, cols=cols)
        for line, fields in records(source, len(source.taken) + 1, skip=skip, starts=starts):
            if not fields or fields == [""]:
                continue  # a blank line is not a record
            out.rows_read += 1
            if len(fields) != len(header):
                out.skipped.append((line, f"expected {len(header)} columns, found {len(fields)}"))
                continue
            try:
                row = _parse_row(line, plan, cols, fields)
            except ValueError as exc:
                out.skipped.append((line, str(exc)))
                continue
            first = rows.get(row.tweet_id)
            if first is not None:
                out.skipped.append((line, f"duplicate tweet_id {row.tweet_id} (line {first.line})"))
                continue
            rows[row.tweet_id] = row
    _to_items(rows, out, known_accounts)
    return out


def _starts_record(line: str, cols: dict[str, int]) -> bool:
    """Whether `line` read alone starts a record: a tweet id, an inbound flag and a date."""
    need = max(cols["tweet_id"], cols["inbound"], cols["created_at"])
    if line.count(",") < need:
        return False
    try:
        fields = next(csv.reader([line], strict=False))
    except (csv.Error, StopIteration):
        return False
    return (
        len(fields) > need
        and parse_id(fields[cols["tweet_id"]]) is not None
        and fields[cols["inbound"]].strip().lower() in _BOOLS
        and parse_twitter_date(unescape(fields[cols["created_at"]])) is not None
    )


def _read_header(reader: Any, path: Path) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(f"{path}: empty file, expected a TWCS header") from None
    except csv.Error as exc:
        raise InvalidInput(f"{path}: unreadable header: {exc}") from None
    return [unescape(h).strip() for h in header]


def _columns(header: list[str], path: Path) -> dict[str, int]:
    cols: dict[str, int] = {}
    for i, name in enumerate(header):
        cols.setdefault(name.lower(), i)
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise InvalidInput(
            f"{path}: not a TWCS file, missing column(s) {', '.join(missing)} "
            f"(found: {', '.join(repr(h) for h in header)})"
        )
    return cols


@dataclass(frozen=True, slots=True)
class _RawPlan:
    """Which columns a row's raw keeps: the TWCS ones whole, a few others cut short."""

    known: list[tuple[str, int]]  # (name as the header spells it, index)
    extra: list[tuple[str, int]]
    dropped: int  # named columns left out


def _raw_plan(header: list[str], cols: dict[str, int]) -> _RawPlan:
    known: list[tuple[str, int]] = []
    others: list[tuple[str, int]] = []
    for i, name in enumerate(header):
        if not name or cols[name.lower()] != i:
            continue  # pandas' unnamed index column, or a repeated name
        (known if name.lower() in KNOWN else others).append((name, i))
    kept = others[:MAX_EXTRA_COLUMNS]
    return _RawPlan(known, kept, len(others) - len(kept))


def _raw(plan: _RawPlan, fields: list[str]) -> dict[str, Any]:
    raw: dict[str, Any] = {name: fields[i] for name, i in plan.known}
    for name, i in plan.extra:
        value = fields[i]
        raw[name] = value if len(value) <= MAX_EXTRA_CHARS else value[:MAX_EXTRA_CHARS] + "…"
    if plan.dropped:
        raw["_dropped_columns"] = plan.dropped
    return raw


def _parse_row(line: int, plan: _RawPlan, cols: dict[str, int], fields: list[str]) -> _Row:
    def get(name: str) -> str:
        return fields[cols[name]]

    tweet_id = parse_id(get("tweet_id"))
    if tweet_id is None:
        shown = _shown(get("tweet_id"))
        raise ValueError(f"{'invalid' if shown else 'missing'} tweet_id{shown}")
    author_id = get("author_id").strip()
    if not author_id:
        raise ValueError(f"tweet {tweet_id}: missing author_id")
    inbound = _BOOLS.get(get("inbound").strip().lower())
    if inbound is None:
        raise ValueError(f"tweet {tweet_id}: invalid inbound{_shown(get('inbound'))}")
    created_at = parse_twitter_date(get("created_at"))
    if created_at is None:
        raise ValueError(f"tweet {tweet_id}: unparseable created_at{_shown(get('created_at'))}")
    parent = get("in_response_to_tweet_id").strip()
    parent_id = None if parent.lower() in ("", "nan", "none") else parse_id(parent)
    if parent_id is None and parent.lower() not in ("", "nan", "none"):
        raise ValueError(f"tweet {tweet_id}: invalid in_response_to_tweet_id{_shown(parent)}")
    raw = _raw(plan, fields)
    return _Row(line, tweet_id, author_id, inbound, created_at, get("text"), parent_id, raw)


def _shown(value: str) -> str:
    value = value.strip()
    return f" {value[:60]!r}" if value else ""


def parse_id(value: str) -> str | None:
    """A tweet id as a canonical integer string ("3.0" → "3"); None when it is not one."""
    match = _ID.fullmatch(value.strip())
    return str(int(match.group(1))) if match else None


def parse_twitter_date(value: str) -> datetime | None:
    """``Tue Oct 31 22:10:47 +0000 2017`` (locale-independent), or ISO 8601 with an offset."""
    parts = value.split()
    try:
        if len(parts) == 6:
            _, month, day, hms, offset, year = parts
            h, m, s = (int(x) for x in hms.split(":"))
            sign = -1 if offset[0] == "-" else 1
            if offset[0] not in "+-" or len(offset) != 5:
                return None
            tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:])))
            return datetime(int(year), _MONTHS[month.lower()], int(day), h, m, s, tzinfo=tz)
        parsed = datetime.fromisoformat(value.strip())
    except (ValueError, KeyError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else None


def _to_items(rows: dict[str, _Row], out: ParsedFile, known: Iterable[str]) -> None:
    brands: dict[str, str] = {}  # lower-case handle -> handle as the brand rows spell it
    replied_by: dict[str, str] = {}  # customer tweet -> brand of its earliest reply in the file
    for row in sorted(rows.values(), key=lambda r: (r.created_at, int(r.tweet_id))):
        if not row.inbound:
            brands.setdefault(row.author_id.lower(), row.author_id)
            if row.parent_id:
                replied_by.setdefault(row.parent_id, row.author_id)
    out.accounts = {(NETWORK, handle) for handle in brands.values()}
    for handle in known:
        brands.setdefault(handle.lower(), handle)
    roots: dict[str, str] = {}
    addressed: dict[str, str | None] = {}
    for row in rows.values():
        if row.inbound:
            kind = MessageKind.REPLY if row.parent_id else MessageKind.MENTION
            direction = Direction.IN
            account = _addressed(row, rows, brands, replied_by, addressed)
        else:
            kind = MessageKind.REPLY if row.parent_id else MessageKind.OWN_POST
            direction, account = Direction.OUT, row.author_id
        item = InboundItem(
            network=NETWORK,
            external_id=row.tweet_id,
            author=AuthorInfo(external_id=row.author_id, handle=row.author_id),
            text=row.text,
            created_at=row.created_at,
            kind=kind,
            direction=direction,
            account_handle=account,
            in_reply_to_id=row.parent_id,
            conversation_id=_root(row.tweet_id, rows, roots),
            raw=row.raw,
        )
        out.items.append((row.line, item))


def _addressed(
    row: _Row,
    rows: dict[str, _Row],
    brands: dict[str, str],
    replied_by: dict[str, str],
    memo: dict[str, str | None],
) -> str | None:
    """The brand a customer tweet addresses, by the first rule that gives one.

    1. the author of its parent, when the parent is a brand row;
    2. its first @mention of a brand (a brand row's author, or a known desk account);
    3. the brand its parent (a customer tweet of the file) addresses, by these same rules;
    4. the brand whose reply to it comes first in the file (TWCS anonymised many brand
       @mentions into numbers, so the answer is often the only trace of who was asked).
    """
    chain: list[_Row] = []
    found: str | None = None
    current: _Row | None = row
    while current is not None and current.tweet_id not in memo:
        memo[current.tweet_id] = None  # provisional: guards against reply cycles
        chain.append(current)
        parent = rows.get(current.parent_id) if current.parent_id else None
        if parent is not None and not parent.inbound:
            found = parent.author_id
            break
        mentions = (m.lower() for m in _MENTION.findall(current.text))
        found = next((brands[m] for m in mentions if m in brands), None)
        if found is not None:
            break
        current = parent
    else:
        found = memo[current.tweet_id] if current is not None else None
    # Walk back down: the nearest resolved ancestor, else a brand's reply to the tweet itself.
    for tweet in reversed(chain):
        found = found or replied_by.get(tweet.tweet_id)
        memo[tweet.tweet_id] = found
    return memo[row.tweet_id]


def _root(tweet_id: str, rows: dict[str, _Row], roots: dict[str, str]) -> str:
    """The earliest ancestor of `tweet_id` present in the file (itself when it has none)."""
    chain: list[str] = []
    seen: set[str] = set()
    current = tweet_id
    while current not in roots:
        if current in seen:  # a cycle in bad data: its smallest id stands for the root
            loop = chain[chain.index(current) :]
            roots[current] = min(loop, key=int)
            break
        seen.add(current)
        chain.append(current)
        parent = rows[current].parent_id
        if parent is None or parent not in rows:
            roots[current] = current
            break
        current = parent
    root = roots[current]
    for tid in chain:
        roots[tid] = root
    return root
