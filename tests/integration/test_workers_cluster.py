"""Many processes on one PostgreSQL, as in production: 2 web processes (`serve --no-worker`) and
3 `carebird worker` against the local X peer and the Mastodon mock.

10,000 mentions are stored once each; no stream is ever polled by two processes at once (the
peers watch the timeline requests in flight); 1,000 replies queued through both web processes
while workers are killed with `kill -9` at random and restarted are each posted exactly once,
counted at the peers.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from carebird.db.database import Database
from carebird.ingest.models import Message
from carebird.reply.models import OutboxItem
from tests.support.mastodon_harness import MastodonHarness
from tests.support.pg_cluster import PgCluster
from tests.support.processes import Carebird, wait_for
from tests.support.x_harness import XHarness

PER_NETWORK = 5_000
REPLIES_PER_NETWORK = 500
WORKERS = 3
MAX_KILLS = 8
ADMIN = "admin@carebird.test"


class InFlight:
    """ASGI wrapper counting requests per watched path (and per stream, where the client names
    its stream in its User-Agent, as the Mastodon connector does) and the most ever in flight
    at once."""

    def __init__(self, app: ASGIApp, watched: tuple[str, ...]) -> None:
        self.app, self.watched = app, watched
        self.now: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        watched = next((w for w in self.watched if path.startswith(w)), None)
        if watched is None or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        agent = dict(scope.get("headers") or []).get(b"user-agent", b"").decode()
        stream = agent.partition(" stream=")[2]
        key = f"{watched} {stream}" if stream else watched
        with self._lock:
            self.now[key] += 1
            self.calls[key] += 1
            self.most[key] = max(self.most[key], self.now[key])
        done = False

        def finish() -> None:
            nonlocal done
            with self._lock:
                if not done:
                    done, self.now[key] = True, self.now[key] - 1

        async def sending(message: AsgiMessage) -> None:
            await send(message)
            # The client has the whole answer here and may ask again while the app is still
            # unwinding (on the same connection): the request ends with its last byte sent.
            if message["type"] == "http.response.body" and not message.get("more_body"):
                finish()

        try:
            await self.app(scope, receive, sending)
        finally:
            finish()


@pytest.fixture
def cluster_db(pg_cluster: PgCluster) -> Iterator[str]:
    name = f"cluster{time.monotonic_ns()}"
    pg_cluster.create_database(name, template="template_carebird")
    try:
        yield pg_cluster.url(name)
    finally:
        pg_cluster.drop_database(name)


def _cli(env: dict[str, str], workdir: Path, *args: str) -> str:
    proc = Carebird(*args, env=env, workdir=workdir)
    code = proc.proc.wait(timeout=120)
    out = proc.output()
    proc.stop()
    assert code == 0, out
    return out


def test_two_webs_and_three_killed_workers_store_once_and_post_once(
    cluster_db: str, tmp_path: Path
) -> None:
    env = {
        "CAREBIRD_DATABASE_URL": cluster_db,
        "CAREBIRD_SECRET_KEY": "k" * 40,
        "CAREBIRD_ADMIN_EMAIL": ADMIN,
        "CAREBIRD_ADMIN_PASSWORD": "a-long-admin-password-1",
        "CAREBIRD_OPENING_HOURS": "Mon-Sun 00:00-24:00",
        "CAREBIRD_POLL_OPEN_SECONDS": "0.5",
        "CAREBIRD_SEND_LEASE_SECONDS": "5",
        "CAREBIRD_RECONCILE_INTERVAL_SECONDS": "86400",
    }
    # X's real limit on posting (200 per 15 minutes) is lifted: this measures the desk.
    x = XHarness(listening=[], limits={"POST /2/tweets": 1_000_000})
    x_watch = InFlight(x.peer.web.app, ("/2/users/", "/2/dm_events"))
    x.peer.web.app = x_watch  # type: ignore[assignment]
    with x, MastodonHarness(listening=()) as mastodon:
        m_watch = InFlight(mastodon.lost.app, ("/api/v1/notifications", "/api/v1/conversations"))
        mastodon.lost.app = m_watch  # type: ignore[assignment]
        x_posted = x.post_mentions(PER_NETWORK, customers=REPLIES_PER_NETWORK * 2)
        m_posted = mastodon.post_mentions(PER_NETWORK, customers=REPLIES_PER_NETWORK * 2)
        for network, peer in (("x", x), ("mastodon", mastodon)):
            creds = tmp_path / f"{network}.json"
            creds.write_text(json.dumps(dict(peer.brand.credentials)))
            options = [f"base_url={peer.brand.options['base_url']}"]
            if network == "x":
                options.append(f"field_spelling={peer.brand.options['field_spelling']}")
            _cli(
                env,
                tmp_path,
                *("accounts", "add", network, "--handle", peer.brand.handle),
                *("--credentials-file", str(creds)),
                *[arg for o in options for arg in ("--option", o)],
            )
        webs = [Carebird("serve", "--no-worker", env=env, workdir=tmp_path) for _ in range(2)]
        workers = [Carebird("worker", env=env, workdir=tmp_path) for _ in range(WORKERS)]
        db = Database(cluster_db)
        try:
            for web in webs:
                web.wait_healthy()
            wait_for(
                "10,000 mentions stored",
                lambda: _inbound(db) >= 2 * PER_NETWORK,
                timeout=600,
                every=1.0,
            )
            time.sleep(3)  # a few more polls: nothing is stored twice
            with db.session() as s:
                ids = Counter(
                    (n, e)
                    for n, e in s.execute(
                        select(Message.network, Message.external_id).where(
                            Message.direction == "in"
                        )
                    )
                )
            assert set(ids) == {("x", i) for i in x_posted} | {("mastodon", i) for i in m_posted}
            polls = {**x_watch.calls, **m_watch.calls}
            # The most requests in flight at once per stream while the 10,000 mentions were
            # read (no process killed yet): one. On X each stream has endpoints of its own;
            # Mastodon's "mentions" and "direct" streams page the same notifications request
            # and are told apart by the stream each connector names in its User-Agent.
            most = {**x_watch.most, **m_watch.most}
            assert x_watch.most and set(x_watch.most.values()) == {1}, most
            streams = {k for k in m_watch.most if k.startswith("/api/v1/notifications ")}
            assert streams == {
                "/api/v1/notifications mentions",
                "/api/v1/notifications direct",
            }, most
            assert set(m_watch.most.values()) == {1}, most
            token = _cli(env, tmp_path, "tokens", "create", "--email", ADMIN).strip().split()[-1]
            cases = _cases_to_answer(db)
            stop_killing = threading.Event()
            kills: list[int] = []

            def killer() -> None:
                # Kill a worker that has been up a while (so it holds work) every few seconds,
                # start a fresh one in its place; at most MAX_KILLS times.
                rng = random.Random(9)
                while len(kills) < MAX_KILLS and not stop_killing.wait(rng.uniform(3.0, 6.0)):
                    ready = [w for w in workers if time.monotonic() - w.started > 6.0]
                    if not ready:
                        continue
                    victim = rng.choice(ready)
                    workers.remove(victim)
                    victim.kill9()
                    kills.append(victim.proc.pid)
                    workers.append(Carebird("worker", env=env, workdir=tmp_path))

            chaos = threading.Thread(target=killer)
            chaos.start()
            try:
                failures = _queue_replies(webs, token, cases)
                assert failures == []
                wait_for("replies sent", lambda: _sent(db) >= len(cases), timeout=600, every=1)
            finally:
                stop_killing.set()
                chaos.join()
            time.sleep(6)  # past a lease: a re-claimed row would show up now
            with db.session() as s:
                statuses = Counter(s.scalars(select(OutboxItem.status)).all())
            assert statuses == {"sent": len(cases)}
            per_reply = _brand_replies(x, mastodon)
            assert len(per_reply) == len(cases) and set(per_reply.values()) == {1}
            assert len(kills) >= 3
            print(
                json.dumps(
                    {
                        "mentions": 2 * PER_NETWORK,
                        "stored_per_mention": max(ids.values()),
                        "replies": len(cases),
                        "posted_per_reply": sum(per_reply.values()) / len(per_reply),
                        "kills": len(kills),
                        "timeline_requests_during_ingest": polls,
                        "most_in_flight_per_stream": most,
                    }
                )
            )
        finally:
            for proc in [*webs, *workers]:
                proc.stop()
            db.dispose()


def _inbound(db: Database) -> int:
    with db.session() as s:
        return int(
            s.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))
            or 0
        )


def _sent(db: Database) -> int:
    with db.session() as s:
        return int(
            s.scalar(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "sent")
            )
            or 0
        )


def _cases_to_answer(db: Database) -> list[int]:
    from carebird.cases.models import Case

    chosen: list[int] = []
    with db.session() as s:
        for network in ("x", "mastodon"):
            chosen += s.scalars(
                select(Case.id)
                .where(Case.network == network)
                .order_by(Case.id)
                .limit(REPLIES_PER_NETWORK)
            ).all()
    assert len(chosen) == 2 * REPLIES_PER_NETWORK
    return chosen


def _queue_replies(webs: list[Carebird], token: str, cases: list[int]) -> list[Any]:
    failures: list[Any] = []
    lock = threading.Lock()
    todo = list(enumerate(cases))

    def run() -> None:
        while True:
            with lock:
                if not todo:
                    return
                n, case_id = todo.pop()
            text = "Nous regardons votre demande, merci de votre patience."
            body = {"text": text, "idempotency_key": f"r-{n:06d}"}
            status, out = 0, None
            for attempt in range(3):  # a request lost under load is sent again, same key
                try:
                    web = webs[(n + attempt) % 2]
                    status, out = web.call("POST", f"/api/cases/{case_id}/replies", token, body)
                    break
                except OSError as exc:
                    status, out = 0, repr(exc)
            if status != 202:
                with lock:
                    failures.append((case_id, status, out))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def _brand_replies(x: XHarness, mastodon: MastodonHarness) -> Counter[tuple[str, str]]:
    """How many times each customer message was answered by the brand, on each peer."""
    per: Counter[tuple[str, str]] = Counter()
    state = x.peer.state
    for post in list(state.posts.values()):
        if post.author_id == x.brand_user.id:
            for kind, target in post.refs:
                if kind == "replied_to":
                    per[("x", target)] += 1
    for target in mastodon.brand_reply_targets():
        per[("mastodon", target)] += 1
    return per
