"""Deadlines watched: a case gets an `sla_warning` event at 80 % of a target and an
`sla_breached` event at 100 %, each once per clock, in business time (the case's account's
calendar, else the desk's) by the SLA policy that covers it. The targets (the event's
`data["target"]`): `first_response` / `next_response` while the customer waits on us (a new
customer message after our answer starts a new wait) and `resolution` (from the opening or
reopening, paused while the case waits on the customer). A breach carries out the policy's
`on_breach` (priority boost, to the team's lead, to another team), each written as a case event.

Two watchers running at once write each mark once: on PostgreSQL the pass holds a transaction
advisory lock, so the second one reads the first one's marks; on SQLite it takes the write lock
first (one writer at a time).
The periodic job (`jobs/tasks.watch_deadlines`) runs this; the flow announces and e-mails.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from carebird.auth.models import Team
from carebird.cases import service
from carebird.cases.calendars import Calendar
from carebird.cases.conditions import facts_of
from carebird.cases.log import record
from carebird.cases.models import Case, CaseEvent
from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.cases.routing import ensure_teams
from carebird.cases.scoring import score_cases
from carebird.cases.sla import SlaPolicy, SlaSetup, waiting_on_us
from carebird.cases.sla_clock import clocks
from carebird.cases.states import ACTIVE, Status
from carebird.db.session import take_sqlite_write_lock
from carebird.ingest.store import chunks

WARN_SHARE = 0.8
KINDS = ("sla_warning", "sla_breached")
# pg_advisory_xact_lock key of the watcher: "cb-sla-w" read as a big-endian 63-bit integer.
LOCK_KEY = int.from_bytes(b"cb-sla-w", "big") & 0x7FFF_FFFF_FFFF_FFFF


@dataclass(frozen=True, slots=True)
class Mark:
    case_id: int
    kind: str  # sla_warning | sla_breached
    due_at: datetime
    waiting_since: datetime  # when the clock started (the wait, or the opening/reopening)
    target: str = "first_response"  # first_response | next_response | resolution
    policy: str = "default"
    team_id: int | None = None
    escalated: tuple[str, ...] = ()  # what the breach did: priority, assigned, team


def _family(target: str) -> str:
    return "resolution" if target == "resolution" else "response"


def _marked(session: Session, ids: Sequence[int]) -> set[tuple[int, str, str, str]]:
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.data).where(
            CaseEvent.case_id.in_(ids), CaseEvent.kind.in_(KINDS)
        )
    )
    out = set()
    for c, k, d in rows:
        d = d or {}
        target = str(d.get("target") or "first_response")
        out.add((c, k, _family(target), str(d.get("since") or d.get("waiting_since"))))
    return out


def _lock(session: Session) -> None:
    """One watcher pass at a time, held until commit: the next one reads the marks written."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    else:  # a write first: SQLite's write lock, taken before anything is read
        take_sqlite_write_lock(session)


@dataclass(frozen=True, slots=True)
class _Clock:
    target: str
    since: datetime
    due: datetime | None
    warn: datetime | None


def _clocks_of(
    policy: SlaPolicy,
    cal: Calendar,
    status: str,
    waiting: datetime | None,
    answered: bool,
    resolution: Any,
) -> list[_Clock]:
    out = []
    if waiting is not None and status != Status.WAITING_THIRD_PARTY:
        amount = policy.target(answered_before=answered)
        name = policy.target_name(answered_before=answered)
        out.append(
            _Clock(name, waiting, cal.add(waiting, amount), cal.add(waiting, amount * WARN_SHARE))
        )
    if policy.resolution is not None and resolution is not None:
        due = resolution.due(cal, policy.resolution)
        warn = resolution.due(cal, policy.resolution * WARN_SHARE)
        out.append(_Clock("resolution", resolution.since, due, warn))
    return out


def _active(session: Session, case_ids: Sequence[int] | None) -> dict[int, Any]:
    stmt = select(Case.id, Case.status, Case.account_id, Case.team_id).where(
        Case.status.in_([s.value for s in ACTIVE])
    )
    if case_ids is None:
        return {r.id: r for r in session.execute(stmt)}
    # In parts: every active case may be due (a first pass), more ids than a statement takes.
    return {r.id: r for p in chunks(case_ids) for r in session.execute(stmt.where(Case.id.in_(p)))}


