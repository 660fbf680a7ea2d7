"""A Mastodon peer for the connector tests: mastodon-mock served over HTTP on 127.0.0.1.

`MastodonHarness` starts mastodon-mock's FastAPI app (in-memory SQLite) under uvicorn in a
thread, with the brand account "LigneAzur_SAV" and customers created on demand, and
implements tests/support/contract.py's `PeerHarness`.

What the harness adds around the unmodified package, and why:
- Speed. mastodon-mock serialises notifications one by one (≈22 SQL queries each, ~6 ms):
  10,000 mentions would take over a minute to read. `fast=True` (the default) routes
  GET /api/v1/notifications to the same query and the same serialisers fed with the
  package's own batch context (what it already uses for timelines), and adds indexes on
  the reply/reblog/quote columns that its per-status counts scan. A test checks that both
  routes return the same JSON.
- Writing fast. `post_mentions` inserts statuses, mention edges and notifications in bulk
  (10,000 in well under a second); `send_private` and `post_as_brand` go through the
  package's own status-creation code in-process. None of them goes through HTTP, so an
  injected fault always meets the connector, never the harness.
- Rate limits. The package's own limiter is on (1,000,000 calls per 5 minutes unless
  `rate_limit` says otherwise), so every response carries X-RateLimit-* headers (with an
  epoch reset) as Mastodon's do.
- Faults. `fail_next` registers a rule with the package's fault injection (its
  /api/v1/_mock/faults store, used in-process); a 429 carries X-RateLimit-* headers with an
  ISO 8601 reset as Mastodon sends them. `lose_next_response` (an ASGI wrapper) lets a
  request be processed and then answers 502 instead, as when a response is lost on the way
  back: the retry must not post twice.
It uses two private helpers of mastodon-mock 0.6.1 (`_filtered_query`,
`_create_status_from_params`): pin that version.
Peer limits met on the way (not the connector's): search ignores min_id/max_id/offset and
returns direct statuses, GET /api/v1/statuses/:id shows direct statuses to anyone, the
Link header drops the types[] filter, and max_characters is fixed at 500.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from mastodon_mock.app import create_app
from mastodon_mock.config import (
    DatabaseConfig,
    MastodonMockConfig,
    RateLimitConfig,
    SeedAccount,
    SeedConfig,
    StreamingConfig,
)
from mastodon_mock.content_format import render_status_html
from mastodon_mock.db.models import Account, Notification, OAuthToken, Status, StatusMention
from mastodon_mock.deps import Config, DbSession, RequiredAccount
from mastodon_mock.ids import next_id
from mastodon_mock.pagination import paginate
from mastodon_mock.routers.helpers import PageQuery, array_query, set_link_header
from mastodon_mock.routers.notifications import _filtered_query
from mastodon_mock.routers.statuses import _create_status_from_params
from mastodon_mock.serializers.accounts import serialize_account
from mastodon_mock.serializers.batch import build_status_context
from mastodon_mock.serializers.common import iso
from mastodon_mock.serializers.common import sid as mock_sid
from mastodon_mock.serializers.statuses import serialize_status
from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from carebird.ingest.calls import AccountSpec, Backoff, CallMeter
from carebird.ingest.mastodon.connector import MastodonConnector

BRAND = "LigneAzur_SAV"
BRAND_TOKEN = "ligneazur-sav-token"  # a mock credential
PUBLIC = ("public", "unlisted")
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def serialize_notifications(
    db: Session, notifications: list[Notification], config: Any, viewer: Account
) -> list[dict[str, Any]]:
    """serialize_notification's output for a page, with one batch context for all of it."""
    ids = [n.status_id for n in notifications if n.status_id is not None]
    statuses = {s.id: s for s in db.scalars(select(Status).where(Status.id.in_(ids)))}
    nested_ids = {
        x for s in statuses.values() for x in (s.reblog_of_id, s.quoted_status_id) if x is not None
    }
    nested = list(db.scalars(select(Status).where(Status.id.in_(nested_ids)))) if nested_ids else []
    ctx = build_status_context(db, [*statuses.values(), *nested], viewer)
    out = []
    for n in notifications:
        actor = db.get(Account, n.from_account_id)
        status = statuses.get(n.status_id) if n.status_id is not None else None
        out.append(
            {
                "id": mock_sid(n.id),
                "type": n.type,
                "created_at": iso(n.created_at),
                "account": serialize_account(db, actor, config, ctx=ctx) if actor else None,
                "status": serialize_status(
                    db, status, config, viewer, ctx=ctx, filter_context="notifications"
                )
                if status is not None
                else None,
                "group_key": f"ungrouped-{n.id}",
            }
        )
    return out


