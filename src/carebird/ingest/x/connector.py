"""The X (Twitter API v2) connector: one instance per inbound stream of a brand account.

Streams (`source` = "x:<handle>:<stream>"):
    mentions    GET /2/users/:id/mentions — MENTION, REPLY or QUOTE
    search:<n>  GET /2/tweets/search/recent for the n-th query of options["listening"]
                (e.g. '"Ligne Azur" -from:LigneAzur_SAV -is:retweet') — KEYWORD or QUOTE
    dm          GET /2/dm_events — DIRECT, both directions (needs user context)
    own         GET /2/users/:id/tweets — the account's own posts, REPLY or OWN_POST: replies
                made outside the desk (the phone app) reach their cases (option own_posts)
Paging and cursors follow X's rules (x_paging); requests go through the official xdk SDK
(x_api, which says why xdk and what we add under it); payloads of both API spellings are read
(x_normalize); credentials, PKCE and refresh are in x_auth, webhook helpers in x_webhooks.

Sending: a reply in the thread (POST /2/tweets), a private message
(POST /2/dm_conversations/with/:id/messages), images through POST /2/media/upload
(`send_with_media`). X has no idempotency key, so `find_sent` looks for our post among the
account's recent posts, or our message in the private conversation; `send` itself does the same
before retrying after an ambiguous failure (a 5xx or a timeout may have posted).

Account options: base_url, listening (queries), field_spelling ("tweet" | "post"), page_size,
own_posts (poll the "own" stream, default true), char_limit (280; more for Premium long
posts), timeout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from carebird.errors import InvalidInput
from carebird.ingest.base import AuthorInfo, FetchResult, InboundItem
from carebird.ingest.calls import NULL_METER, AccountSpec, Backoff, CallMeter
from carebird.ingest.x.api import XApi
from carebird.ingest.x.auth import credential_kind
from carebird.ingest.x.normalize import (
    DM_FIELDS,
    NETWORK,
    POST_FIELDS,
    USER_FIELDS,
    Page,
    author_info,
    dm_item,
    post_item,
)
from carebird.ingest.x.paging import PageRead, PassCursor, above, run_pass
from carebird.ingest.x.send import XSending, estimate_cost_ops

__all__ = ["XConnector", "estimate_cost_ops"]
RECENT_SEARCH_WINDOW = timedelta(days=7)


class XConnector(XSending):
    network = NETWORK

    def __init__(
        self,
        account: AccountSpec,
        stream: str = "mentions",
        *,
        meter: CallMeter | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.account = account
        self.handle = account.handle.lstrip("@")
        self.stream = stream
        self.source = f"{NETWORK}:{self.handle}:{stream}"
        self.meter = meter or NULL_METER
        self.backoff = backoff or Backoff()
        self.api = XApi(account, meter=self.meter)
        self.page_size = int(account.options.get("page_size", 100))
        self._query: str | None = None
        if stream.startswith("search:"):
            queries = list(account.options.get("listening") or [])
            n = stream.partition(":")[2]
            if not n.isdecimal() or int(n) >= len(queries):
                raise ValueError(f"{stream!r}: no such listening query for @{self.handle}")
            self._query = str(queries[int(n)])
        elif stream not in ("mentions", "dm", "own"):
            raise ValueError(f"unknown X stream {stream!r}")

    @classmethod
    def streams(cls, account: AccountSpec) -> list[str]:
        names = ["mentions"]
        names += [f"search:{n}" for n in range(len(account.options.get("listening") or []))]
        if credential_kind(account.credentials) != "bearer":  # DMs need user context
            names.append("dm")
        if account.options.get("own_posts", True):
            names.append("own")
        return names

    # -- reading ----------------------------------------------------------------------------

    def fetch(self, cursor: str | None, *, limit: int = 500) -> FetchResult:
        state = PassCursor.loads(cursor)
        if self.stream == "dm":
            read, min_page = self._read_dms, 1
        elif self._query is not None:
            read, min_page = self._read_search, 10
        elif self.stream == "own":
            read, min_page = self._read_own, 5
        else:
            read, min_page = self._read_mentions, 5
        return run_pass(
            state,
            limit=limit,
            read=read,
            backoff=self.backoff,
            page_size=self.page_size,
            min_page=min_page,
            what=self.source,
            afford=lambda: self.meter.affordable(*self._ops()),
        )

    def _ops(self) -> tuple[str, ...]:
        """What one more post of this stream costs at most: the read and its author."""
        if self.stream in ("dm", "own"):
            return ("owned_read",)
        return ("post_read", "user_read")

    def _read_mentions(self, since: str | None, token: str | None, want: int) -> PageRead:
        return self._read_user_timeline("mentions", since, token, want)

    def _read_own(self, since: str | None, token: str | None, want: int) -> PageRead:
        return self._read_user_timeline("own", since, token, want)

    def _read_user_timeline(
        self, stream: str, since: str | None, token: str | None, want: int
    ) -> PageRead:
        """The account's mentions or its own posts: the same paging, other endpoint and price."""
        uid = self.user_id()
        mentions = stream == "mentions"
        page = self._read(
            "GET /2/users/:id/mentions" if mentions else "GET /2/users/:id/tweets",
            "post_read" if mentions else "owned_read",
            want,
            lambda c: (c.users.get_mentions if mentions else c.users.get_posts)(
                uid, max_results=want, since_id=since, pagination_token=token
            ),
            POST_FIELDS,
        )
        return PageRead(page, self._posts(page, stream))

    def _read_search(self, since: str | None, token: str | None, want: int) -> PageRead:
        query = self._query
        assert query is not None
        page = self._read(
            "GET /2/tweets/search/recent",
            "post_read",
            want,
            lambda c: c.posts.search_recent(
                query=query, max_results=want, since_id=since, next_token=token
            ),
            POST_FIELDS,
        )
        return PageRead(page, self._posts(page, "search"))

    def _read_dms(self, since: str | None, token: str | None, want: int) -> PageRead:
        page = self._read(
            "GET /2/dm_events",
            "owned_read",
            want,
            lambda c: c.direct_messages.get_events(
                max_results=want, pagination_token=token, event_types=["MessageCreate"]
            ),
            DM_FIELDS,
        )
        fresh = [e for e in page.data if above(since, str(e["id"]))]
        items = [dm_item(e, page, brand=self.handle) for e in fresh]
        return PageRead(page, items, reached_mark=len(fresh) < len(page.data))

    def _read(
        self,
        endpoint: str,
        op: str,
        want: int,
        call: Callable[[Any], Any],
        fields: Mapping[str, Mapping[str, str]],
    ) -> Page:
        self.meter.allow(op, want)
        page = Page(self.api.request(endpoint, call, params=fields))
        self.meter.record(op, len(page.data))
        if page.users and op == "post_read":  # authors come expanded with the posts
            self.meter.record("user_read", len(page.users))
        return page

    def _posts(self, page: Page, stream: str) -> list[InboundItem]:
        return [post_item(p, page, brand=self.handle, stream=stream) for p in page.data]

    def reconcile(self, since: datetime, until: datetime) -> list[InboundItem]:
        """Posts mentioning the handle between `since` and `until` (within recent search's 7
        days), to catch what the mentions timeline missed; the store drops what it has."""
        now = datetime.now(UTC)
        start = max(since.astimezone(UTC), now - RECENT_SEARCH_WINDOW + timedelta(minutes=1))
        end = min(until.astimezone(UTC), now - timedelta(seconds=10))  # X's own bound
        window = {"start_time": _iso(start), "end_time": _iso(end)}
        query, size = f"@{self.handle}", max(10, self.page_size)

        def read(token: str | None) -> Page:
            return self._read(
                "GET /2/tweets/search/recent",
                "post_read",
                size,
                lambda c: c.posts.search_recent(
                    query=query, max_results=size, next_token=token, **window
                ),
                POST_FIELDS,
            )

        items: list[InboundItem] = []
        token: str | None = None
        while start < end:
            page = self.backoff.run(partial(read, token), what=f"{self.source} reconcile")
            items.extend(self._posts(page, "mentions"))
            token = page.next_token
            if token is None:
                break
        return items

    # -- the account ------------------------------------------------------------------------

    def user_id(self) -> str:
        if self.account.external_id is None:
            self.resolve_account()
        assert self.account.external_id is not None
        return self.account.external_id

    def resolve_account(self) -> AccountSpec:
        """Fill the account's external id from its handle; returns the completed spec."""
        user = self.lookup_user(self.handle)
        self.account = dataclasses.replace(self.account, external_id=user.external_id)
        return self.account

    def check_credentials(self) -> AuthorInfo:
        """Who X says these credentials are: GET /2/users/me with user context; an app-only
        bearer token has no user, so it looks the account's handle up instead. One user read;
        raises `AuthError` (or another `ConnectorError`) when X refuses them."""
        if not self.api.user_context:
            return self.lookup_user(self.handle)
        page = Page(self._user_read("GET /2/users/me", lambda c: c.users.get_me()))
        if not page.data:
            raise InvalidInput("X GET /2/users/me: no user in the answer")
        return author_info(page.data[0], "")

    def lookup_user(self, username: str) -> AuthorInfo:
        """A user's identity, followers and verified flag, by handle."""
        body = self._user_read(
            "GET /2/users/by/username/:username",
            lambda c: c.users.get_by_username(username.lstrip("@")),
        )
        page = Page(body)
        if not page.data:
            raise InvalidInput(f"no X user @{username}")
        return author_info(page.data[0], "")

    def lookup_users(self, ids: Sequence[str]) -> list[AuthorInfo]:
        """Identities, followers and verified flags of up to 100 users by id."""
        body = self._user_read("GET /2/users", lambda c: c.users.get_by_ids(list(ids)))
        return [author_info(u, "") for u in Page(body).data]

    def _user_read(self, endpoint: str, call: Callable[[Any], Any]) -> dict[str, Any]:
        self.meter.allow("user_read", 1)
        body = self.backoff.run(
            lambda: self.api.request(endpoint, call, params=USER_FIELDS),
            what=endpoint,
        )
        self.meter.record("user_read", len(Page(body).data))
        return body


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
