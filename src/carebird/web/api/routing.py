"""Routing rules: the configuration's (read-only here) and the desk's, and their dry run."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Response
from fastapi import status as http
from pydantic import BaseModel, Field

from carebird.cases import routing
from carebird.web.deps import DbSession, Routing, Supervisor
from carebird.web.params import Id

router = APIRouter(prefix="/api/routing", tags=["routing"])


class RulePublic(BaseModel):
    id: int | None = Field(description="null for the configuration's rules (read-only here)")
    source: Literal["file", "desk"]
    position: int = Field(description="the order of evaluation: the file's rules come first")
    rule: routing.RuleSpec


class DryRunRequest(BaseModel):
    rule: routing.RuleSpec
    days: int = Field(default=7, ge=1, le=90)


class DryRunCase(BaseModel):
    case_id: int
    subject: str
    category: str | None
    language: str | None
    network: str
    created_at: datetime


class DryRunResult(BaseModel):
    days: int
    matched: int = Field(description="cases opened in the period the rule matches")
    cases: list[DryRunCase] = Field(description="the newest of them (200 at most)")


def _rules(session: DbSession, setup: routing.RoutingSetup) -> list[RulePublic]:
    out = [RulePublic(id=None, source="file", position=i, rule=r.spec)
           for i, r in enumerate(setup.rules)]  # fmt: skip
    for n, r in enumerate(routing.desk_rules(session), len(out)):
        out.append(RulePublic(id=r.id, source="desk", position=n, rule=r.spec))
    return out


@router.get("/rules", response_model=list[RulePublic])
def list_rules(agent: Supervisor, session: DbSession, setup: Routing) -> list[RulePublic]:
    """Every rule in the order they are tried: the configuration's, then the desk's."""
    return _rules(session, setup)


@router.post("/rules", response_model=RulePublic, status_code=http.HTTP_201_CREATED)
def create_rule(
    body: routing.RuleSpec, agent: Supervisor, session: DbSession, setup: Routing
) -> RulePublic:
    """Add a rule after the desk's others."""
    rule_id = routing.add_rule(session, body)
    return next(r for r in _rules(session, setup) if r.id == rule_id)


@router.put("/rules/{rule_id}", response_model=RulePublic)
def replace_rule(
    rule_id: Id, body: routing.RuleSpec, agent: Supervisor, session: DbSession, setup: Routing
) -> RulePublic:
    """Replace a desk rule (the configuration's are edited in its file)."""
    routing.replace_rule(session, rule_id, body)
    return next(r for r in _rules(session, setup) if r.id == rule_id)


@router.delete("/rules/{rule_id}", status_code=http.HTTP_204_NO_CONTENT)
def delete_rule(rule_id: Id, agent: Supervisor, session: DbSession) -> Response:
    routing.delete_rule(session, rule_id)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.post("/dry-run", response_model=DryRunResult)
def dry_run(
    body: Annotated[DryRunRequest, Body()], agent: Supervisor, session: DbSession
) -> DryRunResult:
    """What this rule would have matched among the cases opened in the last `days` days;
    nothing is changed."""
    matched, shown = routing.dry_run(session, body.rule, days=body.days)
    return DryRunResult(
        days=body.days,
        matched=matched,
        cases=[DryRunCase.model_validate(m, from_attributes=True) for m in shown],
    )
