"""Receiving live events in one process: a feed that waits for new rows, a hub that fans out.

`EventFeed.wait(after_id)` returns the events after an id as soon as there are some. On
PostgreSQL it sleeps on `LISTEN carebird_events` on its own connection (woken by the
publishing transaction's commit, with a periodic re-read as a safety net); on SQLite it polls
the table by id every `poll_interval` (an indexed range read: cheap).

`EventHub` runs one feed in a thread for a whole process and hands each batch to every
subscriber (one per open event stream), so a thousand open inboxes cost one reader. It starts
with its first subscriber and stops after its last one leaves: no lifespan wiring needed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from carebird.db.database import Database
from carebird.live.events import CHANNEL, Event, events_after, latest_event_id

log = logging.getLogger(__name__)
POLL_INTERVAL = 0.2  # seconds between reads on SQLite
LISTEN_RECHECK = 5.0  # seconds: PostgreSQL re-reads even without a notification


class EventFeed:
    """Blocking reader of the events table for one database (not thread-safe: one user)."""

    def __init__(self, db: Database, *, poll_interval: float = POLL_INTERVAL) -> None:
        self.db = db
        self.poll_interval = poll_interval
        self._listener: Any = None
        if db.dialect == "postgresql":
            self._listen()

    def _listen(self) -> None:
        # A dedicated connection, out of the pool: it stays in LISTEN for the feed's lifetime.
        raw = self.db.engine.raw_connection()
        conn: Any = raw.driver_connection
        raw.detach()
        conn.autocommit = True
        conn.execute(f"LISTEN {CHANNEL}")
        self._listener = conn

    def read(self, after_id: int, *, limit: int = 500) -> list[Event]:
        with self.db.session() as session:
            return events_after(session, after_id, limit=limit)

    def latest_id(self) -> int:
        with self.db.session() as session:
            return latest_event_id(session)

    def wait(self, after_id: int, timeout: float) -> list[Event]:
        """Events after `after_id`, waiting up to `timeout` seconds for the first ones."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.read(after_id)
            left = deadline - time.monotonic()
            if found or left <= 0:
                return found
            if self._listener is not None:
                # Notifications sent since LISTEN queue up on the connection: none is lost
                # between the read above and this wait.
                for _ in self._listener.notifies(timeout=min(left, LISTEN_RECHECK), stop_after=1):
                    pass
            else:
                time.sleep(min(left, self.poll_interval))

    def close(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            finally:
                self._listener = None


Callback = Callable[[list[Event]], None]


class EventHub:
    """One reader thread per process; subscribers get every event after they subscribed."""

    def __init__(
        self, db: Database, *, poll_interval: float = POLL_INTERVAL, linger: float = 2.0
    ) -> None:
        self.db = db
        self.poll_interval = poll_interval
        self.linger = linger  # keep reading this long after the last subscriber left
        self._subscribers: dict[int, Callback] = {}
        self._next_key = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_id = 0
        self._stop = threading.Event()

    def subscribe(self, callback: Callback) -> tuple[int, int]:
        """Register; return (key for unsubscribe, id after which events will be delivered)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                with self.db.session() as session:
                    self._last_id = latest_event_id(session)
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, name="carebird-event-hub", daemon=True
                )
                self._thread.start()
            key = self._next_key
            self._next_key += 1
            self._subscribers[key] = callback
            return key, self._last_id

    def unsubscribe(self, key: int) -> None:
        with self._lock:
            self._subscribers.pop(key, None)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=10)

    def _run(self) -> None:
        feed: EventFeed | None = None
        idle_since: float | None = None
        try:
            feed = EventFeed(self.db, poll_interval=self.poll_interval)
            while not self._stop.is_set():
                with self._lock:
                    if self._subscribers:
                        idle_since = None
                    elif idle_since is None:
                        idle_since = time.monotonic()
                    elif time.monotonic() - idle_since > self.linger:
                        self._thread = None  # the next subscriber starts a fresh reader
                        return
                try:
                    found = feed.wait(self._last_id, timeout=1.0)
                except Exception:  # the database went away for a moment: retry
                    log.exception("reading live events failed")
                    time.sleep(1.0)
                    continue
                if not found:
                    continue
                with self._lock:
                    self._last_id = found[-1].id
                    targets = list(self._subscribers.values())
                for deliver in targets:
                    try:
                        deliver(found)
                    except Exception:
                        log.exception("delivering live events failed")
        finally:
            if feed is not None:
                feed.close()
