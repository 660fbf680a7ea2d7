"""`carebird doctor`: is this deployment fit to run? One check per concern, each ok, warn or fail.

    secret_key      set to a private value (not the built-in development key, 32+ characters)
    database        reachable (a SQLite file that does not exist is not created)
    migrations      at Alembic's head
    account:<n>:<h> each active network account's credentials accepted by its network, asked
                    with the cheapest "who am I" call it has (`check_credentials()`)
    workers         a background runner (`carebird worker` or an embedded `serve`) beating
    stream:<source> each polled stream's last success, lag and errors (ingest/health.py)

Only `fail` makes the command exit 1; `warn` is worth a look (nothing polls yet, a stream paused
by a rate limit). Nothing here changes the database, except what a credential check costs: the
call is counted on the account's meter like any other, and tokens a network rotates are saved.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import make_url, select, text
from sqlalchemy.exc import SQLAlchemyError

from carebird.config import Settings
from carebird.db.database import Database
from carebird.errors import BudgetExhausted, CarebirdError, RateLimited

log = logging.getLogger(__name__)
Status = Literal["ok", "warn", "fail"]
CHECK_TIMEOUT = 10.0  # seconds per network call of a credential check


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def failed(checks: list[Check]) -> bool:
    return any(c.status == "fail" for c in checks)


def run_checks(settings: Settings, *, now: datetime | None = None) -> list[Check]:
    """Every check, in the order an operator would fix them."""
    now = now or datetime.now(UTC)
    checks = [check_secret(settings)]
    missing = _missing_sqlite_file(settings.database_url)
    if missing is not None:
        checks.append(
            Check("database", "fail", f"no SQLite file at {missing}: run `carebird db upgrade`")
        )
        return checks
    db = Database(settings.database_url)
    try:
        database = check_database(db)
        checks.append(database)
        if database.status == "fail":
            return checks
        migrations = check_migrations(db)
        checks.append(migrations)
        if migrations.status == "fail":
            return checks
        checks += check_accounts(db, settings)
        checks.append(check_workers(db, now))
        checks += check_streams(db, now)
    finally:
        db.dispose()
    return checks


def check_secret(settings: Settings) -> Check:
    problem = settings.secret_problem()
    if problem is None:
        return Check("secret_key", "ok", "set to a private value", {"env": settings.env})
    if settings.env == "dev":
        detail = f"{problem}; allowed only because CAREBIRD_ENV=dev"
        return Check("secret_key", "warn", detail, {"env": "dev"})
    try:
        settings.check_secrets()
    except CarebirdError as exc:
        return Check("secret_key", "fail", str(exc), {"env": settings.env})
    raise AssertionError("check_secrets accepted what secret_problem refused")


def _missing_sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path.resolve()


def check_database(db: Database) -> Check:
    where = db.engine.url.render_as_string(hide_password=True)
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            version = ".".join(str(n) for n in conn.dialect.server_version_info or ())
    except SQLAlchemyError as exc:
        reason = str(exc.__cause__ or exc).strip().splitlines()[0]
        return Check("database", "fail", f"cannot connect to {where}: {reason}", {"url": where})
    engine = f"{db.dialect} {version}".strip()
    return Check("database", "ok", f"{engine} at {where}", {"url": where, "engine": db.dialect})


def check_migrations(db: Database) -> Check:
    from alembic.script import ScriptDirectory

    from carebird.db.migrate import alembic_config, current

    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    try:
        at = current(db.engine)
    except SQLAlchemyError as exc:
        return Check("migrations", "fail", f"cannot read the revision: {exc}", {"head": head})
    data = {"current": at, "head": head}
    if at == head:
        return Check("migrations", "ok", f"at head ({head})", data)
    if at is None:
        return Check("migrations", "fail", "not migrated: run `carebird db upgrade`", data)
    return Check("migrations", "fail", f"at {at}, head is {head}: run `carebird db upgrade`", data)


def check_accounts(db: Database, settings: Settings) -> list[Check]:
    from carebird.ingest.models import NetworkAccount

    with db.session() as session:
        accounts = list(
            session.scalars(
                select(NetworkAccount)
                .where(NetworkAccount.active.is_(True), NetworkAccount.credentials.is_not(None))
                .order_by(NetworkAccount.id)
            )
        )
        session.expunge_all()
    return [_check_account(db, settings, a) for a in accounts]


def _local(handle: str) -> str:
    return handle.strip().lstrip("@").split("@")[0].lower()


def _check_account(db: Database, settings: Settings, account: Any) -> Check:
    from carebird.ingest.accounts import account_spec
    from carebird.ingest.base import CanCheckCredentials, Closable
    from carebird.ingest.calls import Backoff
    from carebird.ingest.usage import DbMeter, prices_for
    from carebird.plugins import connector_class

    name = f"account:{account.network}:{account.handle}"
    data: dict[str, Any] = {"account_id": account.id, "network": account.network}
    connector = None
    try:
        spec = account_spec(db, account, secret_key=settings.secret_key)
        spec = dataclasses.replace(spec, options={**spec.options, "timeout": CHECK_TIMEOUT})
        cls = connector_class(account.network)
        if not issubclass(cls, CanCheckCredentials):
            return Check(name, "warn", f"the {account.network} connector cannot check", data)
        meter = DbMeter(
            db,
            account_id=account.id,
            prices=prices_for(account.network, settings.prices),
            cap=account.monthly_cap,
        )
        backoff = Backoff(attempts=2, max_wait=5.0)
        connector = cls(spec, cls.streams(spec)[0], meter=meter, backoff=backoff)
        me = connector.check_credentials()
    except (RateLimited, BudgetExhausted) as exc:
        return Check(name, "warn", f"not checked: {exc}", data)
    except (CarebirdError, LookupError, ValueError) as exc:
        return Check(name, "fail", f"credentials not accepted: {exc}", data)
    finally:
        if isinstance(connector, Closable):
            connector.close()
    data |= {"external_id": me.external_id, "as": me.handle}
    if _local(me.handle) != _local(account.handle):
        return Check(name, "fail", f"the credentials are @{me.handle}'s, not this account's", data)
    return Check(name, "ok", f"accepted by {account.network} as @{me.handle}", data)


def check_workers(db: Database, now: datetime) -> Check:
    from carebird.live.runners import STALE_AFTER, WorkerBeat

    with db.session() as session:
        rows = list(session.scalars(select(WorkerBeat).order_by(WorkerBeat.heartbeat_at.desc())))
    seen = [
        {
            "name": r.name,
            "kind": r.kind,
            "host": r.host,
            "pid": r.pid,
            "heartbeat_age_seconds": round((now - r.heartbeat_at).total_seconds(), 1),
            "stopped": r.stopped_at is not None,
        }
        for r in rows
    ]
    alive = [s for s, r in zip(seen, rows, strict=True) if _alive(r, now, STALE_AFTER)]
    data = {"alive": len(alive), "runners": seen}
    if alive:
        names = ", ".join(
            f"{a['name']} (beat {a['heartbeat_age_seconds']:.0f} s ago)" for a in alive
        )
        return Check("workers", "ok", f"{len(alive)} alive: {names}", data)
    if not rows:
        return Check(
            "workers",
            "warn",
            "no background runner has ever run: nothing polls the networks or sends replies "
            "(start `carebird worker`, or `carebird serve` without --no-worker)",
            data,
        )
    crashed = [s for s, r in zip(seen, rows, strict=True) if r.stopped_at is None]
    if crashed:
        last = crashed[0]
        return Check(
            "workers",
            "fail",
            f"none alive: {last['name']} last beat "
            f"{last['heartbeat_age_seconds']:.0f} s ago and never said it stopped (killed?)",
            data,
        )
    return Check("workers", "warn", f"none running (the last, {seen[0]['name']}, stopped)", data)


def _alive(row: Any, now: datetime, stale_after: Any) -> bool:
    return bool(row.stopped_at is None and now - row.heartbeat_at <= stale_after)


def check_streams(db: Database, now: datetime) -> list[Check]:
    from carebird.ingest.health import health_report

    with db.session() as session:
        reports = health_report(session, now)
    out = []
    for r in reports:
        status: Status = "ok" if r.status == "ok" else "fail" if r.status == "alarm" else "warn"
        if r.last_success_at is None:
            last = "never polled successfully"
        else:
            last = f"last success {r.lag_seconds:.0f} s ago"
        parts = [last, f"{r.items_total} items", *r.problems]
        if r.last_error and r.consecutive_errors:
            parts.append(f"last error: {r.last_error[:200]}")
        out.append(Check(f"stream:{r.source}", status, "; ".join(parts), _jsonable(r.as_dict())))
    return out


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}
