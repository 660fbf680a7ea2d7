"""The peer's in-memory world: accounts, repositories, the AppView's indexes, chat, sessions.

Posts are indexed as the reference AppView does: a post notifies each account it mentions
(facets), the author of a post it quotes, and the authors of the parent and root it answers,
each account at most once per post (mention first, then quote, then reply), never its author.
"""

from __future__ import annotations

import bisect
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.support.bsky_peer.ids import TidClock, cid_for_record, did_for, iso, make_jwt

POST = "app.bsky.feed.post"


class XrpcError(Exception):
    def __init__(self, status: int, error: str, message: str = "") -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status, self.error, self.message = status, error, message


@dataclass
class Account:
    did: str
    handle: str
    password: str
    display_name: str = ""
    followers: int = 0
    verified: bool = False
    created_at: str = ""


@dataclass
class Post:
    uri: str
    cid: str
    did: str
    rkey: str
    record: dict[str, Any]
    indexed_at: str
    seq: int
    likes: int = 0
    reposts: int = 0
    quotes: int = 0
    replies: int = 0


@dataclass
class Notification:
    seq: int
    uri: str
    cid: str
    author: str
    reason: str
    record: dict[str, Any]
    indexed_at: str
    reason_subject: str | None = None


@dataclass
class Message:
    id: str
    rev: str
    convo_id: str
    sender: str
    text: str
    sent_at: str
    facets: list[dict[str, Any]] | None = None


@dataclass
class Convo:
    id: str
    members: tuple[str, ...]
    rev: str
    messages: list[Message] = field(default_factory=list)  # oldest first


@dataclass
class Session:
    did: str
    expired: bool = False