def _install_fast_notifications(app: FastAPI) -> None:
    router = APIRouter()

    @router.get("/api/v1/notifications")
    def notifications(
        request: Request,
        response: Response,
        db: DbSession,
        config: Config,
        account: RequiredAccount,
        params: PageQuery,
        account_id: str | None = None,
        include_filtered: bool = False,
    ) -> list[dict[str, Any]]:
        query = _filtered_query(
            account.id,
            array_query(request, "types"),
            array_query(request, "exclude_types"),
            account_id,
            include_filtered,
        )
        page = paginate(
            db,
            query,
            Notification.id,
            max_id=params.max_id,
            min_id=params.min_id,
            since_id=params.since_id,
            limit=params.limit,
        )
        set_link_header(request, response, page)
        return serialize_notifications(db, list(page.items), config, account)

    before = len(app.router.routes)
    app.include_router(router)
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = added  # first match wins


class LoseResponses:
    """ASGI wrapper: process the next matching requests, then answer 502 instead."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.pending: list[tuple[str, str]] = []  # (method, path) still to lose
        self._lock = threading.Lock()

    def _take(self, scope: Scope) -> bool:
        key = (scope.get("method", ""), scope.get("path", ""))
        with self._lock:
            if key in self.pending:
                self.pending.remove(key)
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._take(scope):
            await self.app(scope, receive, send)
            return

        async def swallow(message: MutableMapping[str, Any]) -> None:
            return None

        await self.app(scope, receive, swallow)
        body = b'{"error":"Bad gateway (response lost by the test harness)"}'
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 502, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class MastodonHarness:
    """The PeerHarness for Mastodon (see the module doc)."""

    network = "mastodon"

    def __init__(
        self,
        *,
        listening: tuple[str, ...] = ("Ligne Azur",),
        fast: bool = True,
        backoff: Backoff | None = None,
        rate_limit: tuple[int, int] = (1_000_000, 300),
    ) -> None:
        self.listening, self.fast, self.rate_limit = listening, fast, rate_limit
        self.sleeps: list[float] = []  # what the connectors' Backoff would have slept
        self.backoff = backoff or Backoff(sleep=self.sleeps.append)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._customers: dict[int, int] = {}  # customer number -> account id
        self._write = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> MastodonHarness:
        seed = SeedConfig(
            accounts=[
                SeedAccount(username=BRAND, display_name="Ligne Azur SAV", access_token=BRAND_TOKEN)
            ]
        )
        self._media = tempfile.mkdtemp(prefix="mastodon-mock-media-")
        config = MastodonMockConfig(
            database=DatabaseConfig(path=":memory:"),
            media_storage_path=self._media,
            seed=seed,
            url_scheme="http",
            streaming=StreamingConfig(enabled=False),
            # Mastodon sends X-RateLimit-* on every call: so does the mock's limiter, when on.
            ratelimit=RateLimitConfig(
                enabled=True, limit=self.rate_limit[0], window_seconds=self.rate_limit[1]
            ),
        )
        self.app = create_app(config)
        self.engine = self.app.state.engine
        with self.engine.begin() as conn:
            for column in ("in_reply_to_id", "reblog_of_id", "quoted_status_id"):
                if self.fast:
                    conn.exec_driver_sql(
                        f"CREATE INDEX IF NOT EXISTS ix_h_{column} ON statuses({column})"
                    )
        if self.fast:
            _install_fast_notifications(self.app)
        self.lost = LoseResponses(self.app)
        server = uvicorn.Server(
            uvicorn.Config(self.lost, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        )
        self._thread = threading.Thread(target=server.run, name="mastodon-mock", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                server.should_exit = True
                raise RuntimeError("mastodon-mock did not start")
            time.sleep(0.01)
        self._server = server
        port = server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        with Session(self.engine) as session:
            brand = session.scalar(select(Account).where(Account.username == BRAND))
            assert brand is not None
            self.brand_account_id = brand.id
        self.brand = AccountSpec(
            network="mastodon",
            handle=BRAND,
            external_id=str(self.brand_account_id),
            credentials={"access_token": BRAND_TOKEN},
            options={"base_url": self.base_url, "listening": list(self.listening)},
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.engine.dispose()  # also deletes the database's temporary file
        shutil.rmtree(self._media, ignore_errors=True)

    # -- connectors --------------------------------------------------------------------------

    def connector(self, stream: str, meter: CallMeter | None = None) -> MastodonConnector:
        return MastodonConnector(self.brand, stream, meter=meter, backoff=self.backoff)

    def inbound_connectors(self, meter: CallMeter | None = None) -> list[MastodonConnector]:
        return [self.connector(s, meter) for s in MastodonConnector.streams(self.brand)]

    def sender(self, meter: CallMeter | None = None) -> MastodonConnector:
        return self.connector("mentions", meter)

    # -- writing on the peer -----------------------------------------------------------------

    def customer_id(self, customer: int) -> str:
        return str(self._ensure_customers([customer])[customer])

    def _ensure_customers(self, numbers: list[int]) -> dict[int, int]:
        missing = sorted({n for n in numbers if n not in self._customers})
        if missing:
            accounts, tokens = [], []
            now = datetime.now(UTC)
            for n in missing:
                account_id = next_id()
                self._customers[n] = account_id
                accounts.append(
                    {
                        "id": account_id,
                        "username": f"client{n}",
                        "display_name": f"Client {n}",
                        "note": "",
                        "created_at": now,
                        "fields": [],
                        "email": f"client{n}@local",
                    }
                )
                tokens.append(
                    {
                        "id": next_id(),
                        "access_token": f"client-{n}-token",
                        "account_id": account_id,
                        "scopes": ["read", "write", "follow"],
                        "created_at": now,
                    }
                )
            with Session(self.engine) as session, session.begin():
                session.execute(insert(Account), accounts)
                session.execute(insert(OAuthToken), tokens)
        return {n: self._customers[n] for n in numbers}

    def post_mentions(self, n: int, *, customers: int = 50, text: str = "") -> list[str]:
        """Bulk-insert n public statuses mentioning the brand, with their notifications.

        A given `text` is used as is when it already mentions @LigneAzur_SAV, else after it.
        """
        authors = self._ensure_customers(list(range(max(1, customers))))
        base = datetime.now(UTC)
        statuses, mentions, notifications, ids = [], [], [], []
        with self._write:
            for k in range(n):
                author = authors[k % len(authors)]
                body = text or f"@{BRAND} message {k}: my train from Lyon is late again"
                if f"@{BRAND}".lower() not in body.lower():
                    body = f"@{BRAND} {body}"
                status_id, at = next_id(), base + timedelta(microseconds=k)
                ids.append(str(status_id))
                statuses.append(
                    {
                        "id": status_id,
                        "account_id": author,
                        "content": render_status_html(body),
                        "text": body,
                        "visibility": "public",
                        "created_at": at,
                        "edit_history": [],
                    }
                )
                mentions.append(
                    {"id": next_id(), "status_id": status_id, "account_id": self.brand_account_id}
                )
                notifications.append(
                    {
                        "id": next_id(),
                        "account_id": self.brand_account_id,
                        "from_account_id": author,
                        "type": "mention",
                        "status_id": status_id,
                        "created_at": at,
                        "read": False,
                    }
                )
            with Session(self.engine) as session, session.begin():
                session.execute(insert(Status), statuses)
                session.execute(insert(StatusMention), mentions)
                session.execute(insert(Notification), notifications)
        return ids

    def post_status(self, account_id: int, params: dict[str, Any]) -> str:
        """Create a status the way POST /api/v1/statuses does (mentions, notifications)."""
        with self._write, Session(self.engine) as session:
            account = session.get(Account, account_id)
            assert account is not None
            status = _create_status_from_params(session, account, params)
            session.commit()
            return str(status.id)

    def send_private(self, text: str, *, customer: int = 0) -> str:
        author = self._ensure_customers([customer])[customer]
        body = text if f"@{BRAND}".lower() in text.lower() else f"@{BRAND} {text}"
        return self.post_status(author, {"status": body, "visibility": "direct"})

    def customer_posts(self, text: str, *, customer: int = 0, **params: Any) -> str:
        """Customer number `customer` posts `text` as is (visibility, in_reply_to_id…)."""
        author = self._ensure_customers([customer])[customer]
        return self.post_status(author, {"status": text, **params})

    def post_as_brand(self, text: str, *, in_reply_to: str) -> str:
        with Session(self.engine) as session:
            parent = session.get(Status, int(in_reply_to))
            assert parent is not None, in_reply_to
            author = session.get(Account, parent.account_id)
            assert author is not None
            visibility, acct = parent.visibility, author.username
        body = text if text.lower().startswith(f"@{acct}".lower()) else f"@{acct} {text}"
        params = {"status": body, "in_reply_to_id": in_reply_to, "visibility": visibility}
        return self.post_status(self.brand_account_id, params)

    # -- faults ------------------------------------------------------------------------------

    def fail_next(self, status: int, times: int, *, retry_after: float = 0.0) -> None:
        headers: dict[str, str] = {}
        if status == 429:
            reset = datetime.now(UTC) + timedelta(seconds=retry_after)
            headers = {
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.isoformat(timespec="microseconds").replace(
                    "+00:00", "Z"
                ),
            }
        rule = {"match": {}, "effect": {"type": "status", "status": status, "headers": headers}}
        self.app.state.fault_store.add({**rule, "count": times})

    def lose_next_response(self, method: str, path: str, times: int = 1) -> None:
        """The next `times` requests to `method path` are processed, then answered 502."""
        with self.lost._lock:
            self.lost.pending.extend([(method.upper(), path)] * times)

    # -- reading the peer's state ------------------------------------------------------------

    def _status_dict(self, session: Session, status: Status) -> dict[str, Any]:
        author = session.get(Account, status.account_id)
        root = status
        while root.in_reply_to_id is not None:
            parent = session.get(Status, root.in_reply_to_id)
            if parent is None:
                break
            root = parent
        return {
            "id": str(status.id),
            "text": status.text,
            "author": author.username if author else None,
            "root": str(root.id),
            "visibility": status.visibility,
        }

    def replies_to(self, external_id: str) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            rows = session.scalars(
                select(Status)
                .where(Status.in_reply_to_id == int(external_id), Status.visibility.in_(PUBLIC))
                .order_by(Status.id)
            ).all()
            return [self._status_dict(session, s) for s in rows]

    def brand_reply_targets(self) -> list[str]:
        """The status each of the brand's replies answers, once per reply (repeats = twice)."""
        with Session(self.engine) as session:
            return [
                str(target)
                for target in session.scalars(
                    select(Status.in_reply_to_id).where(
                        Status.account_id == self.brand_account_id,
                        Status.in_reply_to_id.is_not(None),
                    )
                )
            ]

    def private_messages(self, *, customer: int = 0) -> list[dict[str, Any]]:
        them, us = self._ensure_customers([customer])[customer], self.brand_account_id
        to_them = select(StatusMention.status_id).where(StatusMention.account_id == them)
        to_us = select(StatusMention.status_id).where(StatusMention.account_id == us)
        with Session(self.engine) as session:
            rows = session.scalars(
                select(Status)
                .where(
                    Status.visibility == "direct",
                    or_(
                        (Status.account_id == us) & Status.id.in_(to_them),
                        (Status.account_id == them) & Status.id.in_(to_us),
                    ),
                )
                .order_by(Status.id)
            ).all()
            return [self._status_dict(session, s) for s in rows]

    def public_texts(self) -> list[str]:
        with Session(self.engine) as session:
            return list(session.scalars(select(Status.text).where(Status.visibility.in_(PUBLIC))))

    def status(self, external_id: str) -> dict[str, Any]:
        with Session(self.engine) as session:
            status = session.get(Status, int(external_id))
            assert status is not None, external_id
            return self._status_dict(session, status)
