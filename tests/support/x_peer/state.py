"""The peer's in-memory world: users, posts, private messages, media, tokens.

Ids are snowflake-like: one increasing counter for posts, DM events and media, so "newer" is
"larger", as on X. Each listing (a user's mentions, a user's posts, a user's DM events, all
posts for search) is an ascending list of ids, paged from the newest down.
"""

from __future__ import annotations

import bisect
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from twitter_text import extract_urls_with_indices, parse_tweet

_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_TCO = "https://t.co/"


@dataclass
class User:
    id: str
    username: str
    name: str
    followers: int = 0
    verified: bool = False


@dataclass
class UrlEntity:
    start: int
    end: int
    url: str  # the t.co link in the text
    expanded_url: str


@dataclass
class Post:
    id: str
    author_id: str
    text: str  # the full text, links already shortened to t.co
    created_at: datetime
    conversation_id: str
    written: str = ""  # the text as its author wrote it
    in_reply_to_user_id: str | None = None
    refs: list[tuple[str, str]] = field(default_factory=list)  # (type, id)
    lang: str = "fr"
    urls: list[UrlEntity] = field(default_factory=list)
    mentioned: set[str] = field(default_factory=set)  # lower-case usernames
    media_ids: list[str] = field(default_factory=list)
    likes: int = 0
    reposts: int = 0
    quotes: int = 0
    replies: int = 0
    long: bool = False  # over 280 weighted characters: a note, with a truncated `text`


@dataclass
class DmEvent:
    id: str
    sender_id: str
    recipient_id: str
    text: str
    created_at: datetime
    urls: list[UrlEntity] = field(default_factory=list)
    media_ids: list[str] = field(default_factory=list)
    written: str = ""

    @property
    def conversation_id(self) -> str:
        low, high = sorted((self.sender_id, self.recipient_id), key=int)
        return f"{low}-{high}"


class XState:
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or (lambda: datetime.now(UTC))
        self._next_id = 1_900_000_000_000_000_000
        self._next_user = 1000
        self._last_time = datetime.min.replace(tzinfo=UTC)
        self.users: dict[str, User] = {}
        self.by_username: dict[str, User] = {}
        self.posts: dict[str, Post] = {}
        self.dms: dict[str, DmEvent] = {}
        self.media: dict[str, bytes] = {}
        self.all_posts: list[int] = []
        self.mentions_of: dict[str, list[int]] = {}
        self.posts_by: dict[str, list[int]] = {}
        self.dms_of: dict[str, list[int]] = {}

    def now(self) -> datetime:
        """The clock, but strictly increasing by X's millisecond steps: no two posts tie."""
        with self.lock:
            clock = self.clock()
            now = clock.replace(microsecond=clock.microsecond // 1000 * 1000)
            self._last_time = max(now, self._last_time + timedelta(milliseconds=1))
            return self._last_time

    def new_id(self) -> str:
        with self.lock:
            self._next_id += 1
            return str(self._next_id)

    # -- creating ---------------------------------------------------------------------------

    def add_user(
        self, username: str, name: str = "", *, followers: int = 0, verified: bool = False
    ) -> User:
        with self.lock:
            self._next_user += 1
            user = User(str(self._next_user), username, name or username, followers, verified)
            self.users[user.id] = user
            self.by_username[username.lower()] = user
            return user

    def add_post(
        self,
        author_id: str,
        text: str,
        *,
        in_reply_to: str | None = None,
        quote_of: str | None = None,
        created_at: datetime | None = None,
        lang: str = "fr",
        media_ids: list[str] | None = None,
    ) -> Post:
        with self.lock:
            if author_id not in self.users:
                raise KeyError(f"no user {author_id}")
            post_id = self.new_id()
            shortened, urls = shorten_links(text)
            post = Post(
                id=post_id,
                author_id=author_id,
                text=shortened,
                created_at=created_at or self.now(),
                conversation_id=post_id,
                written=text,
                lang=lang,
                urls=urls,
                mentioned={m.lower() for m in _MENTION.findall(text)},
                media_ids=list(media_ids or []),
                long=len(shortened) > 140 and parse_tweet(shortened).weightedLength > 280,
            )
            if in_reply_to is not None:
                parent = self.posts[in_reply_to]
                post.refs.append(("replied_to", parent.id))
                post.conversation_id = parent.conversation_id
                post.in_reply_to_user_id = parent.author_id
                parent.replies += 1
            if quote_of is not None:
                self.posts[quote_of].quotes += 1
                post.refs.append(("quoted", quote_of))
            self.posts[post_id] = post
            self.all_posts.append(int(post_id))
            self.posts_by.setdefault(author_id, []).append(int(post_id))
            targets = {u.id for name in post.mentioned if (u := self.by_username.get(name))}
            if post.in_reply_to_user_id:
                targets.add(post.in_reply_to_user_id)
            for user_id in targets:
                self.mentions_of.setdefault(user_id, []).append(int(post_id))
            return post

    def add_dm(
        self, sender_id: str, recipient_id: str, text: str, *, media_ids: list[str] | None = None
    ) -> DmEvent:
        with self.lock:
            shortened, urls = shorten_links(text)
            event = DmEvent(
                self.new_id(),
                sender_id,
                recipient_id,
                shortened,
                self.now(),
                urls,
                list(media_ids or []),
                written=text,
            )
            self.dms[event.id] = event
            for user_id in {sender_id, recipient_id}:
                self.dms_of.setdefault(user_id, []).append(int(event.id))
            return event

    def add_media(self, data: bytes) -> str:
        with self.lock:
            media_id = self.new_id()
            self.media[media_id] = data
            return media_id

    # -- listing ----------------------------------------------------------------------------

    def page(
        self,
        ids: list[int],
        *,
        keep: Callable[[int], bool],
        since: int | None,
        until: int | None,
        upper: int | None,
        size: int,
    ) -> tuple[list[int], bool]:
        """Up to `size` ids of `ids` (ascending) kept by `keep`, newest first, with
        since < id < until and id <= upper; and whether older ones remain."""
        with self.lock:
            top = len(ids)
            if until is not None:
                top = bisect.bisect_left(ids, until)
            if upper is not None:
                top = min(top, bisect.bisect_right(ids, upper))
            bottom = bisect.bisect_right(ids, since) if since is not None else 0
            found: list[int] = []
            for i in range(top - 1, bottom - 1, -1):
                if keep(ids[i]):
                    if len(found) == size:
                        return found, True
                    found.append(ids[i])
            return found, False


def shorten_links(text: str) -> tuple[str, list[UrlEntity]]:
    """X replaces every link it recognises (twitter-text's rules) by a 23-character t.co link
    and reports the original."""
    if "." not in text:
        return text, []
    out: list[str] = []
    urls: list[UrlEntity] = []
    last = 0
    for found in extract_urls_with_indices(text):
        begin, end = found["indices"]
        out.append(text[last:begin])
        start = sum(len(p) for p in out)
        short = _TCO + secrets.token_urlsafe(8)[:10]
        out.append(short)
        original = found["url"]
        expanded = original if "://" in original else f"http://{original}"
        urls.append(UrlEntity(start, start + len(short), short, expanded))
        last = end
    out.append(text[last:])
    return "".join(out), urls


def mention_spans(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _MENTION.finditer(text):
        yield match.start(), match.end(), match.group(1)
