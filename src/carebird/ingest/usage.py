"""The cost meter: every billable network call counted per account and month, priced from
the desk's table, with a warning before the account's cap and a clean stop at it.

Counts are written as they happen (one small transaction per call, not with the batch): a call
the network has billed stays billed even if the batch it fetched is lost in a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from carebird.db.database import Database
from carebird.errors import BudgetExhausted
from carebird.ingest.calls import RateLimit, affordable_units
from carebird.ingest.models import ApiUsage

log = logging.getLogger(__name__)
WARN_SHARE = 0.8  # warn once the month's spending passes this share of the cap

# Dollars per unit; X bills reads and writes, Mastodon and Bluesky are free. Overridden by the
# `prices` setting (per network, per operation).
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "x": {
        "post_read": 0.005,
        "owned_read": 0.001,
        "user_read": 0.010,
        "reply": 0.015,
        "reply_url": 0.200,
        "dm_send": 0.015,
        "media_upload": 0.0,
    },
}


def prices_for(
    network: str, overrides: Mapping[str, Mapping[str, float]] | None = None
) -> dict[str, float]:
    table = dict(DEFAULT_PRICES.get(network, {}))
    table.update((overrides or {}).get(network, {}))
    return table


def month_of(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


def month_cost(session: Session, account_id: int, month: str) -> float:
    total = session.scalar(
        select(func.coalesce(func.sum(ApiUsage.cost), 0.0)).where(
            ApiUsage.account_id == account_id, ApiUsage.month == month
        )
    )
    return float(total or 0.0)


def usage_report(session: Session, account_id: int, month: str) -> dict[str, Any]:
    rows = session.scalars(
        select(ApiUsage)
        .where(ApiUsage.account_id == account_id, ApiUsage.month == month)
        .order_by(ApiUsage.op)
    ).all()
    return {
        "month": month,
        "cost": round(sum(r.cost for r in rows), 4),
        "calls": sum(r.calls for r in rows),
        "ops": {r.op: {"calls": r.calls, "units": r.units, "cost": round(r.cost, 4)} for r in rows},
    }


class DbMeter:
    """A `CallMeter` for one account that persists its counts and enforces its cap."""

    def __init__(
        self,
        db: Database,
        *,
        account_id: int,
        prices: Mapping[str, float],
        cap: float | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.account_id = account_id
        self.prices = dict(prices)
        self.cap = cap
        self.clock = clock
        self.limits: dict[str, RateLimit] = {}
        self._month = ""
        self._spent = 0.0
        self._warned = False

    def spent(self) -> float:
        """This month's spending (re-read when the month turns)."""
        month = month_of(self.clock())
        if month != self._month:
            with self.db.session() as session:
                self._spent = month_cost(session, self.account_id, month)
            self._month, self._warned = month, False
        return self._spent

    def cost_of(self, op: str, units: int = 1) -> float:
        return self.prices.get(op, 0.0) * units

    def allow(self, op: str, units: int = 1) -> None:
        if self.cap is None:
            return
        if self.spent() + self.cost_of(op, units) > self.cap + 1e-9:
            raise BudgetExhausted(
                f"monthly API cap reached: ${self._spent:.2f} of ${self.cap:.2f} spent "
                f"({op} would cost ${self.cost_of(op, units):.3f})"
            )

    def affordable(self, *ops: str) -> int | None:
        return affordable_units(self.cap, self.spent(), self.prices, ops)

    def record(self, op: str, units: int = 1) -> None:
        self.spent()  # roll the month if needed
        cost = self.cost_of(op, units)
        values = {
            "account_id": self.account_id,
            "month": self._month,
            "op": op,
            "calls": 1,
            "units": units,
            "cost": cost,
        }
        insert = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
        stmt = insert(ApiUsage).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["account_id", "month", "op"],
            set_={
                "calls": ApiUsage.calls + 1,
                "units": ApiUsage.units + units,
                "cost": ApiUsage.cost + cost,
            },
        )
        with self.db.session() as session, session.begin():
            session.execute(stmt)
        self._spent += cost
        if self.cap and not self._warned and self._spent >= WARN_SHARE * self.cap:
            self._warned = True
            log.warning(
                "account %s has spent $%.2f of its $%.2f monthly API cap",
                self.account_id,
                self._spent,
                self.cap,
            )

    def observe(self, endpoint: str, limit: RateLimit) -> None:
        self.limits[endpoint] = limit

    def near_cap(self) -> bool:
        return bool(self.cap) and self.spent() >= WARN_SHARE * (self.cap or 0)
