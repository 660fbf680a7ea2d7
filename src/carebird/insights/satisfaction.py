"""Customer satisfaction from the surveys answered after resolutions (carebird.reply.survey).

For a period (the surveys offered in [start, end): when their cases were resolved) and
filters, per agent (the case's assignee at resolution, else who resolved it), category and
account:

    surveys        offered (queued)
    sent           their private message went out (outbox row "sent")
    responses      answered
    response_rate  responses / sent (None when nothing was sent)
    mean           the mean score, 1–5 (None without a response)
    csat           the share of responses scoring 4 or 5 ("satisfied"), 0–1
    distribution   {"1": n, …, "5": n}

Everything is derived from the survey rows and the outbox, never from kept counters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.auth.models import Agent
from carebird.errors import InvalidInput
from carebird.ingest.models import NetworkAccount
from carebird.insights.query import check_year
from carebird.reply.models import OutboxItem
from carebird.reply.survey import SCORES, Survey

SATISFIED = 4  # a score of 4 or 5 counts as satisfied (the usual CSAT reading)


@dataclass(frozen=True, slots=True)
class SatisfactionFilters:
    account_id: int | None = None
    network: str | None = None
    team_id: int | None = None
    agent_id: int | None = None
    category: str | None = None
    language: str | None = None  # fr | en: the survey's


@dataclass(slots=True)
class _Tally:
    surveys: int = 0
    sent: int = 0
    scores: list[int] = field(default_factory=list)

    def add(self, sent: bool, score: int | None) -> None:
        self.surveys += 1
        self.sent += int(sent)
        if score is not None:
            self.scores.append(score)

    def as_dict(self) -> dict[str, Any]:
        n = len(self.scores)
        return {
            "surveys": self.surveys,
            "sent": self.sent,
            "responses": n,
            "response_rate": round(n / self.sent, 4) if self.sent else None,
            "mean": round(sum(self.scores) / n, 3) if n else None,
            "csat": round(sum(s >= SATISFIED for s in self.scores) / n, 4) if n else None,
            "distribution": {str(k): self.scores.count(k) for k in SCORES},
        }


def _rows(
    session: Session, start: datetime | None, end: datetime | None, f: SatisfactionFilters
) -> Iterable[Any]:
    stmt = (
        select(
            Survey.agent_id,
            Survey.category,
            Survey.account_id,
            Survey.score,
            (OutboxItem.status == "sent").label("sent"),
        )
        .outerjoin(OutboxItem, OutboxItem.id == Survey.outbox_id)
        .order_by(Survey.id)
    )
    conditions = {
        Survey.account_id: f.account_id,
        Survey.network: f.network,
        Survey.team_id: f.team_id,
        Survey.agent_id: f.agent_id,
        Survey.category: f.category,
        Survey.language: f.language,
    }
    for column, value in conditions.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if start is not None:
        stmt = stmt.where(Survey.created_at >= start)
    if end is not None:
        stmt = stmt.where(Survey.created_at < end)
    return session.execute(stmt.execution_options(yield_per=5000))


def satisfaction_summary(
    session: Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    filters: SatisfactionFilters | None = None,
) -> dict[str, Any]:
    """{overall, by_agent, by_category, by_account, responses, sent, surveys}; each group a
    tally (see the module's docstring) with its key and name."""
    overall = _Tally()
    groups: dict[str, dict[Hashable, _Tally]] = {
        "agent": defaultdict(_Tally),
        "category": defaultdict(_Tally),
        "account": defaultdict(_Tally),
    }
    for row in _rows(session, start, end, filters or SatisfactionFilters()):
        sent = bool(row.sent)
        overall.add(sent, row.score)
        groups["agent"][row.agent_id].add(sent, row.score)
        groups["category"][row.category].add(sent, row.score)
        groups["account"][row.account_id].add(sent, row.score)
    agents = _names(session, Agent, Agent.name, groups["agent"])
    accounts = _names(session, NetworkAccount, NetworkAccount.handle, groups["account"])
    whole = overall.as_dict()
    return {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "overall": whole,
        "by_agent": [
            {"agent_id": key, "agent": agents.get(key), **tally.as_dict()}
            for key, tally in _ordered(groups["agent"])
        ],
        "by_category": [
            {"category": key, **tally.as_dict()} for key, tally in _ordered(groups["category"])
        ],
        "by_account": [
            {"account_id": key, "account": accounts.get(key), **tally.as_dict()}
            for key, tally in _ordered(groups["account"])
        ],
        "surveys": whole["surveys"],
        "sent": whole["sent"],
        "responses": whole["responses"],
    }


def _ordered(group: dict[Hashable, _Tally]) -> list[tuple[Any, _Tally]]:
    """Most responses first, then by key (None last): a stable order for pages and tests."""
    return sorted(group.items(), key=lambda kv: (-len(kv[1].scores), kv[0] is None, str(kv[0])))


def _names(session: Session, model: Any, column: Any, keys: Iterable[Hashable]) -> dict[Any, str]:
    ids = [k for k in keys if k is not None]
    if not ids:
        return {}
    return {
        row[0]: row[1] for row in session.execute(select(model.id, column).where(model.id.in_(ids)))
    }


def parse_moment(text: str | None, *, what: str) -> datetime | None:
    """A period bound from a query or a command line: "2026-12-01" (midnight UTC) or an ISO
    time (UTC unless it says otherwise); empty: none. InvalidInput otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{what}: a date (2026-12-01) or an ISO time") from None
    check_year(moment, what)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
