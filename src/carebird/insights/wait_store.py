"""The live expected wait: what the desk knows now fed to `estimate_wait`, one stored row per
account, refreshed by a job every few minutes (jobs/schedule.py: `refresh_waits`).

Readers — the inbox header, the acknowledgements, the public JSON, badge and page — read the
stored row (`stored_wait`: one primary-key lookup) and never compute: nothing an anonymous
caller does costs the desk more than that. Several processes may refresh at once: each row is
written by one `INSERT … ON CONFLICT (account_id) DO UPDATE`, so they never collide.

Live inputs per account (carebird.insights.wait): its support cases (category other than
`other`) opened within `LOOKBACK`; the answered ones' waits measured in the account's business
hours (an acknowledgement is no answer); the unanswered active ones as the backlog; the agents
whose status is `available`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, String, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from carebird.auth.models import Agent
from carebird.cases.calendars import Calendar, account_calendar
from carebird.cases.models import Case
from carebird.cases.states import ACTIVE
from carebird.db.base import Base, as_utc
from carebird.errors import InvalidInput
from carebird.ingest.models import Message, NetworkAccount
from carebird.insights.wait import Answered, WaitEstimate, WaitInputs, estimate_wait

LOOKBACK = timedelta(days=3)  # the cases the live inputs are read from
STALE_AFTER = timedelta(minutes=30)  # an older row is not shown (the jobs have stopped)
ACK = "acknowledgement"  # Message.kind of an automatic acknowledgement (no answer)
AGENT_ROLES = ("agent", "supervisor", "admin")


class WaitRow(Base):
    """The latest expected wait of one account."""

    __tablename__ = "wait_estimates"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("network_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    computed_at: Mapped[datetime]
    seconds: Mapped[float | None]  # wall clock from computed_at; None: closed for weeks
    open_seconds: Mapped[float]
    opens_at: Mapped[datetime | None]  # closed at computed_at: the next opening
    basis: Mapped[str] = mapped_column(String(16))
    sample: Mapped[int]
    backlog: Mapped[int]
    agents: Mapped[int | None]


@dataclass(frozen=True, slots=True)
class StoredWait:
    account_id: int
    computed_at: datetime
    seconds: float | None
    open_seconds: float
    opens_at: datetime | None
    basis: str
    sample: int
    backlog: int
    agents: int | None

    @property
    def is_open(self) -> bool:
        return self.opens_at is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "computed_at": self.computed_at.isoformat(),
            "open": self.is_open,
            "seconds": self.seconds,
            "open_seconds": self.open_seconds,
            "opens_at": self.opens_at.isoformat() if self.opens_at else None,
            "basis": self.basis,
            "sample": self.sample,
            "backlog": self.backlog,
            "agents": self.agents,
        }


def available_agents(session: Session) -> int:
    """Active agents (not viewers) whose status is `available`."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Agent)
            .where(
                Agent.active.is_(True),
                Agent.status == "available",
                Agent.role.in_(AGENT_ROLES),
            )
        )
        or 0
    )


def live_inputs(
    session: Session,
    *,
    account_id: int,
    now: datetime,
    calendar: Calendar | None,
    agents: int | None,
    default_seconds: float,
) -> WaitInputs:
    """What the desk knows now about one account's support cases (see the module)."""
    first_in = (
        select(func.min(Message.created_at))
        .where(Message.case_id == Case.id, Message.direction == "in")
        .scalar_subquery()
    )
    first_out = (
        select(func.min(Message.created_at))
        .where(Message.case_id == Case.id, Message.direction == "out", Message.kind != ACK)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Case.status, first_in, first_out).where(
            Case.account_id == account_id,
            Case.created_at >= now - LOOKBACK,
            or_(Case.category.is_(None), Case.category != "other"),
        )
    ).all()
    answered, waiting = [], []
    for status, came, went in rows:
        if came is None:
            continue
        came = as_utc(came)
        if went is not None:
            went = as_utc(went)
            waited = calendar.between(came, went) if calendar else went - came
            answered.append(Answered(went, waited.total_seconds()))
        elif status in ACTIVE:
            waiting.append(came)
    return WaitInputs(
        now=now,
        answered=answered,
        waiting=waiting,
        agents_available=agents,
        calendar=calendar,
        default_seconds=default_seconds,
    )


def _upsert(session: Session, account_id: int, estimate: WaitEstimate, now: datetime) -> None:
    values = {
        "account_id": account_id,
        "computed_at": now,
        "seconds": estimate.seconds,
        "open_seconds": estimate.open_seconds,
        "opens_at": estimate.opens_at,
        "basis": estimate.basis,
        "sample": estimate.sample,
        "backlog": estimate.backlog,
        "agents": estimate.agents,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(WaitRow).values(values)
    changed = {k: getattr(stmt.excluded, k) for k in values if k != "account_id"}
    session.execute(stmt.on_conflict_do_update(index_elements=["account_id"], set_=changed))


def refresh_waits(
    session: Session, *, desk: Calendar | None, now: datetime, default_seconds: float = 3600.0
) -> dict[int, WaitEstimate]:
    """Estimate and store every active account's expected wait now; {account id: estimate}."""
    agents = available_agents(session)
    out: dict[int, WaitEstimate] = {}
    accounts = session.execute(
        select(NetworkAccount.id, NetworkAccount.options)
        .where(NetworkAccount.active.is_(True))
        .order_by(NetworkAccount.id)
    ).all()
    for account_id, options in accounts:
        calendar = desk
        if desk is not None:
            try:
                calendar = account_calendar(desk, options)
            except InvalidInput:  # written around the checks: the desk's calendar rules
                calendar = desk
        inputs = live_inputs(
            session,
            account_id=account_id,
            now=now,
            calendar=calendar,
            agents=agents,
            default_seconds=default_seconds,
        )
        out[account_id] = estimate_wait(inputs)
        _upsert(session, account_id, out[account_id], now)
    session.expire_all()  # the upserts bypassed the identity map
    return out


def stored_wait(
    session: Session, account_id: int, *, now: datetime | None = None
) -> StoredWait | None:
    """The account's stored estimate (one primary-key read); None when there is none yet or,
    given `now`, it is older than STALE_AFTER (the background work has stopped)."""
    row = session.get(WaitRow, account_id)
    if row is None:
        return None
    if now is not None and now - row.computed_at > STALE_AFTER:
        return None
    return StoredWait(
        account_id=row.account_id,
        computed_at=row.computed_at,
        seconds=row.seconds,
        open_seconds=row.open_seconds,
        opens_at=row.opens_at,
        basis=row.basis,
        sample=row.sample,
        backlog=row.backlog,
        agents=row.agents,
    )


def stored_waits(session: Session, *, now: datetime) -> dict[int, StoredWait]:
    """Every account's fresh stored estimate (the inbox header)."""
    ids = session.scalars(select(WaitRow.account_id).order_by(WaitRow.account_id)).all()
    found = {i: stored_wait(session, i, now=now) for i in ids}
    return {i: w for i, w in found.items() if w is not None}


def current_wait(session: Session, account_id: int, now: datetime) -> timedelta | None:
    """The wait an acknowledgement states: the stored estimate's, in open time when the desk
    is closed ("… within ~25 min of opening"); None without a fresh estimate."""
    stored = stored_wait(session, account_id, now=now)
    if stored is None:
        return None
    seconds = stored.seconds if stored.is_open else stored.open_seconds
    return timedelta(seconds=seconds) if seconds is not None else None
