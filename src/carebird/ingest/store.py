"""The idempotent store: a batch of items becomes new message rows, duplicates are skipped.

Batched for speed (one query per concern per batch, not per message); the caller owns the
transaction so the messages, their threading and the cursor commit together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from carebird.db.base import utcnow
from carebird.db.bulk import insert_ignoring_duplicates, uniform, update_by_id
from carebird.errors import InvalidInput
from carebird.ingest.base import Direction, InboundItem, MessageKind
from carebird.ingest.models import Author, Cursor, Message, NetworkAccount
from carebird.ingest.normalize import normalize

log = logging.getLogger(__name__)
CHUNK = 500  # bound on IN (...) lists
# The hot path writes through SQLAlchemy Core on the tables (not the ORM's bulk machinery).
MESSAGES: Table = Message.__table__  # type: ignore[assignment]
AUTHORS: Table = Author.__table__  # type: ignore[assignment]
CURSORS: Table = Cursor.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class StoredMessage:
    """What later stages need of a newly stored message, without loading ORM objects."""

    id: int
    network: str
    external_id: str
    direction: str
    kind: str
    is_private: bool
    author_id: int
    account_id: int | None
    created_at: datetime
    in_reply_to_id: str | None
    conversation_id: str | None
    text: str
    recipient_id: str | None = None
    # What the understand stage found (inbound messages) and the engagement seen on arrival.
    category: str | None = None
    sentiment: str | None = None
    cues: list[str] = field(default_factory=list)
    interactions: int = 0
    interactions_at_arrival: int = 0


@dataclass(slots=True)
class StoreResult:
    new: list[StoredMessage] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (external id, reason)
    refreshed_cases: set[int] = field(default_factory=set)  # new likes/reposts seen on these


# Extra message columns computed from items by a later stage (the understand stage's hook).
Annotate = Callable[[Sequence[InboundItem]], Sequence[dict[str, Any]]]


@dataclass(slots=True)
class Prepared:
    """A batch made ready to store without the database: normalised, each (network, external
    id) once, and annotated (`columns`, one dict per item) — see `prepare_items`."""

    items: list[InboundItem] = field(default_factory=list)
    columns: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0  # repeated within the batch
    rejected: list[tuple[str, str]] = field(default_factory=list)


def prepare_items(items: Iterable[InboundItem], *, annotate: Annotate | None = None) -> Prepared:
    """The database-free part of `store_items` (normalise, deduplicate, annotate): it can run
    on another thread or process while the previous batch is written. Annotating every item,
    not only those the database does not have yet, gives each the same columns (the hook
    reads one item at a time), so the stored result is the same either way."""
    result = StoreResult()
    batch = _normalized_once(items, result)
    columns = list(annotate(batch)) if annotate and batch else [{} for _ in batch]
    return Prepared(batch, columns, result.duplicates, result.rejected)


def chunks(seq: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def store_items(
    session: Session,
    items: Iterable[InboundItem],
    *,
    annotate: Annotate | None = None,
    prepared: Prepared | None = None,
) -> StoreResult:
    """Store the new items of a batch once each; `prepared` (from `prepare_items`) when the
    database-free part was done beforehand, else it is done here with `annotate`."""
    # Done here, only the items the database does not have yet are annotated (a re-poll or a
    # reconciliation overlapping what is stored costs no understanding).
    ready = prepared if prepared is not None else prepare_items(items)
    late = annotate if prepared is None else None
    result = StoreResult(duplicates=ready.duplicates, rejected=list(ready.rejected))
    batch = ready.items
    if not batch:
        return result

    present = _existing_keys(session, [(i.network, i.external_id) for i in batch])
    fresh = [(i, c) for i, c in zip(batch, ready.columns, strict=True) if _key_of(i) not in present]
    result.duplicates += len(batch) - len(fresh)
    seen_again = [i for i in batch if i.metrics and _key_of(i) in present]
    if seen_again:
        result.refreshed_cases = _refresh_metrics(session, seen_again)
    if not fresh:
        return result
    if late is not None:
        fresh = list(zip([i for i, _ in fresh], late([i for i, _ in fresh]), strict=True))

    accounts = _accounts(session, [i for i, _ in fresh])
    authors = _authors(session, [i for i, _ in fresh], accounts)
    now = utcnow()  # one ingestion time for the batch
    rows = uniform(MESSAGES, [_row(item, cols, accounts, authors, now) for item, cols in fresh])
    # One upsert path for every writer: a message stored meanwhile by another transaction
    # (the echo of a reply racing the sender's own record of it) is skipped, never an error.
    stmt = insert_ignoring_duplicates(session, MESSAGES, ("network", "external_id"))
    id_of = {
        (r.network, r.external_id): r.id
        for r in session.connection().execute(
            stmt.returning(MESSAGES.c.id, MESSAGES.c.network, MESSAGES.c.external_id), rows
        )
    }
    kept = 0
    for row, (item, _) in zip(rows, fresh, strict=True):
        msg_id = id_of.get(_key(row))
        if msg_id is None:  # lost a race: the other writer's row is a duplicate here
            continue
        kept += 1
        result.new.append(_stored(row, msg_id, item))
    result.duplicates += len(rows) - kept
    return result


def _row(
    item: InboundItem,
    columns: dict[str, Any],
    accounts: dict[tuple[str, str], int],
    authors: dict[tuple[str, str], tuple[int, bool]],
    now: datetime,
) -> dict[str, Any]:
    author_id, is_brand = authors[(item.network, item.author.external_id)]
    # Echo-proof: whatever the connector said, a post by one of our accounts is ours.
    direction = Direction.OUT if is_brand else item.direction
    kind = item.kind
    if direction is Direction.OUT and kind is MessageKind.MENTION:
        kind = MessageKind.REPLY if item.in_reply_to_id else MessageKind.OWN_POST
    engaged = interactions(item.metrics)
    return {
        "network": item.network,
        "external_id": item.external_id,
        "direction": str(direction),
        "kind": str(kind),
        "is_private": item.is_private,
        "account_id": accounts.get((item.network, (item.account_handle or "").lower())),
        "author_id": author_id,
        "text": item.text,
        "language": item.language,
        "created_at": item.created_at,
        "ingested_at": now,
        "in_reply_to_id": item.in_reply_to_id,
        "conversation_id": item.conversation_id,
        "metrics": dict(item.metrics),
        "interactions": engaged,
        "interactions_at_arrival": engaged,
        "raw": item.raw,
        **columns,
    }


def _stored(row: dict[str, Any], msg_id: int, item: InboundItem) -> StoredMessage:
    return StoredMessage(
        id=msg_id,
        network=row["network"],
        external_id=row["external_id"],
        direction=row["direction"],
        kind=row["kind"],
        is_private=row["is_private"],
        author_id=row["author_id"],
        account_id=row["account_id"],
        created_at=row["created_at"],
        in_reply_to_id=row["in_reply_to_id"],
        conversation_id=row["conversation_id"],
        text=row["text"],
        recipient_id=(item.raw.get("recipient_id") if item.is_private else None),
        category=row.get("category"),
        sentiment=row.get("sentiment"),
        cues=list(row.get("cues") or []),
        interactions=row["interactions"],
        interactions_at_arrival=row["interactions_at_arrival"],
    )


def _key_of(item: InboundItem) -> tuple[str, str]:
    return (item.network, item.external_id)


def _normalized_once(items: Iterable[InboundItem], result: StoreResult) -> list[InboundItem]:
    """The items normalised, each (network, external id) once; the rejected and repeated ones
    are counted in `result`."""
    batch: list[InboundItem] = []
    seen: set[tuple[str, str]] = set()
    for raw_item in items:
        try:
            item = normalize(raw_item)
        except InvalidInput as exc:
            result.rejected.append((str(raw_item.external_id)[:200], str(exc)))
            continue
        key = (item.network, item.external_id)
        if key in seen:
            result.duplicates += 1
            continue
        seen.add(key)
        batch.append(item)
    return batch


def interactions(metrics: dict[str, Any]) -> int:
    """How much a post was engaged with: likes + reposts + quotes."""
    return sum(int(metrics.get(k) or 0) for k in ("likes", "reposts", "quotes"))


def _refresh_metrics(session: Session, items: list[InboundItem]) -> set[int]:
    """Store the latest likes/reposts/quotes of messages seen again; return their cases."""
    latest = {(i.network, i.external_id): dict(i.metrics) for i in items}
    cols = (Message.id, Message.network, Message.external_id, Message.metrics, Message.case_id)
    changed, cases = [], set()
    for row in _rows_by_key(session, cols, Message.network, Message.external_id, latest):
        metrics = latest[(row.network, row.external_id)]
        if metrics != row.metrics:
            changed.append(
                {"id": row.id, "metrics": metrics, "interactions": interactions(metrics)}
            )
            if row.case_id is not None:
                cases.add(row.case_id)
    if changed:
        update_by_id(session, MESSAGES, changed)
    return cases


def _existing_keys(session: Session, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    cols = (Message.network, Message.external_id)
    return {
        (r.network, r.external_id)
        for r in _rows_by_key(session, cols, Message.network, Message.external_id, keys)
    }


def _rows_by_key(
    session: Session,
    columns: Sequence[Any],
    network_col: Any,
    id_col: Any,
    keys: Iterable[tuple[str, str]],
) -> Iterator[Any]:
    """Rows whose (network, external id) is in `keys`: one `network = ? AND id IN (…)` query
    per network and chunk, which both engines answer from the unique index."""
    by_network: dict[str, list[str]] = {}
    for network, ext in keys:
        by_network.setdefault(network, []).append(ext)
    for network, exts in by_network.items():
        for part in chunks(exts):
            yield from session.execute(
                select(*columns).where(network_col == network, id_col.in_(part))
            )


def _accounts(session: Session, items: list[InboundItem]) -> dict[tuple[str, str], int]:
    """The desk's own accounts by (network, lower-case handle); unknown ones are registered."""
    accounts = select(NetworkAccount.id, NetworkAccount.network, NetworkAccount.handle)
    known = {(a.network, a.handle.lower()): a.id for a in session.execute(accounts)}
    for item in items:
        if item.account_handle and (item.network, item.account_handle.lower()) not in known:
            account = NetworkAccount(network=item.network, handle=item.account_handle)
            session.add(account)
            session.flush()
            known[(item.network, item.account_handle.lower())] = account.id
    return known


