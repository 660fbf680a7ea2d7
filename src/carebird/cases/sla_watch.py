"""Deadlines watched: a case whose customer waits on the desk gets an `sla_warning` event at
80 % of its answer target and an `sla_breached` event at 100 %, each once per wait (a new
customer message after our answer starts a new wait), in business time by the SLA policy that
covers it. The periodic job (`jobs/tasks.sla_watch`) runs this; the flow announces the cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.cases.conditions import facts_of
from carebird.cases.log import record
from carebird.cases.models import Case, CaseEvent
from carebird.cases.sla import SlaSetup, add_business_time, waiting_on_us
from carebird.cases.states import ACTIVE, Status
from carebird.ingest.store import chunks

WARN_SHARE = 0.8
KINDS = ("sla_warning", "sla_breached")


@dataclass(frozen=True, slots=True)
class Mark:
    case_id: int
    kind: str  # sla_warning | sla_breached
    due_at: datetime
    waiting_since: datetime


def _marked(session: Session, ids: Sequence[int]) -> set[tuple[int, str, str]]:
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.data).where(
            CaseEvent.case_id.in_(ids), CaseEvent.kind.in_(KINDS)
        )
    )
    return {(c, k, str((d or {}).get("waiting_since"))) for c, k, d in rows}


def mark_deadlines(session: Session, sla: SlaSetup, *, now: datetime) -> list[Mark]:
    """Write the warnings and breaches due by `now` that are not written yet."""
    statuses = [s.value for s in ACTIVE if s != Status.WAITING_THIRD_PARTY]
    ids = list(session.scalars(select(Case.id).where(Case.status.in_(statuses))))
    out: list[Mark] = []
    for part in chunks(ids):
        since, answered = waiting_on_us(session, part)
        if not since:
            continue
        facts = facts_of(session, list(since)) if sla.needs_facts else {}
        done = _marked(session, list(since))
        for case_id, at in sorted(since.items()):
            policy = sla.policy_for(facts.get(case_id))
            target = policy.target(answered_before=case_id in answered)
            due = add_business_time(policy.hours, at, target)
            warn = add_business_time(policy.hours, at, target * WARN_SHARE)
            if due is None or warn is None or now < warn:
                continue
            kind = "sla_breached" if now >= due else "sla_warning"
            if (case_id, kind, at.isoformat()) in done:
                continue
            data = {"waiting_since": at.isoformat(), "due_at": due.isoformat(),
                    "policy": policy.name}  # fmt: skip
            record(session, case_id, kind, new=due.isoformat(), at=now, data=data)
            out.append(Mark(case_id, kind, due, at))
    return out
