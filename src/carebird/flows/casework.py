"""An agent's work on cases: change fields, notes, merge and split, one action on many cases.

Each function is the whole use case — the cases service, the search index where messages move,
and the live events — so the web API, the pages and any other caller leave the desk the same.
Re-scoring uses the desk's configured priority weights, passed by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.auth.models import Agent
from carebird.cases import assignment, bulk, merging, notes, service
from carebird.cases.models import Case
from carebird.cases.routing import RoutingSetup, route
from carebird.cases.search import index_cases
from carebird.flows.announce import announce_cases, case_payloads
from carebird.live.events import CaseUpdated, NoteNew, publish
from carebird.reply.models import OutboxItem
from carebird.reply.surveying import SurveySetup, offer_surveys


def update_case(
    session: Session,
    *,
    case_id: int,
    changes: dict[str, Any],
    actor_id: int | None,
    weights: Mapping[str, float],
    routing: RoutingSetup,
    survey: SurveySetup | None = None,
) -> Case:
    """Status, assignee, team, tags, category: only the keys given are touched. A corrected
    category runs the routing rules again; a case its agent resolves or closes frees them for
    their team's waiting cases; a case resolved gets its satisfaction survey when its account
    sends them (`survey`: where the survey page is; None: no survey)."""
    before = session.get(Case, case_id)
    holder = before.assignee_id if before is not None else None
    case = service.update_case(
        session, case_id=case_id, changes=changes, actor_id=actor_id, weights=weights
    )
    if changes.get("category") is not None:
        route(session, [case_id], routing, weights=weights)
    if survey is not None and changes.get("status") == "resolved":
        offer_surveys(session, [case_id], survey, actor_id=actor_id)
    done = case.status not in assignment.OPEN_STATUSES
    handed = assignment.fill_teams_of(session, [holder]) if done else []
    announce_cases(session, [case_id, *handed])
    return case


def add_note(session: Session, *, case_id: int, body: str, agent_id: int | None) -> notes.CaseNote:
    note = notes.add_note(session, case_id=case_id, body=body, agent_id=agent_id)
    announce_cases(session, [case_id], NoteNew)
    return note


def _moved(session: Session, *case_ids: int) -> None:
    """Messages moved between cases: their search entries and open inboxes follow."""
    index_cases(session, case_ids)
    for case_id in case_ids:
        announce_cases(session, [case_id])


def merge_cases(
    session: Session,
    *,
    case_id: int,
    other_id: int,
    actor: Agent,
    force: bool,
    weights: Mapping[str, float],
) -> Case:
    """Merge `other_id` into `case_id`; its queued replies follow it."""
    case = merging.merge_cases(
        session,
        case_id=case_id,
        other_id=other_id,
        actor=actor,
        force=force,
        also_move=(OutboxItem,),
        weights=weights,
    )
    _moved(session, case_id, other_id)
    return case


def split_case(
    session: Session,
    *,
    case_id: int,
    message_ids: Sequence[int],
    actor_id: int | None,
    weights: Mapping[str, float],
) -> Case:
    new = merging.split_case(
        session, case_id=case_id, message_ids=message_ids, actor_id=actor_id, weights=weights
    )
    _moved(session, case_id, new.id)
    return new


def bulk_apply(
    session: Session,
    *,
    case_ids: Sequence[int],
    action: str,
    actor_id: int | None,
    weights: Mapping[str, float],
    assignee_id: int | None = None,
    team_id: int | None = None,
    tags_add: Sequence[str] = (),
    tags_remove: Sequence[str] = (),
    fields: frozenset[str] = frozenset(),
    survey: SurveySetup | None = None,
) -> list[bulk.BulkOutcome]:
    """One action on many cases (see `cases.bulk`); the cases that changed are announced. The
    cases "resolve" resolved get their satisfaction survey (as `update_case`)."""
    holders = [] if action != "resolve" else list(
        session.scalars(select(Case.assignee_id).where(Case.id.in_(case_ids)))
    )  # fmt: skip
    outcomes = bulk.bulk_apply(
        session,
        case_ids=case_ids,
        action=action,
        actor_id=actor_id,
        assignee_id=assignee_id,
        team_id=team_id,
        tags_add=tags_add,
        tags_remove=tags_remove,
        fields=fields,
        weights=weights,
    )
    changed = [o.case_id for o in outcomes if o.changed]
    if action == "resolve" and survey is not None:
        offer_surveys(session, changed, survey, actor_id=actor_id)
    if action == "resolve":  # their agents are free for their teams' waiting cases
        changed += assignment.fill_teams_of(session, holders)
    payloads = case_payloads(session, changed)
    # One publication at the end: the event lock is then held only until this commit.
    publish(session, *(CaseUpdated(payloads[i]) for i in changed if i in payloads))
    return outcomes
