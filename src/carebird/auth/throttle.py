"""Login throttling: failed sign-ins per e-mail and per IP lock further tries for a growing time.

Counters live in the database (table `login_throttle`), so every process of the desk sees the
same lock-outs. A key is a kind (`email` or `ip`) and the SHA-256 of its value: an attacker's
guesses are never stored in clear. Rules:

- e-mail: the 5th failure locks it for 1 minute, each further failure doubles the lock, up
  to 1 hour; a success clears the counter;
- IP: the same from the 20th failure (offices share one address behind NAT); a success does
  not clear it (one valid account must not reset the guessing budget of a whole address);
- a counter untouched for 24 hours starts again from zero.

A sign-in counts as a failure *before* its password is checked: `begin_attempt` locks the
keys' rows, refuses the attempt if one is locked, else counts it, all in the caller's
transaction, which the caller commits before running Argon2 (`auth.service.sign_in`). So N
parallel guesses at one e-mail check at most 5 passwords (the rest find the lock), a failure
counts though the request then fails, and no request needs a second database connection.
A success takes its attempt back (`end_attempt`).

`record_login_failure` and `check_login_allowed` are the two halves for callers that check a
password some other way; the former writes in its own short transaction.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    String,
    and_,
    case,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from carebird.db.base import Base, utcnow
from carebird.errors import CarebirdError


class LoginThrottle(Base):
    __tablename__ = "login_throttle"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # email | ip
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class LoginThrottled(CarebirdError):
    """Too many failed sign-ins: try again after `retry_after` seconds (HTTP 429)."""

    status_code = 429

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"too many failed sign-ins; try again in {self.retry_after} s")


@dataclass(frozen=True, slots=True)
class Rule:
    threshold: int  # the failure that starts the lock-out
    base: timedelta
    longest: timedelta


RULES = {
    "email": Rule(threshold=5, base=timedelta(minutes=1), longest=timedelta(hours=1)),
    "ip": Rule(threshold=20, base=timedelta(minutes=1), longest=timedelta(hours=1)),
}
FORGET_AFTER = timedelta(hours=24)


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode("utf-8", "replace")).hexdigest()


def _keys(email: str, ip: str | None) -> list[tuple[str, str]]:
    keys = [("email", _digest(email))]
    if ip:
        keys.append(("ip", _digest(ip)))
    return keys


def _key(kind: str, digest: str) -> ColumnElement[bool]:
    return and_(LoginThrottle.kind == kind, LoginThrottle.digest == digest)


def lock_for(kind: str, failures: int) -> timedelta | None:
    """How long the `failures`-th failure locks a key of `kind` (None: not yet)."""
    rule = RULES[kind]
    if failures < rule.threshold:
        return None
    steps = min(failures - rule.threshold, 30)  # 2**30 minutes is far past `longest` anyway
    return min(rule.base * (1 << steps), rule.longest)


def check_login_allowed(
    session: Session, *, email: str, ip: str | None, now: datetime | None = None
) -> None:
    """Raise LoginThrottled while the e-mail or the IP is locked (check before the password)."""
    now = now or utcnow()
    waits = [
        (row.locked_until - now).total_seconds()
        for kind, digest in _keys(email, ip)
        if (row := session.get(LoginThrottle, (kind, digest))) is not None
        and row.locked_until is not None
        and row.locked_until > now
    ]
    if waits:
        raise LoginThrottled(max(waits))


def _bump(session: Session, kind: str, digest: str, now: datetime) -> None:
    # One UPDATE increments atomically (and takes the row's write lock on both engines), so
    # two processes counting the same key at once never lose a failure.
    key = (LoginThrottle.kind == kind) & (LoginThrottle.digest == digest)
    stale = LoginThrottle.last_failure_at <= now - FORGET_AFTER
    bump = (
        update(LoginThrottle)
        .where(key)
        .values(
            failures=case((stale, 1), else_=LoginThrottle.failures + 1),
            last_failure_at=now,
        )
    )
    if session.execute(bump).rowcount == 0:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(
                    LoginThrottle(kind=kind, digest=digest, failures=1, last_failure_at=now)
                )
        except IntegrityError:  # another process inserted it first: count on its row
            session.execute(bump)
    count = session.scalar(select(LoginThrottle.failures).where(key)) or 0
    lock = lock_for(kind, count)
    session.execute(
        update(LoginThrottle).where(key).values(locked_until=now + lock if lock else None)
    )


def record_login_failure(
    session: Session, *, email: str, ip: str | None, now: datetime | None = None
) -> None:
    """Count one failed sign-in for the e-mail and the IP, in a transaction of its own."""
    now = now or utcnow()
    with Session(bind=session.get_bind()) as own, own.begin():
        for kind, digest in _keys(email, ip):
            _bump(own, kind, digest, now)


@dataclass(frozen=True, slots=True)
class Counted:
    """One key's row as an attempt found it and as it left it (to take the attempt back)."""

    kind: str
    digest: str
    before: tuple[int, datetime, datetime | None]  # failures, last_failure_at, locked_until
    after: tuple[int, datetime, datetime | None]


