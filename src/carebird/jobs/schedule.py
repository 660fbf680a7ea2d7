"""Every schedule of the desk's background work, declared once for both runners.

The embedded runner (`carebird serve`) sleeps these intervals between passes; `carebird worker`
turns them into procrastinate periodic jobs, deferred once per period cluster-wide. Polling a
stream is not on a fixed clock: each poll says when the next one is due (the opening hours,
a rate-limit reset, a backlog to drain), see `carebird.jobs.polling`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from carebird.config import Settings


@dataclass(frozen=True)
class Every:
    task: str  # the name of the function in `carebird.jobs.tasks`
    seconds: Callable[[Settings], float]
    why: str


SEND_OUTBOX_SECONDS = 1.0
HEARTBEAT_SECONDS = 10.0
ACCOUNTS_REFRESH_SECONDS = 30.0  # an account added or disconnected is picked up this fast
SEND_BATCH = 25  # replies one outbox pass sends before it yields (a SIGTERM waits for no more)
WAIT_REFRESH_SECONDS = 120.0  # the expected wait is at most this old (KLM: 5 min)
SEND_SLOTS = 8  # outbox passes that may run at once across the cluster (rows are claimed)

SCHEDULES: tuple[Every, ...] = (
    Every("send_outbox", lambda s: SEND_OUTBOX_SECONDS, "queued replies go out within a second"),
    Every("ensure_polling", lambda s: ACCOUNTS_REFRESH_SECONDS, "every stream has its next poll"),
    Every("reconcile", lambda s: s.reconcile_interval_seconds, "search for what timelines lost"),
    Every("rescore", lambda s: s.rescore_interval_seconds, "waiting cases rise"),
    Every(
        "reclassify",
        lambda s: s.accurate_tier_interval_seconds,
        "the accurate tier re-reads new inbound messages",
    ),
    Every("expire_presence", lambda s: 10.0, "viewing/typing marks vanish"),
    Every("watch_deadlines", lambda s: 60.0, "SLA targets warn at 80 %, breach at 100 %"),
    Every("purge_events", lambda s: 3600.0, "old live events are dropped"),
    Every(
        "refresh_waits",
        lambda s: WAIT_REFRESH_SECONDS,
        "each account's expected wait (inbox, acknowledgements, published)",
    ),
)


def cron_for(seconds: float) -> str:
    """A procrastinate cron (6 fields: the 6th is seconds) firing about every `seconds`."""
    if seconds < 60:
        step = max(1, round(seconds))
        return f"* * * * * */{step}"
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"*/{minutes} * * * *"
    hours = max(1, min(23, round(minutes / 60)))
    return f"0 */{hours} * * *"
