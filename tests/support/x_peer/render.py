"""Peer objects → X API v2 JSON, in the spelling the peer speaks, with only what was asked.

Like X: `id`, `text` and the edit history are always there; other fields come when requested,
or when an expansion implies them (expanding `author_id` returns `author_id`); expanded objects
go to `includes`. Post text carries X's HTML escapes and t.co links. Public metrics carry both
`retweet_count` and `repost_count`, and user metrics both `tweet_count` and `post_count`, so one
body satisfies the required fields of both specs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tests.support.x_peer.state import DmEvent, Post, UrlEntity, User, XState, mention_spans


@dataclass(frozen=True)
class Names:
    fields: str
    note: str
    refs: str
    refs_expansion: str
    edit: str
    includes: str


NAMES = {
    "tweet": Names(
        "tweet.fields",
        "note_tweet",
        "referenced_tweets",
        "referenced_tweets.id",
        "edit_history_tweet_ids",
        "tweets",
    ),
    "post": Names(
        "post.fields",
        "note_post",
        "referenced_posts",
        "referenced_posts",
        "edit_history_post_ids",
        "posts",
    ),
}
_TRUNCATE = 270  # a long post's `text` is its beginning; the note holds all of it


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Renderer:
    def __init__(self, state: XState, spelling: str, query: Mapping[str, Any]) -> None:
        self.state = state
        self.names = NAMES[spelling]
        self.fields = set(query.get(self.names.fields) or [])
        self.expansions = set(query.get("expansions") or [])
        self.user_fields = set(query.get("user.fields") or [])
        self.dm_fields = set(query.get("dm_event.fields") or [])
        self._users: dict[str, dict[str, Any]] = {}
        self._posts: dict[str, dict[str, Any]] = {}

    def _wants(self, field: str, expansion: str | None = None) -> bool:
        return field in self.fields or (expansion is not None and expansion in self.expansions)

    def post(self, post: Post, *, expand: bool = True) -> dict[str, Any]:
        n = self.names
        text = post.text[:_TRUNCATE] + "…" if post.long else post.text
        out: dict[str, Any] = {"id": post.id, "text": escape(text), n.edit: [post.id]}
        if self._wants("created_at"):
            out["created_at"] = iso(post.created_at)
        if self._wants("conversation_id"):
            out["conversation_id"] = post.conversation_id
        if self._wants("author_id", "author_id"):
            out["author_id"] = post.author_id
        if post.in_reply_to_user_id and self._wants("in_reply_to_user_id", "in_reply_to_user_id"):
            out["in_reply_to_user_id"] = post.in_reply_to_user_id
        if self._wants("lang"):
            out["lang"] = post.lang
        if self._wants("public_metrics"):
            out["public_metrics"] = {
                "retweet_count": post.reposts,
                "repost_count": post.reposts,
                "reply_count": post.replies,
                "like_count": post.likes,
                "quote_count": post.quotes,
                "bookmark_count": 0,
                "impression_count": 0,
            }
        if self._wants("entities"):
            limit = len(text) if post.long else None
            entities = _entities(post.text, post.urls, limit=limit)
            if entities:
                out["entities"] = entities
        if post.long and self._wants(n.note):
            note: dict[str, Any] = {"text": escape(post.text)}
            entities = _entities(post.text, post.urls)
            if entities:
                note["entities"] = entities
            out[n.note] = note
        if post.refs and self._wants(n.refs, n.refs_expansion):
            out[n.refs] = [{"type": t, "id": i} for t, i in post.refs]
        if post.media_ids and self._wants("attachments"):
            out["attachments"] = {"media_keys": [f"3_{m}" for m in post.media_ids]}
        if expand:
            self._expand_post(post)
        return out

    def _expand_post(self, post: Post) -> None:
        if "author_id" in self.expansions:
            self.add_user(self.state.users[post.author_id])
        if post.in_reply_to_user_id and "in_reply_to_user_id" in self.expansions:
            self.add_user(self.state.users[post.in_reply_to_user_id])
        if self.names.refs_expansion in self.expansions:
            for _, ref_id in post.refs:
                referenced = self.state.posts.get(ref_id)
                if referenced is not None and ref_id not in self._posts:
                    self._posts[ref_id] = self.post(referenced, expand=False)

    def user(self, user: User) -> dict[str, Any]:
        out: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
        if "public_metrics" in self.user_fields:
            posts = len(self.state.posts_by.get(user.id, []))
            out["public_metrics"] = {
                "followers_count": user.followers,
                "following_count": 0,
                "tweet_count": posts,
                "post_count": posts,
                "listed_count": 0,
                "like_count": 0,
            }
        if "verified" in self.user_fields:
            out["verified"] = user.verified
        return out

    def add_user(self, user: User) -> None:
        if user.id not in self._users:
            self._users[user.id] = self.user(user)

    def dm(self, event: DmEvent) -> dict[str, Any]:
        out: dict[str, Any] = {"id": event.id, "event_type": "MessageCreate", "text": event.text}
        if "created_at" in self.dm_fields:
            out["created_at"] = iso(event.created_at)
        if "dm_conversation_id" in self.dm_fields:
            out["dm_conversation_id"] = event.conversation_id
        if "sender_id" in self.dm_fields or "sender_id" in self.expansions:
            out["sender_id"] = event.sender_id
        if "entities" in self.dm_fields and event.urls:
            out["entities"] = {"urls": [_url(u) for u in event.urls]}
        if event.media_ids and "attachments" in self.dm_fields:
            out["attachments"] = {"media_keys": [f"3_{m}" for m in event.media_ids]}
        if "sender_id" in self.expansions:
            self.add_user(self.state.users[event.sender_id])
        if "participant_ids" in self.expansions:
            self.add_user(self.state.users[event.recipient_id])
        return out

    def includes(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self._users:
            out["users"] = list(self._users.values())
        if self._posts:
            out[self.names.includes] = list(self._posts.values())
        return out


def _url(url: UrlEntity) -> dict[str, Any]:
    return {
        "start": url.start,
        "end": url.end,
        "url": url.url,
        "expanded_url": url.expanded_url,
        "display_url": url.expanded_url.split("://", 1)[-1][:30],
    }


def _entities(text: str, urls: list[UrlEntity], *, limit: int | None = None) -> dict[str, Any]:
    """Mentions and links with their positions; only those within `limit` characters."""
    end = len(text) if limit is None else limit
    out: dict[str, Any] = {}
    mentions = [
        {"start": s, "end": e, "username": name} for s, e, name in mention_spans(text) if e <= end
    ]
    if mentions:
        out["mentions"] = mentions
    links = [_url(u) for u in urls if u.end <= end]
    if links:
        out["urls"] = links
    return out