@dataclass(frozen=True, slots=True)
class Attempt:
    """A sign-in counted as a failure until `end_attempt` says its password was right."""

    email: str
    keys: tuple[Counted, ...]


def _ensure_rows(session: Session, keys: list[tuple[str, str]], now: datetime) -> None:
    """Create the keys' rows if missing (0 failures, already forgotten), racing nobody."""
    rows = [
        {"kind": kind, "digest": digest, "failures": 0, "last_failure_at": now - FORGET_AFTER}
        for kind, digest in keys
    ]
    dialect = session.get_bind().dialect.name
    stmt: Executable
    if dialect == "postgresql":
        stmt = pg_insert(LoginThrottle).values(rows).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite_insert(LoginThrottle).values(rows).on_conflict_do_nothing()
    else:  # pragma: no cover - the desk runs on the two engines above
        stmt = insert(LoginThrottle).values(rows)
    session.execute(stmt)


def begin_attempt(
    session: Session, *, email: str, ip: str | None, now: datetime | None = None
) -> Attempt:
    """Count a sign-in before its password is checked, or raise LoginThrottled while locked.

    The check and the count are one step: the keys' rows are write-locked (FOR UPDATE on
    PostgreSQL; SQLite's single writer) from the read to the commit, so parallel attempts see
    each other's counts. Runs in the caller's transaction; commit it before checking the
    password, roll it back on LoginThrottled (a refused attempt does not count).
    """
    now = now or utcnow()
    keys = _keys(email, ip)
    _ensure_rows(session, keys, now)
    found = {
        (row.kind, row.digest): row
        for row in session.execute(
            select(
                LoginThrottle.kind,
                LoginThrottle.digest,
                LoginThrottle.failures,
                LoginThrottle.last_failure_at,
                LoginThrottle.locked_until,
            )
            .where(or_(*(_key(kind, digest) for kind, digest in keys)))
            .order_by(LoginThrottle.kind, LoginThrottle.digest)  # one lock order: no deadlock
            .with_for_update()
        )
    }
    waits = [
        (row.locked_until - now).total_seconds()
        for row in found.values()
        if row.locked_until is not None and row.locked_until > now
    ]
    if waits:
        raise LoginThrottled(max(waits))
    counted = []
    for kind, digest in keys:
        row = found[(kind, digest)]
        count = 1 if row.last_failure_at <= now - FORGET_AFTER else row.failures + 1
        lock = lock_for(kind, count)
        after = (count, now, now + lock if lock else None)
        session.execute(
            update(LoginThrottle)
            .where(_key(kind, digest))
            .values(failures=after[0], last_failure_at=after[1], locked_until=after[2])
        )
        before = (row.failures, row.last_failure_at, row.locked_until)
        counted.append(Counted(kind, digest, before, after))
    return Attempt(email=email, keys=tuple(counted))


def end_attempt(session: Session, attempt: Attempt) -> None:
    """The attempt's password was right: forget the e-mail's failures, take the IP's back.

    The IP's row returns to what the attempt found unless a failure came since; then only
    this attempt's count is removed (and the lock with it below the threshold).
    """
    record_login_success(session, email=attempt.email)
    for key in attempt.keys:
        if key.kind == "email":
            continue
        where = _key(key.kind, key.digest)
        row = session.execute(
            select(
                LoginThrottle.failures, LoginThrottle.last_failure_at, LoginThrottle.locked_until
            )
            .where(where)
            .with_for_update()
        ).first()
        if row is None:
            continue
        if tuple(row) == key.after:
            failures, last, locked = key.before
        else:
            failures, last, locked = max(row.failures - 1, 0), row.last_failure_at, None
            if lock_for(key.kind, failures) is not None:
                locked = row.locked_until
        session.execute(
            update(LoginThrottle)
            .where(where)
            .values(failures=failures, last_failure_at=last, locked_until=locked)
        )


def record_login_success(session: Session, *, email: str) -> None:
    """Forget the e-mail's failures (in the caller's transaction); the IP's remain."""
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.kind == "email", LoginThrottle.digest == _digest(email)
        )
    )


def check_ip_allowed(session: Session, *, ip: str | None, now: datetime | None = None) -> None:
    """Raise LoginThrottled while the address is locked: a read only (public links' pages)."""
    if not ip:
        return
    now = now or utcnow()
    row = session.get(LoginThrottle, ("ip", _digest(ip)))
    if row is not None and row.locked_until is not None and row.locked_until > now:
        raise LoginThrottled((row.locked_until - now).total_seconds())


def record_ip_failure(session: Session, *, ip: str | None, now: datetime | None = None) -> None:
    """Count one failure of the address alone (an unknown public link), in a transaction of
    its own: 20 lock the address as 20 failed sign-ins do."""
    if not ip:
        return
    now = now or utcnow()
    with Session(bind=session.get_bind()) as own, own.begin():
        _bump(own, "ip", _digest(ip), now)


def failures(session: Session, *, kind: str, value: str) -> int:
    """The current failure count of one key (for tests and the CLI)."""
    count = session.scalar(
        select(LoginThrottle.failures).where(
            LoginThrottle.kind == kind, LoginThrottle.digest == _digest(value)
        )
    )
    return int(count or 0)
