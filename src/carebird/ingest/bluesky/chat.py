"""The private stream: Bluesky chat (chat.bsky.convo, through the bsky_chat proxy), exactly once.

The chat service keeps, per user, a log of events ordered by `rev` (a TID): getLog(cursor)
returns the events after `cursor`. That log is the stream; its high-water mark is the last rev
read. It does not reach back in time, so the first fetch snapshots the current rev (getLog
without a cursor), then backfills every conversation (listConvos, then getMessages newest first)
keeping only messages with rev <= snapshot, and only then reads the log after the snapshot: what
the backfill delivers and what the log delivers never overlap.

Cursor (JSON, short: the desk keeps 500 characters): {"log": the rev read after, "bf":
backfill in progress or absent: {"p": the listConvos cursor of the page being read, "r": the
rev the current conversation was listed at (the ones after it in that page have lower revs),
"c": its id while its messages are being paged, "m": the getMessages cursor}}. Known gap, only
during that first backfill: a conversation not yet reached that receives a new message moves to
the top of listConvos, above the backfill's position, so its older messages are not read (its
new ones come through the log).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from carebird.errors import ConnectorError
from carebird.ingest.base import FetchResult, InboundItem
from carebird.ingest.bluesky.hydrate import Hydrator
from carebird.ingest.bluesky.normalize import get, message_item
from carebird.ingest.bluesky.session import BlueskySession, XrpcFailure

PAGE = 100
_MESSAGE = "chat.bsky.convo.defs#messageView"
_CREATE = "chat.bsky.convo.defs#logCreateMessage"
_ZERO_REV = "2222222222222"  # the smallest TID: "read the log from its start"


@dataclass
class Backfill:
    p: str | None = None  # listConvos cursor of the current page (None: the first page)
    r: str | None = None  # listing rev of the convo being read; the rest of the page is below
    c: str | None = None  # that convo's id, while its messages are paged
    m: str | None = None  # getMessages cursor within it


@dataclass
class ChatState:
    log: str | None = None
    bf: Backfill | None = None

    def encode(self) -> str:
        body: dict[str, Any] = {"log": self.log}
        if self.bf is not None:
            body["bf"] = {k: v for k, v in self.bf.__dict__.items() if v is not None}
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def decode(cls, cursor: str | None) -> ChatState:
        if not cursor:
            return cls()
        try:
            body = json.loads(cursor)
            bf = Backfill(**body["bf"]) if "bf" in body else None
            return cls(log=body["log"], bf=bf)
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"bad Bluesky chat cursor {cursor!r}") from None


class ChatStream:
    def __init__(self, session: BlueskySession) -> None:
        self.session = session

    def fetch(self, cursor: str | None, limit: int) -> FetchResult:
        state = ChatState.decode(cursor)
        items: list[InboundItem] = []
        hydrator = Hydrator(self.session)
        try:
            if state.log is None:
                out = self._call("getLog", lambda c: c.chat.bsky.convo.get_log())
                state = ChatState(log=out.cursor or _ZERO_REV, bf=Backfill())
            while state.bf is not None and len(items) < limit:
                state = self._backfill_step(state, items, hydrator)
            while len(items) < limit:
                moved, state = self._log_step(state, items, hydrator)
                if not moved:
                    return FetchResult(items=items, cursor=state.encode(), more=False)
        except ConnectorError:
            if not items:
                raise
        return FetchResult(items=items, cursor=state.encode(), more=True)

    def _call(self, what: str, fn: Any) -> Any:
        return self.session.call(what, fn, chat=True)

    def _backfill_step(
        self, state: ChatState, items: list[InboundItem], hydrator: Hydrator
    ) -> ChatState:
        bf, snapshot = state.bf, state.log
        assert bf is not None and snapshot is not None
        params: dict[str, Any] = {"limit": PAGE}
        if bf.p:
            params["cursor"] = bf.p
        page = self._call("listConvos", lambda c: c.chat.bsky.convo.list_convos(params))
        self.session.meter.record("owned_read", 0)
        current = next((c for c in page.convos if c.id == bf.c), None) if bf.c else None
        if current is not None:
            rev = bf.r or current.rev
        else:
            todo = [c for c in page.convos if bf.r is None or c.rev < bf.r]
            if not todo:
                if page.cursor and page.convos:
                    return ChatState(snapshot, Backfill(p=page.cursor))
                return ChatState(snapshot, None)  # backfill done
            current, rev = todo[0], todo[0].rev
        convo_id = current.id
        msg_params: dict[str, Any] = {"convoId": convo_id, "limit": PAGE}
        if bf.c == convo_id and bf.m:
            msg_params["cursor"] = bf.m
        self.session.meter.allow("owned_read", PAGE)
        try:
            out = self._call("getMessages", lambda c: c.chat.bsky.convo.get_messages(msg_params))
        except XrpcFailure:  # left or deleted since it was listed: nothing to read there
            return ChatState(snapshot, Backfill(p=bf.p, r=rev))
        self.session.meter.record("owned_read", len(out.messages))
        old = [m for m in out.messages if get(m, "py_type") == _MESSAGE and m.rev <= snapshot]
        items.extend(self._items([(convo_id, m) for m in reversed(old)], hydrator))
        if out.cursor and out.messages:
            return ChatState(snapshot, Backfill(p=bf.p, r=rev, c=convo_id, m=out.cursor))
        return ChatState(snapshot, Backfill(p=bf.p, r=rev))

    def _log_step(
        self, state: ChatState, items: list[InboundItem], hydrator: Hydrator
    ) -> tuple[bool, ChatState]:
        params = {"cursor": state.log}
        out = self._call("getLog", lambda c: c.chat.bsky.convo.get_log(params))
        if not out.logs or not out.cursor or out.cursor == state.log:
            return False, state
        created = [
            (log.convo_id, log.message)
            for log in out.logs
            if get(log, "py_type") == _CREATE and get(log.message, "py_type") == _MESSAGE
        ]
        self.session.meter.record("owned_read", len(created))
        items.extend(self._items(created, hydrator))
        return True, ChatState(out.cursor, None)

    def _items(self, messages: list[tuple[str, Any]], hydrator: Hydrator) -> list[InboundItem]:
        profiles = hydrator.load_profiles(m.sender.did for _, m in messages)
        own = self.session.did
        return [
            message_item(
                m,
                convo_id,
                account_handle=self.session.handle,
                own_did=own,
                profile=profiles.get(m.sender.did),
            )
            for convo_id, m in messages
        ]