def _authors(
    session: Session, items: list[InboundItem], accounts: dict[tuple[str, str], int]
) -> dict[tuple[str, str], tuple[int, bool]]:
    wanted = {(i.network, i.author.external_id): i.author for i in items}
    found: dict[tuple[str, str], tuple[int, bool]] = {}
    stale: list[dict[str, Any]] = []
    keys = list(wanted)
    cols = (
        Author.id,
        Author.network,
        Author.external_id,
        Author.is_brand,
        Author.followers,
        Author.handle,
        Author.display_name,
        Author.verified,
    )
    for row in _rows_by_key(session, cols, Author.network, Author.external_id, keys):
        key = (row.network, row.external_id)
        found[key] = (row.id, row.is_brand)
        info = wanted[key]
        current = (row.followers, row.handle, row.display_name, row.verified)
        fresh = (info.followers, info.handle, info.display_name or row.display_name, info.verified)
        if current != fresh:
            stale.append(
                {
                    "id": row.id,
                    "followers": info.followers,
                    "handle": info.handle,
                    "display_name": fresh[2],
                    "verified": info.verified,
                    "updated_at": utcnow(),
                }
            )
    if stale:
        update_by_id(session, AUTHORS, stale)
    missing = [k for k in keys if k not in found]
    if missing:
        rows = []
        for network, ext in missing:
            info = wanted[(network, ext)]
            rows.append(
                {
                    "network": network,
                    "external_id": ext,
                    "handle": info.handle,
                    "display_name": info.display_name,
                    "followers": info.followers,
                    "verified": info.verified,
                    "is_brand": (network, info.handle.lower()) in accounts,
                    "updated_at": utcnow(),
                }
            )
        # Another transaction may create the same author meanwhile: its row is as good.
        stmt = insert_ignoring_duplicates(session, AUTHORS, ("network", "external_id"))
        brand = {_key(r): bool(r["is_brand"]) for r in rows}
        for row in session.connection().execute(
            stmt.returning(AUTHORS.c.id, AUTHORS.c.network, AUTHORS.c.external_id), rows
        ):
            found[(row.network, row.external_id)] = (row.id, brand[(row.network, row.external_id)])
        lost = [k for k in missing if k not in found]  # created meanwhile by another writer
        ids = (Author.id, Author.network, Author.external_id, Author.is_brand)
        for row in _rows_by_key(session, ids, Author.network, Author.external_id, lost):
            found[(row.network, row.external_id)] = (row.id, row.is_brand)
    return found


def _key(row: dict[str, Any]) -> tuple[str, str]:
    return (row["network"], row["external_id"])


def load_cursor(session: Session, source: str) -> str | None:
    conn = session.connection()
    value: str | None = conn.scalar(select(CURSORS.c.value).where(CURSORS.c.source == source))
    return value


def save_cursor(session: Session, source: str, value: str | None) -> None:
    """Insert or update `source`'s cursor (Core: one or two statements, no unit of work)."""
    conn = session.connection()
    now = utcnow()
    done = conn.execute(
        update(CURSORS).where(CURSORS.c.source == source).values(value=value, updated_at=now)
    )
    if not done.rowcount:
        conn.execute(insert(CURSORS).values(source=source, value=value, updated_at=now))
