"""X API v2 payloads → InboundItem, whichever spelling the API speaks.

X is renaming "tweet" to "post" in its API: spec 2.159 says `tweet.fields`, `note_tweet`,
`referenced_tweets`, `includes.tweets`, `retweet_count`; spec 2.167 says `post.fields`,
`note_post`, `referenced_posts`, `includes.posts`, `repost_count`. The field sets below are what
we request in each spelling (2.167 has no `author_id`/`referenced_posts` *fields*: its
expansions imply them), and the readers accept both spellings in any response.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from carebird.ingest.base import AuthorInfo, InboundItem, MessageKind

NETWORK = "x"
SPELLINGS = ("tweet", "post")
_USER_FIELDS = "name,public_metrics,username,verified"

# Query parameters for post timelines and searches, by spelling.
POST_FIELDS: dict[str, dict[str, str]] = {
    "tweet": {
        "tweet.fields": "author_id,conversation_id,created_at,entities,in_reply_to_user_id,lang,"
        "note_tweet,public_metrics,referenced_tweets",
        "expansions": "author_id,in_reply_to_user_id,referenced_tweets.id",
        "user.fields": _USER_FIELDS,
    },
    "post": {
        "post.fields": "conversation_id,created_at,entities,lang,note_post,public_metrics",
        "expansions": "author_id,in_reply_to_user_id,referenced_posts",
        "user.fields": _USER_FIELDS,
    },
}
DM_FIELDS: dict[str, dict[str, str]] = {
    "tweet": {
        "dm_event.fields": "created_at,dm_conversation_id,entities,event_type,id,participant_ids,"
        "sender_id,text",
        "expansions": "participant_ids,sender_id",
        "user.fields": _USER_FIELDS,
    },
    "post": {
        "dm_event.fields": "created_at,dm_conversation_id,entities,event_type,id,text",
        "expansions": "participant_ids,sender_id",
        "user.fields": _USER_FIELDS,
    },
}
USER_FIELDS = {s: {"user.fields": _USER_FIELDS} for s in SPELLINGS}
_NO_LANGUAGE = {"und", "zxx", "qam", "qct", "qht", "qme", "qst"}  # X's "no linguistic content"


def parse_time(value: str | None) -> datetime:
    """X's ISO-8601 timestamps ("2026-01-05T08:00:00.000Z") as aware UTC datetimes."""
    if not value:
        return datetime.now(UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def references(post: Mapping[str, Any]) -> list[dict[str, str]]:
    refs = post.get("referenced_tweets") or post.get("referenced_posts") or []
    return [{"type": str(r.get("type")), "id": str(r.get("id"))} for r in refs]


def _whole(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object holding the whole text: a long post's note, or the post itself."""
    note = obj.get("note_tweet") or obj.get("note_post")
    return note if isinstance(note, Mapping) and note.get("text") else obj


def full_text(obj: Mapping[str, Any]) -> str:
    """The whole text: a long post's note when present, t.co links expanded, and the HTML
    escapes X puts in post text (&amp; &lt; &gt;) undone."""
    whole = _whole(obj)
    return html.unescape(expand_urls(str(whole.get("text", "")), whole.get("entities")))


def posted_text(obj: Mapping[str, Any]) -> str:
    """The whole text as X shows it (t.co links kept), HTML escapes undone."""
    return html.unescape(str(_whole(obj).get("text", "")))


def expand_urls(text: str, entities: Mapping[str, Any] | None) -> str:
    for url in (entities or {}).get("urls") or []:
        short, expanded = url.get("url"), url.get("expanded_url")
        if short and expanded and not url.get("media_key"):
            text = text.replace(short, expanded)
    return text


def author_info(user: Mapping[str, Any] | None, fallback_id: str) -> AuthorInfo:
    if not user:
        return AuthorInfo(external_id=fallback_id, handle=fallback_id)
    metrics = user.get("public_metrics") or {}
    return AuthorInfo(
        external_id=str(user["id"]),
        handle=str(user.get("username", user["id"])),
        display_name=str(user.get("name", "")),
        followers=int(metrics.get("followers_count", 0) or 0),
        verified=bool(user.get("verified", False)),
    )


class Page:
    """One response body: its data and the includes, indexed whatever the spelling."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        data = body.get("data") or []
        self.data: list[Mapping[str, Any]] = data if isinstance(data, list) else [data]
        self.meta: Mapping[str, Any] = body.get("meta") or {}
        includes = body.get("includes") or {}
        self.users = {str(u["id"]): u for u in includes.get("users") or []}
        posts: Iterable[Mapping[str, Any]] = [
            *(includes.get("tweets") or []),
            *(includes.get("posts") or []),
        ]
        self.posts = {str(p["id"]): p for p in posts}

    @property
    def next_token(self) -> str | None:
        return self.meta.get("next_token") or None

    @property
    def newest_id(self) -> str | None:
        return self.meta.get("newest_id") or None


def post_item(post: Mapping[str, Any], page: Page, *, brand: str, stream: str) -> InboundItem:
    """A post of stream "mentions", "search" or "own" (the account's own posts)."""
    refs = references(post)
    types = {r["type"]: r["id"] for r in refs}
    if "quoted" in types:
        kind = MessageKind.QUOTE
    elif stream == "search":
        kind = MessageKind.KEYWORD
    elif "replied_to" in types:
        kind = MessageKind.REPLY
    elif stream == "own":
        kind = MessageKind.OWN_POST
    else:
        kind = MessageKind.MENTION
    author_id = str(post.get("author_id", ""))
    metrics = post.get("public_metrics") or {}
    lang = post.get("lang")
    raw: dict[str, Any] = {"author_id": author_id, "stream": stream}
    if refs:
        raw["referenced"] = refs
    if post.get("in_reply_to_user_id"):
        raw["in_reply_to_user_id"] = str(post["in_reply_to_user_id"])
    if post.get("note_tweet") or post.get("note_post"):
        raw["long"] = True
    quoted = page.posts.get(types.get("quoted", ""))
    if quoted is not None:
        raw["quoted"] = {
            "id": str(quoted["id"]),
            "text": full_text(quoted),
            "author_id": str(quoted.get("author_id", "")),
        }
    return InboundItem(
        network=NETWORK,
        external_id=str(post["id"]),
        author=author_info(page.users.get(author_id), author_id),
        text=full_text(post),
        created_at=parse_time(post.get("created_at")),
        kind=kind,
        account_handle=brand,
        in_reply_to_id=types.get("replied_to"),
        conversation_id=str(post.get("conversation_id") or post["id"]),
        language=None if not lang or lang in _NO_LANGUAGE else str(lang),
        metrics={
            "likes": int(metrics.get("like_count", 0) or 0),
            "reposts": int(metrics.get("retweet_count", metrics.get("repost_count", 0)) or 0),
            "quotes": int(metrics.get("quote_count", 0) or 0),
            "replies": int(metrics.get("reply_count", 0) or 0),
        },
        raw=raw,
    )


def dm_item(event: Mapping[str, Any], page: Page, *, brand: str) -> InboundItem:
    """A private message event (MessageCreate) of the brand's inbox, either direction."""
    sender = str(event.get("sender_id", ""))
    conversation = event.get("dm_conversation_id")
    raw: dict[str, Any] = {"sender_id": sender, "event_type": event.get("event_type")}
    if event.get("participant_ids"):
        raw["participant_ids"] = [str(p) for p in event["participant_ids"]]
    return InboundItem(
        network=NETWORK,
        external_id=str(event["id"]),
        author=author_info(page.users.get(sender), sender),
        text=full_text(event),
        created_at=parse_time(event.get("created_at")),
        kind=MessageKind.DIRECT,
        account_handle=brand,
        conversation_id=str(conversation) if conversation else None,
        raw=raw,
    )
