"""carebird's JSON-lines format: reading it for the importer, writing it, exporting a desk.

The format (``.jsonl`` / ``.ndjson``, UTF-8, one object per ``\\n``-terminated line,
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

Control characters (NUL, ESC…; not tab, newline or CR) are dropped from every string read,
``raw``'s keys and values included: PostgreSQL refuses NUL, and one such line must cost
nothing more than its own characters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.db.database import Database
from carebird.ingest.base import AuthorInfo, Direction, InboundItem, MessageKind
from carebird.ingest.files.twcs import ParsedFile
from carebird.ingest.models import Author, Message, NetworkAccount
from carebird.ingest.normalize import clean_raw, strip_controls

REQUIRED_FIELDS = ("network", "external_id", "author", "text", "created_at")


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
    author = _with_required_fields(obj)
    when = _created_at(obj)
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
    followers, verified = _author_standing(author)
    if not _str(obj, "network"):
        raise ValueError("field network: empty")
    return InboundItem(
        network=_str(obj, "network"),
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
        metrics={strip_controls(str(k)): int(v) for k, v in metrics.items()},
        raw=clean_raw(raw),
    )


def _with_required_fields(obj: Any) -> dict[str, Any]:
    """Check that `obj` is an object holding every required field; its author object."""
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
    assert isinstance(author, dict)  # for the type checker: "author" is a required field
    return author


def _created_at(obj: dict[str, Any]) -> datetime:
    created_at = _str(obj, "created_at")
    try:
        when = datetime.fromisoformat(created_at)
    except ValueError:
        raise ValueError(f"field created_at: not an ISO 8601 time: {created_at[:60]!r}") from None
    if when.tzinfo is None:
        raise ValueError(f"field created_at: no UTC offset in {created_at[:60]!r}")
    return when


def _author_standing(author: dict[str, Any]) -> tuple[int, bool]:
    """The author's follower count and verified mark."""
    followers = author.get("followers") or 0
    if not _is_int(followers):
        raise ValueError("field author.followers: expected an integer")
    verified = author.get("verified") or False
    if not isinstance(verified, bool):
        raise ValueError("field author.verified: expected true or false")
    return followers, verified


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _str(obj: dict[str, Any], key: str, prefix: str = "") -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"field {prefix}{key}: expected a string, found {type(value).__name__}")
    return strip_controls(value)


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
