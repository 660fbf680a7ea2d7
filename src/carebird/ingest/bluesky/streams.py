"""The public inbound streams, each a newest-first listing read in passes (see passes.py).

notifications  listNotifications filtered to mention / reply / quote; each page hydrated with
               getPosts (metrics) and getProfiles (followers, verification)
search:<n>     searchPosts (sort=latest) for the n-th listening query → KEYWORD
own            getAuthorFeed of the brand (posts and replies, reposts left out): the brand's own
               posts, including answers typed in the Bluesky app, so the desk sees them as ours
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from carebird.errors import ConnectorError
from carebird.ingest.base import Direction, FetchResult, InboundItem, MessageKind
from carebird.ingest.bluesky.hydrate import Hydrator
from carebird.ingest.bluesky.normalize import REASON_KINDS, PostFacts, get, post_item
from carebird.ingest.bluesky.passes import Page, PassState, PassWalker
from carebird.ingest.bluesky.session import BlueskySession

PAGE = 100  # the API's maximum page size for all three listings


class PostStream:
    """Fetch for one newest-first listing of posts."""

    def __init__(self, session: BlueskySession, stream: str, query: str | None = None) -> None:
        self.session, self.stream, self.query = session, stream, query

    def fetch(self, cursor: str | None, limit: int) -> FetchResult:
        state = PassState.decode(cursor)
        size = max(1, min(PAGE, limit))
        hydrator = Hydrator(self.session)
        walker: PassWalker[Any]
        deliver: Callable[[list[Any]], list[InboundItem]]
        if self.stream == "notifications":
            walker = PassWalker(lambda c: self._notifications(c, size), _notification_key)
            deliver = lambda entries: self._deliver_notifications(entries, hydrator)  # noqa: E731
        elif self.stream == "own":
            walker = PassWalker(lambda c: self._own_feed(c, size), _feed_key)
            deliver = lambda entries: self._deliver_own(entries, hydrator)  # noqa: E731
        else:
            walker = PassWalker(lambda c: self._search(c, size), _post_key)
            deliver = lambda entries: self._deliver_search(entries, hydrator)  # noqa: E731
        items, state, more = walker.walk(state, limit, deliver, _keep_on_error)
        return FetchResult(items=items, cursor=state.encode(), more=more)

    # -- listings -------------------------------------------------------------------------

    def _notifications(self, cursor: str | None, size: int) -> Page[Any]:
        params: dict[str, Any] = {"limit": size, "reasons": list(REASON_KINDS)}
        if cursor:
            params["cursor"] = cursor
        self.session.meter.allow("post_read", size)
        out = self.session.call(
            "listNotifications", lambda c: c.app.bsky.notification.list_notifications(params)
        )
        self.session.meter.record("post_read", len(out.notifications))
        return Page(out.notifications, out.cursor)

    def _search(self, cursor: str | None, size: int) -> Page[Any]:
        params: dict[str, Any] = {"q": self.query, "sort": "latest", "limit": size}
        if cursor:
            params["cursor"] = cursor
        self.session.meter.allow("post_read", size)
        out = self.session.call("searchPosts", lambda c: c.app.bsky.feed.search_posts(params))
        self.session.meter.record("post_read", len(out.posts))
        return Page(out.posts, out.cursor)

    def _own_feed(self, cursor: str | None, size: int) -> Page[Any]:
        params: dict[str, Any] = {
            "actor": self.session.did,
            "filter": "posts_with_replies",
            "limit": size,
        }
        if cursor:
            params["cursor"] = cursor
        self.session.meter.allow("owned_read", size)
        out = self.session.call("getAuthorFeed", lambda c: c.app.bsky.feed.get_author_feed(params))
        self.session.meter.record("owned_read", len(out.feed))
        return Page(out.feed, out.cursor)

    # -- items ----------------------------------------------------------------------------

    def _deliver_notifications(self, entries: list[Any], hydrator: Hydrator) -> list[InboundItem]:
        if not entries:
            return []
        views = hydrator.load_posts(n.uri for n in entries)
        profiles = hydrator.load_profiles(n.author.did for n in entries)
        items = []
        for note in reversed(entries):  # oldest first within the page
            view = views.get(note.uri)
            facts = (
                PostFacts.of_view(view)
                if view is not None  # deleted since: what the notification says, no metrics
                else PostFacts(note.uri, note.cid, note.author, note.record, note.indexed_at, {})
            )
            kind = REASON_KINDS[note.reason]
            items.append(self._item(facts, kind, profiles, reason=note.reason))
        return items

    def _deliver_search(self, entries: list[Any], hydrator: Hydrator) -> list[InboundItem]:
        profiles = hydrator.load_profiles(p.author.did for p in entries)
        return [
            self._item(PostFacts.of_view(p), MessageKind.KEYWORD, profiles)
            for p in reversed(entries)
        ]

    def _deliver_own(self, entries: list[Any], hydrator: Hydrator) -> list[InboundItem]:
        posts = [e.post for e in entries if e.reason is None]  # reposts are not our words
        profiles = hydrator.load_profiles(p.author.did for p in posts)
        items = []
        for post in reversed(posts):
            kind = MessageKind.REPLY if post.record.reply is not None else MessageKind.OWN_POST
            facts = PostFacts.of_view(post)
            items.append(self._item(facts, kind, profiles, direction=Direction.OUT))
        return items

    def _item(
        self,
        facts: PostFacts,
        kind: MessageKind,
        profiles: dict[str, Any],
        *,
        reason: str | None = None,
        direction: Direction = Direction.IN,
    ) -> InboundItem:
        return post_item(
            facts,
            kind,
            account_handle=self.session.handle,
            profile=profiles.get(facts.author.did),
            reason=reason,
            direction=direction,
        )


def _keep_on_error(exc: Exception, items: list[Any]) -> bool:
    """Hand back the pages already read (with their resume cursor) rather than lose them."""
    return isinstance(exc, ConnectorError) and bool(items)


def _notification_key(note: Any) -> tuple[str, str]:
    return note.indexed_at, note.uri


def _post_key(post: Any) -> tuple[str, str]:
    return post.indexed_at, post.uri


def _feed_key(entry: Any) -> tuple[str, str]:
    reason = entry.reason
    if reason is not None and get(reason, "indexed_at"):  # a repost sorts at its own time
        return reason.indexed_at, f"{reason.by.did}:repost:{entry.post.uri}"
    return entry.post.indexed_at, entry.post.uri