class PeerState:
    def __init__(self, *, access_ttl: float = 7200.0) -> None:
        self.lock = threading.RLock()
        self.access_ttl = access_ttl
        self.secret = secrets.token_bytes(32)
        self.accounts: dict[str, Account] = {}
        self.by_handle: dict[str, str] = {}
        self.records: dict[tuple[str, str], dict[str, tuple[str, dict[str, Any]]]] = {}
        self.posts: dict[str, Post] = {}
        self.timeline: list[Post] = []  # every post, by seq
        self.by_author: dict[str, list[Post]] = defaultdict(list)
        self.children: dict[str, list[str]] = defaultdict(list)
        self.notifications: dict[str, list[Notification]] = defaultdict(list)
        self.convos: dict[str, Convo] = {}
        self.convo_of: dict[frozenset[str], str] = {}
        self.logs: dict[str, list[tuple[str, Convo, Message]]] = defaultdict(list)
        self.access: dict[str, Session] = {}
        self.refresh: dict[str, str] = {}  # refresh token → did (single use)
        self.blobs: dict[str, bytes] = {}
        self.tids = TidClock(clock_id=7)
        self.lexicons: Any = None  # set by the server: createRecord validates records with it
        self._seq = 0
        self._last_ms = 0

    # -- clocks ---------------------------------------------------------------------------

    def now(self) -> str:
        """indexedAt: millisecond precision and never going back, so many posts share a value."""
        ms = max(self._last_ms, time.time_ns() // 1_000_000)
        self._last_ms = ms
        return iso(datetime.fromtimestamp(ms / 1000, UTC))

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # -- accounts and sessions ------------------------------------------------------------

    def add_account(self, handle: str, password: str = "app-pass", **extra: Any) -> Account:
        with self.lock:
            did = did_for(handle)
            account = Account(did, handle, password, created_at=self.now(), **extra)
            self.accounts[did] = account
            self.by_handle[handle.lower()] = did
            return account

    def account(self, actor: str) -> Account:
        did = actor if actor.startswith("did:") else self.by_handle.get(actor.lower(), "")
        found = self.accounts.get(did)
        if found is None:
            raise XrpcError(400, "InvalidRequest", f"Profile not found: {actor}")
        return found

    def issue_tokens(self, did: str) -> dict[str, str]:
        now = int(time.time())
        access = make_jwt(
            self.secret,
            {"scope": "com.atproto.appPass", "sub": did, "iat": now,
             "exp": now + int(self.access_ttl), "aud": "did:web:peer.test",
             "jti": secrets.token_hex(8)},
            "at+jwt",
        )  # fmt: skip
        refresh = make_jwt(
            self.secret,
            {"scope": "com.atproto.refresh", "sub": did, "iat": now, "exp": now + 90 * 86400,
             "aud": "did:web:peer.test", "jti": secrets.token_hex(16)},
            "refresh+jwt",
        )  # fmt: skip
        self.access[access] = Session(did)
        self.refresh[refresh] = did
        return {"accessJwt": access, "refreshJwt": refresh}

    def expire_access_tokens(self) -> None:
        """Every access token issued so far now answers 400 ExpiredToken."""
        with self.lock:
            for session in self.access.values():
                session.expired = True

    # -- repositories ---------------------------------------------------------------------

    def put_record(
        self, did: str, collection: str, record: dict[str, Any], rkey: str | None = None
    ) -> tuple[str, str]:
        """Write a new record; a key already taken is refused, as a PDS refuses it."""
        with self.lock:
            rkey = rkey or self.tids.next()
            bucket = self.records.setdefault((did, collection), {})
            uri = f"at://{did}/{collection}/{rkey}"
            if rkey in bucket:
                raise XrpcError(400, "InvalidRequest", f"Record already exists: {uri}")
            cid = cid_for_record(record)
            bucket[rkey] = (cid, record)
            if collection == POST:
                self._index_post(Post(uri, cid, did, rkey, record, self.now(), self.next_seq()))
            return uri, cid

    def delete_record(self, did: str, collection: str, rkey: str) -> None:
        with self.lock:
            self.records.get((did, collection), {}).pop(rkey, None)
            post = self.posts.pop(f"at://{did}/{collection}/{rkey}", None)
            if post is None:
                return
            for posts in (self.timeline, self.by_author[did]):
                posts.remove(post)
            for notes in self.notifications.values():
                notes[:] = [n for n in notes if n.uri != post.uri]

    def _index_post(self, post: Post) -> None:
        self.posts[post.uri] = post
        self.timeline.append(post)
        self.by_author[post.did].append(post)
        record = post.record
        notified = {post.did}

        def notify(did: str, reason: str, subject: str | None = None) -> None:
            if did in notified or did not in self.accounts:
                return
            notified.add(did)
            note = Notification(
                self.next_seq(), post.uri, post.cid, post.did, reason, record,
                post.indexed_at, subject,
            )  # fmt: skip
            self.notifications[did].append(note)

        for facet in record.get("facets") or []:
            for feature in facet.get("features", []):
                if feature.get("$type") == "app.bsky.richtext.facet#mention":
                    notify(feature["did"], "mention")
        embed = record.get("embed") or {}
        quoted = (embed.get("record") or {}).get("uri") if "record" in embed else None
        if embed.get("$type") == "app.bsky.embed.recordWithMedia":
            quoted = ((embed.get("record") or {}).get("record") or {}).get("uri")
        if quoted and quoted in self.posts:
            self.posts[quoted].quotes += 1
            notify(self.posts[quoted].did, "quote", quoted)
        reply = record.get("reply")
        if reply:
            parent, root = reply["parent"]["uri"], reply["root"]["uri"]
            self.children[parent].append(post.uri)
            if parent in self.posts:
                self.posts[parent].replies += 1
            for target in (parent, root):
                if target in self.posts:
                    notify(self.posts[target].did, "reply", target)

    def post_page(
        self, posts: list[Post], cursor: str | None, limit: int, keep: Any = None
    ) -> tuple[list[Post], str | None]:
        """Newest first, keyset-paged by seq: stable whatever is added meanwhile."""
        end = len(posts)
        if cursor:
            end = bisect.bisect_left(posts, int(cursor), key=lambda p: p.seq)
        page: list[Post] = []
        i = end - 1
        while i >= 0 and len(page) < limit:
            if keep is None or keep(posts[i]):
                page.append(posts[i])
            i -= 1
        more = i >= 0 and len(page) == limit
        return page, (str(page[-1].seq) if page and more else None)

    # -- chat -----------------------------------------------------------------------------

    def convo_for(self, members: set[str]) -> Convo:
        with self.lock:
            key = frozenset(members)
            if key not in self.convo_of:
                convo = Convo(self.tids.next(), tuple(sorted(members)), self.tids.next())
                self.convos[convo.id] = convo
                self.convo_of[key] = convo.id
            return self.convos[self.convo_of[key]]

    def send_message(
        self, convo: Convo, sender: str, text: str, facets: list[dict[str, Any]] | None = None
    ) -> Message:
        with self.lock:
            rev = self.tids.next()
            message = Message(self.tids.next(), rev, convo.id, sender, text, self.now(), facets)
            convo.messages.append(message)
            convo.rev = rev
            for member in convo.members:
                self.logs[member].append((rev, convo, message))
            return message
