"""Incidents as use cases: one reply to all of an incident's customers, status updates, close.

One answer is composed for each case (its own thread in public, or its customer's private
conversation; the template variables filled for that customer; split by the network's length
rules) and queued through the outbox with the key `inc<id>:<purpose>:<case>`: the same send
asked twice — two clicks, two agents, a retry — queues each case's reply once. The sender then
paces them under each account's rate limits and monthly cost cap, like every reply; the total
cost and what the caps leave are told before anything is queued (`preview`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.auth.models import Agent
from carebird.cases import incidents
from carebird.cases.models import Case
from carebird.cases.priority import weights_for
from carebird.cases.states import Status
from carebird.db.base import utcnow
from carebird.errors import CarebirdError, Conflict, InvalidInput
from carebird.flows import casework
from carebird.flows.announce import announce_cases
from carebird.flows.replies import queue_thread
from carebird.ingest.models import NetworkAccount
from carebird.ingest.usage import month_cost, month_of
from carebird.live.events import CaseUpdated
from carebird.reply.composer import Composition, case_variables, compose
from carebird.reply.models import OutboxItem
from carebird.reply.surveying import SurveySetup
from carebird.reply.target import reply_target
from carebird.reply.templates import render

PURPOSE = re.compile(r"[a-z][a-z0-9-]{0,23}")
Prices = Mapping[str, Mapping[str, float]]


@dataclass(slots=True)
class Planned:
    case_id: int
    composition: Composition | None
    problem: str | None = None


@dataclass(slots=True)
class Plan:
    incident_id: int
    purpose: str
    cases: list[Planned] = field(default_factory=list)
    cost: float = 0.0
    over_cap: list[dict[str, Any]] = field(default_factory=list)  # accounts it would exceed

    def as_dict(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "purpose": self.purpose,
            "cases": len(self.cases),
            "ready": sum(1 for p in self.cases if p.problem is None),
            "cost": round(self.cost, 4),
            "over_cap": self.over_cap,
            "problems": [
                {"case_id": p.case_id, "problem": p.problem} for p in self.cases if p.problem
            ],
        }


def _purpose(purpose: str) -> str:
    if not PURPOSE.fullmatch(purpose):
        raise InvalidInput("purpose: lower-case letters, digits and dashes (answer, update-2…)")
    return purpose


def preview(
    session: Session,
    *,
    incident_id: int,
    agent: Agent,
    text: str,
    private: bool = False,
    purpose: str = "answer",
    prices: Prices | None = None,
) -> Plan:
    """What sending `text` to every case of the incident would do and cost; nothing written."""
    incidents.get_incident(session, incident_id)
    plan = Plan(incident_id, _purpose(purpose))
    if not text.strip():
        raise InvalidInput("a reply needs some text")
    spend: dict[int, float] = {}
    for case_id in incidents.case_ids_of(session, incident_id):
        try:
            target = reply_target(session, case_id=case_id, private=private)
            own = render(text, case_variables(target, agent=agent))  # this customer's words
            c = compose(
                session, case_id=case_id, agent=agent, text=own, private=private, prices=prices
            )
        except CarebirdError as exc:
            plan.cases.append(Planned(case_id, None, str(exc)))
            continue
        problem = "personal data in a public reply" if c.blocked else None
        problem = problem or next((p.message for p in c.problems), None)
        plan.cases.append(Planned(case_id, c, problem))
        if problem is None:
            plan.cost += c.cost.cost
            account = session.get(Case, case_id)
            if account is not None and account.account_id is not None:
                spend[account.account_id] = spend.get(account.account_id, 0.0) + c.cost.cost
    month = month_of(utcnow())
    for account_id, cost in sorted(spend.items()):
        acc = session.get(NetworkAccount, account_id)
        if acc is not None and acc.monthly_cap is not None:
            spent = month_cost(session, account_id, month)
            if spent + cost > acc.monthly_cap + 1e-9:
                plan.over_cap.append(
                    {
                        "account_id": account_id,
                        "cap": acc.monthly_cap,
                        "spent": spent,
                        "cost": round(cost, 4),
                    }
                )
    return plan


def reply_to_all(
    session: Session,
    *,
    incident_id: int,
    agent: Agent,
    text: str,
    private: bool = False,
    purpose: str = "answer",
    prices: Prices | None = None,
) -> tuple[Plan, list[OutboxItem]]:
    """Queue the answer to each case of the incident once (key `inc<id>:<purpose>:<case>`).
    Refused (409) when it would pass an account's monthly cap."""
    plan = preview(
        session,
        incident_id=incident_id,
        agent=agent,
        text=text,
        private=private,
        purpose=purpose,
        prices=prices,
    )
    if plan.over_cap:
        raise Conflict("this reply to all would pass an account's monthly API cap")
    queued: list[OutboxItem] = []
    for p in plan.cases:
        if p.problem is not None or p.composition is None:
            continue
        items = queue_thread(
            session,
            case_id=p.case_id,
            parts=[part.text for part in p.composition.parts],
            private=private,
            agent_id=None,  # one answer to many: no colleague's reply to step on per case
            idempotency_key=f"inc{incident_id}:{plan.purpose}:{p.case_id}",
            prices=prices,
        )
        for item in items:
            item.created_by = item.created_by or agent.id  # who sent it, for the timeline
        queued.extend(items[:1])
    return plan, queued


def close_incident(
    session: Session,
    *,
    incident_id: int,
    agent: Agent,
    final_text: str = "",
    private: bool = False,
    prices: Prices | None = None,
    weights: Mapping[str, float] | None = None,
    survey: SurveySetup | None = None,
) -> tuple[incidents.Incident, list[OutboxItem]]:
    """Close the incident: its final message (if any) queued to each case, then every case
    still open resolved as a bulk "resolve" does (surveys, the agents freed for their teams)."""
    queued: list[OutboxItem] = []
    if final_text.strip():
        _, queued = reply_to_all(
            session,
            incident_id=incident_id,
            agent=agent,
            text=final_text,
            private=private,
            purpose="final",
            prices=prices,
        )
    incident = incidents.mark_closed(session, incident_id=incident_id)
    case_ids = incidents.case_ids_of(session, incident_id)
    open_ids = list(
        session.scalars(
            select(Case.id).where(
                Case.id.in_(case_ids), Case.status.not_in((Status.RESOLVED, Status.CLOSED))
            )
        )
    )
    casework.bulk_apply(
        session,
        case_ids=open_ids,
        action="resolve",
        actor_id=agent.id,
        weights=weights or weights_for(None),
        survey=survey,
    )
    announce_cases(session, case_ids, CaseUpdated, {"incident_id": incident_id})
    return incident, queued
