"""Login throttling on both engines: lock-outs per e-mail and per IP, growing, shared, forgotten."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from carebird.auth import throttle
from carebird.auth.throttle import (
    LoginThrottle,
    LoginThrottled,
    check_login_allowed,
    lock_for,
    record_login_failure,
    record_login_success,
)
from carebird.db.base import utcnow
from carebird.db.database import Database

EMAIL = "Marie@Example.test"


def fail(
    db: Database,
    n: int,
    *,
    email: str = EMAIL,
    ip: str | None = "10.0.0.1",
    now: datetime | None = None,
) -> None:
    for _ in range(n):
        with db.session() as s:
            record_login_failure(s, email=email, ip=ip, now=now)


def allowed(
    db: Database, *, email: str = EMAIL, ip: str | None = "10.0.0.1", now: datetime | None = None
) -> bool:
    with db.session() as s:
        try:
            check_login_allowed(s, email=email, ip=ip, now=now)
        except LoginThrottled:
            return False
    return True


def test_the_lock_grows_from_the_threshold_and_is_capped() -> None:
    assert lock_for("email", 4) is None
    assert lock_for("email", 5) == timedelta(minutes=1)
    assert lock_for("email", 6) == timedelta(minutes=2)
    assert lock_for("email", 8) == timedelta(minutes=8)
    assert lock_for("email", 500) == timedelta(hours=1)
    assert lock_for("ip", 19) is None and lock_for("ip", 20) == timedelta(minutes=1)


def test_five_failures_lock_the_email_for_a_minute_then_longer(db: Database) -> None:
    now = utcnow()
    fail(db, 4, now=now)
    assert allowed(db, now=now)
    fail(db, 1, now=now)
    with db.session() as s, pytest.raises(LoginThrottled) as locked:
        check_login_allowed(s, email="marie@example.test", ip="10.9.9.9", now=now)
    assert locked.value.status_code == 429 and 59 <= locked.value.retry_after <= 60
    assert not allowed(db, email=" MARIE@example.TEST ", ip=None, now=now)  # same address
    assert allowed(db, email="someone@example.test", ip="10.0.0.2", now=now)
    assert allowed(db, now=now + timedelta(seconds=61))
    fail(db, 1, now=now + timedelta(seconds=61))  # the 6th: two minutes
    assert not allowed(db, now=now + timedelta(seconds=61 + 119))
    assert allowed(db, now=now + timedelta(seconds=61 + 121))


def test_the_ip_locks_after_twenty_failures_across_emails_and_success_keeps_it(
    db: Database,
) -> None:
    now = utcnow()
    for n in range(19):
        fail(db, 1, email=f"guess{n}@example.test", ip="203.0.113.7", now=now)
    assert allowed(db, email="new@example.test", ip="203.0.113.7", now=now)
    fail(db, 1, email="guess19@example.test", ip="203.0.113.7", now=now)
    assert not allowed(db, email="new@example.test", ip="203.0.113.7", now=now)
    assert allowed(db, email="new@example.test", ip="203.0.113.8", now=now)
    with db.session() as s, s.begin():
        record_login_success(s, email="guess0@example.test")
    assert not allowed(db, email="guess0@example.test", ip="203.0.113.7", now=now)
    with db.session() as s:
        assert throttle.failures(s, kind="ip", value="203.0.113.7") == 20
        assert throttle.failures(s, kind="email", value="guess0@example.test") == 0
        assert throttle.failures(s, kind="email", value="guess1@example.test") == 1


def test_success_clears_the_email_and_old_failures_are_forgotten(db: Database) -> None:
    now = utcnow()
    fail(db, 4, now=now)
    with db.session() as s, s.begin():
        record_login_success(s, email=EMAIL)
    fail(db, 4, now=now)
    assert allowed(db, now=now)  # 4 again, not 8
    fail(db, 1, now=now + timedelta(hours=25))  # a day later the count restarts at 1
    assert allowed(db, now=now + timedelta(hours=25))
    with db.session() as s:
        assert throttle.failures(s, kind="email", value=EMAIL) == 1


def test_a_failure_survives_the_callers_rollback_and_nothing_is_stored_in_clear(
    db: Database,
) -> None:
    with db.session() as s:
        s.begin()
        record_login_failure(s, email=EMAIL, ip="10.0.0.1")
        s.rollback()
    with db.session() as s:
        rows = s.scalars(select(LoginThrottle)).all()
        assert {r.kind for r in rows} == {"email", "ip"}
        assert all(r.failures == 1 and len(r.digest) == 64 for r in rows)
        assert not any("example" in r.digest or "10.0" in r.digest for r in rows)


def test_concurrent_failures_are_all_counted(db: Database) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            fail(db, 5, ip=None)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session() as s:
        assert throttle.failures(s, kind="email", value=EMAIL) == 20
