"""SIGKILL at random points, then restart: the same messages and cases as an uninterrupted run.

Cases are compared by content, not by id (PostgreSQL sequences are not rolled back by a
killed transaction): each message maps to the first message of its case.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from carebird.cases.models import Case
from carebird.db.database import Database
from carebird.ingest.models import Author, Message
from tests.support.shared import shared_data

Snapshot = tuple[frozenset[tuple[str, ...]], frozenset[tuple[object, ...]]]


def snapshot(url: str) -> Snapshot:
    db = Database(url)
    try:
        with db.session() as s:
            first = dict(
                s.execute(
                    select(Message.case_id, func.min(Message.external_id))
                    .where(Message.case_id.is_not(None))
                    .group_by(Message.case_id)
                ).all()
            )
            messages = frozenset(
                (
                    m.external_id,
                    m.direction,
                    m.kind,
                    str(m.is_private),
                    first.get(m.case_id, "-") if m.case_id else "-",
                    m.text,
                )
                for m in s.execute(
                    select(
                        Message.external_id,
                        Message.direction,
                        Message.kind,
                        Message.is_private,
                        Message.case_id,
                        Message.text,
                    )
                )
            )
            cases = frozenset(
                (first[c.id], c.status, c.message_count, handle, c.created_at)
                for c, handle in s.execute(
                    select(Case, Author.handle).join(Author, Author.id == Case.customer_id)
                )
            )
        return messages, cases
    finally:
        db.dispose()


def message_count(url: str) -> int:
    db = Database(url)
    try:
        with db.session() as s:
            return s.scalar(select(func.count()).select_from(Message)) or 0
    finally:
        db.dispose()


def run(args: list[str], url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CAREBIRD_DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "carebird", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill_and_resume(args: list[str], new_db_url: Callable[[], str], *, total: int) -> None:
    reference = new_db_url()
    started = time.monotonic()
    proc = run(args, reference)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()
    duration = time.monotonic() - started
    assert message_count(reference) == total

    crashed = new_db_url()
    seed = int.from_bytes(os.urandom(4))
    rng = random.Random(seed)
    partial = 0
    seen: list[tuple[int, int, int | None]] = []  # (threshold, count after kill, exit code)
    for _ in range(3):
        # Kill once a random share of the work is committed, plus a random few milliseconds so
        # the kill lands anywhere: mid-fetch, mid-transaction, between batches.
        # Leave room: a kill can land a batch or two after the threshold is seen, and a first
        # round that finished the work would leave the later rounds nothing to interrupt.
        threshold = rng.randint(1, total * 7 // 10)
        proc = run(args, crashed)
        deadline = time.monotonic() + duration * 3 + 30
        while proc.poll() is None and time.monotonic() < deadline:
            if message_count(crashed) >= threshold:
                break
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)  # reap it and close its pipe
        after = message_count(crashed)
        seen.append((threshold, after, proc.returncode))
        if 0 < after < total:
            partial += 1
    proc = run(args, crashed)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()
    assert partial >= 1, f"no kill landed mid-run (seed {seed}, {seen}); the test proved nothing"
    assert snapshot(crashed) == snapshot(reference)


def test_import_killed_and_restarted(new_db_url: Callable[[], str]) -> None:
    path: Path = shared_data("twcs-head5k/twcs.csv")
    kill_and_resume(["import", str(path), "--batch-size", "200", "--json"], new_db_url, total=5000)


def test_simulated_stream_killed_and_restarted(new_db_url: Callable[[], str]) -> None:
    kill_and_resume(
        ["simulate", "--seed", "5", "--count", "6000", "--batch-size", "200"],
        new_db_url,
        total=6000,
    )
