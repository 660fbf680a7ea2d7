"""The composer's suggestions for a case, the agent's choices, and proposed templates."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import Field

from carebird.insights.wait_store import current_wait
from carebird.reply.acknowledging import AckSetup
from carebird.reply.proposals import Proposal, propose_templates
from carebird.reply.suggesting import SuggestionView, suggest_for_case
from carebird.reply.suggestions import Suggester, record_sent, record_use
from carebird.reply.target import reply_target
from carebird.web.api.schemas import Public, Strict
from carebird.web.deps import AgentRole, AppSettings, DbSession, Supervisor
from carebird.web.params import Id

router = APIRouter(prefix="/api", tags=["suggestions"])


def suggester(request: Request) -> Suggester:
    """The process's index of answers (made on first use, kept with the app)."""
    state = request.app.state
    found: Suggester | None = getattr(state, "suggester", None)
    if found is None:
        found = state.suggester = Suggester()
    return found


class UseCreate(Strict):
    kind: Annotated[str, Field(pattern="^(template|article|reply)$")]
    ref: str = Field(min_length=1, max_length=64)
    rank: int = Field(default=0, ge=0, le=100)
    text: str = Field(max_length=20_000)


class UseSent(Strict):
    text: str = Field(max_length=20_000)


class UsePublic(Public):
    id: int
    case_id: int
    kind: str
    ref: str
    rank: int
    inserted_text: str
    sent_text: str | None
    kept: float | None
    at: datetime


@router.get("/cases/{case_id}/suggestions", response_model=list[SuggestionView])
def case_suggestions(
    request: Request, case_id: Id, agent: AgentRole, session: DbSession, settings: AppSettings
) -> list[SuggestionView]:
    """The three answers ranked for the case, each with its reason, ready to insert."""
    return suggest_for_case(
        session,
        suggester=suggester(request),
        case_id=case_id,
        agent=agent,
        wait=replace(AckSetup.from_settings(settings), current_wait=current_wait),
        prices=settings.prices,
        public_url=settings.public_url,
    )


@router.post("/cases/{case_id}/suggestions/uses", response_model=UsePublic, status_code=201)
def use_suggestion(case_id: Id, body: UseCreate, agent: AgentRole, session: DbSession) -> object:
    """The agent inserted a suggestion: recorded, it counts for similar messages."""
    target = reply_target(session, case_id=case_id, private=False)
    return record_use(
        session,
        case_id=case_id,
        agent_id=agent.id,
        kind=body.kind,
        ref=body.ref,
        rank=body.rank,
        message_text=target.message.text,
        inserted_text=body.text,
    )


@router.put("/suggestion-uses/{use_id}/sent", response_model=UsePublic)
def suggestion_sent(use_id: Id, body: UseSent, agent: AgentRole, session: DbSession) -> object:
    """What was sent after the insertion (the agent's edits)."""
    return record_sent(session, use_id=use_id, agent_id=agent.id, sent_text=body.text)


@router.get("/suggestions/proposals", response_model=list[Proposal])
def template_proposals(supervisor: Supervisor, session: DbSession) -> list[Proposal]:
    """Groups of similar answers typed by hand this week: templates worth writing."""
    return propose_templates(session)
