"""One action on many cases: assign, tag, resolve, mark as not a support request.

Each case goes through the same service function as a single change, so it writes the same
CaseEvents; open inboxes are told by the flow (carebird.flows.casework.bulk_apply). The service
functions raise before writing anything when they refuse, so a case that fails leaves no trace
while the others go through; the outcome is reported per case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.cases import service
from carebird.cases.models import Case
from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.cases.states import Status
from carebird.errors import CarebirdError, InvalidInput

Action = Literal["assign", "tag", "resolve", "not_support"]
ACTIONS: tuple[str, ...] = ("assign", "tag", "resolve", "not_support")
MAX_CASES = 500


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    case_id: int
    ok: bool
    changed: bool = False
    error: str | None = None  # the error class name, as the API reports it
    detail: str | None = None


def _apply(
    session: Session,
    case_id: int,
    action: str,
    actor_id: int | None,
    args: dict[str, Any],
    weights: Mapping[str, float],
) -> bool:
    """Apply the action to one case; return whether anything changed."""
    if action == "assign":
        changes: dict[str, Any] = {k: args[k] for k in ("assignee_id", "team_id") if k in args}
        row = session.execute(
            select(Case.assignee_id, Case.team_id).where(Case.id == case_id)
        ).first()
        service.update_case(session, case_id=case_id, changes=changes, actor_id=actor_id)
        return row is not None and any(row._mapping[k] != v for k, v in changes.items())
    if action == "tag":
        before = set(service.case_tags(session, case_id))
        after = service.set_tags(
            session,
            case_id=case_id,
            add=args.get("tags_add", ()),
            remove=args.get("tags_remove", ()),
            actor_id=actor_id,
        )
        return set(after) != before
    if action == "resolve":
        status = session.scalar(select(Case.status).where(Case.id == case_id))
        if status == Status.RESOLVED:
            return False  # already done: not a failure
        service.change_status(session, case_id=case_id, status="resolved", actor_id=actor_id)
        return True
    category = session.scalar(select(Case.category).where(Case.id == case_id))
    if category == "other":
        return False
    service.correct_category(
        session, case_id=case_id, category="other", actor_id=actor_id, weights=weights
    )
    return True


def _check(action: str, case_ids: Sequence[int], args: dict[str, Any]) -> None:
    if action not in ACTIONS:
        raise InvalidInput(f"unknown bulk action {action!r}: one of {', '.join(ACTIONS)}")
    if not case_ids or len(case_ids) > MAX_CASES:
        raise InvalidInput(f"give 1 to {MAX_CASES} cases")
    if action == "assign" and not {"assignee_id", "team_id"} & set(args):
        raise InvalidInput("assign needs assignee_id or team_id (null to clear)")
    if action == "tag" and not (args.get("tags_add") or args.get("tags_remove")):
        raise InvalidInput("tag needs tags_add or tags_remove")


def bulk_apply(
    session: Session,
    *,
    case_ids: Sequence[int],
    action: str,
    actor_id: int | None,
    assignee_id: int | None = None,
    team_id: int | None = None,
    tags_add: Sequence[str] = (),
    tags_remove: Sequence[str] = (),
    fields: frozenset[str] = frozenset(),
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> list[BulkOutcome]:
    """Apply `action` to each case; one outcome per distinct case, in the order given.

    `fields` names the optional arguments the caller actually sent, so "assignee_id": None
    (unassign) differs from no assignee given.
    """
    args: dict[str, Any] = {"tags_add": list(tags_add), "tags_remove": list(tags_remove)}
    if "assignee_id" in fields:
        args["assignee_id"] = assignee_id
    if "team_id" in fields:
        args["team_id"] = team_id
    ids = list(dict.fromkeys(case_ids))
    _check(action, ids, args)
    outcomes: list[BulkOutcome] = []
    for case_id in ids:
        try:
            changed = _apply(session, case_id, action, actor_id, args, weights)
        except CarebirdError as exc:
            outcomes.append(BulkOutcome(case_id, False, error=type(exc).__name__, detail=str(exc)))
            continue
        outcomes.append(BulkOutcome(case_id, True, changed=changed))
    return outcomes