def _due(
    session: Session, sla: SlaSetup, cases: Mapping[int, Any], now: datetime
) -> Iterator[tuple[int, str, _Clock, SlaPolicy]]:
    """The marks due by `now` and not written yet: (case, kind, clock, policy)."""
    calendars = sla.calendars(session)
    for part in chunks(sorted(cases)):
        since, answered = waiting_on_us(session, part)
        running = clocks(session, part) if sla.has_resolution else {}
        if not since and not running:
            continue
        facts = facts_of(session, part) if sla.needs_facts else {}
        done = _marked(session, part)
        for case_id in part:
            row = cases[case_id]
            policy = sla.policy_for(facts.get(case_id))
            cal = calendars.of(row.account_id)
            for c in _clocks_of(
                policy, cal, row.status, since.get(case_id), case_id in answered,
                running.get(case_id),
            ):  # fmt: skip
                if c.due is None or c.warn is None or now < c.warn:
                    continue
                kind = "sla_breached" if now >= c.due else "sla_warning"
                if (case_id, kind, _family(c.target), c.since.isoformat()) in done:
                    continue
                done.add((case_id, kind, _family(c.target), c.since.isoformat()))
                yield case_id, kind, c, policy


def due_cases(session: Session, sla: SlaSetup, *, now: datetime) -> list[int]:
    """The active cases with a mark due by `now` not written yet, read without any lock: the
    watcher's long scan, kept out of the write transaction (on SQLite, the intake's writes
    wait for that one)."""
    return sorted({case_id for case_id, *_ in _due(session, sla, _active(session, None), now)})


def mark_deadlines(
    session: Session,
    sla: SlaSetup,
    *,
    now: datetime,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    case_ids: Sequence[int] | None = None,
) -> list[Mark]:
    """Write the warnings and breaches due by `now` that are not written yet (of `case_ids`'
    cases, e.g. from `due_cases`: checked again here, under the lock), and carry out the
    breached policies' escalations."""
    _lock(session)
    out: list[Mark] = []
    for case_id, kind, c, policy in _due(session, sla, _active(session, case_ids), now):
        due = c.due
        assert due is not None  # _due yields clocks that have a due time only
        data = {"target": c.target, "waiting_since": c.since.isoformat(),
                "since": c.since.isoformat(), "due_at": due.isoformat(),
                "policy": policy.name}  # fmt: skip
        record(session, case_id, kind, new=due.isoformat(), at=now, data=data)
        escalated: tuple[str, ...] = ()
        if kind == "sla_breached" and policy.on_breach is not None:
            escalated = escalate(session, case_id, policy, sla, weights=weights)
        team_id = session.scalar(select(Case.team_id).where(Case.id == case_id))
        out.append(Mark(case_id, kind, due, c.since, c.target, policy.name, team_id, escalated))
    return out


def escalate(
    session: Session,
    case_id: int,
    policy: SlaPolicy,
    sla: SlaSetup,
    *,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> tuple[str, ...]:
    """The policy's `on_breach`: each change written as a case event (data: the policy)."""
    rule = policy.on_breach
    if rule is None:
        return ()
    case = session.get_one(Case, case_id)
    done: list[str] = []
    why = {"reason": "sla_breached", "policy": policy.name}
    if rule.priority_boost:
        old = case.priority_boost
        case.priority_boost = old + rule.priority_boost
        record(session, case_id, "priority_boost", old=f"{old:g}",
               new=f"{case.priority_boost:g}", data=why)  # fmt: skip
        session.flush()
        score_cases(session, [case_id], weights=weights)
        done.append("priority")
    team_id = case.team_id
    if rule.team:
        by_name = select(Team.id).where(func.lower(Team.name) == rule.team.lower())
        if session.scalar(by_name) is None:
            ensure_teams(session, [rule.team])  # escalating to a team creates it if missing
        team_id = session.scalar(by_name)
    agent_id = case.assignee_id
    if rule.assign_to_lead and team_id is not None:
        lead = session.scalar(select(Team.lead_id).where(Team.id == team_id))
        agent_id = lead if lead is not None else agent_id
    changes = (("team", case.team_id, team_id), ("assigned", case.assignee_id, agent_id))
    moved = [name for name, old, new in changes if old != new]
    if moved:
        service.assign(session, case_id=case_id, agent_id=agent_id, team_id=team_id,
                       actor_id=None)  # fmt: skip
        record(session, case_id, "escalated", new=policy.name, data={**why, "did": moved})
        done += moved
    return tuple(done)
