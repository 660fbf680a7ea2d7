"""Incidents (many customers, one cause): list and read them, make, merge, split and close them
by hand, and answer all their customers at once (carebird.cases.incidents, flows.incidents)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi import status as http
from pydantic import BaseModel, Field

from carebird.cases import incidents
from carebird.flows import incidents as flows
from carebird.flows.announce import announce_cases
from carebird.live.events import CaseUpdated
from carebird.reply.surveying import SurveySetup
from carebird.web.deps import AgentRole, AppSettings, DbSession, Viewer, Weights
from carebird.web.params import Id, IdField

router = APIRouter(prefix="/api/incidents", tags=["incidents"])
CaseIds = list[IdField]


class CreateRequest(BaseModel):
    title: str = Field(max_length=400)
    case_ids: CaseIds = Field(min_length=1, max_length=5000)


class CasesRequest(BaseModel):
    case_ids: CaseIds = Field(min_length=1, max_length=5000)


class SplitRequest(CasesRequest):
    title: str | None = Field(default=None, max_length=400, description="null: out of it")


class MergeRequest(BaseModel):
    into_id: IdField


class RenameRequest(BaseModel):
    title: str = Field(max_length=400)


class ReplyRequest(BaseModel):
    text: str = Field(max_length=20_000)
    private: bool = False
    purpose: str = Field(default="answer", max_length=24, description="answer, update-2…")


class CloseRequest(BaseModel):
    final_text: str = Field(default="", max_length=20_000)
    private: bool = False


def _row(session: DbSession, incident_id: int) -> dict[str, Any]:
    incidents.get_incident(session, incident_id)
    return incidents.list_incidents(session, ids=[incident_id])[0].as_dict()


@router.get("")
def list_all(
    agent: Viewer,
    session: DbSession,
    status: str | None = Query(default=None, pattern="^(open|closed)$"),
) -> list[dict[str, Any]]:
    """Incidents, latest activity first, each with its cases and their inbound messages' ids."""
    return [r.as_dict() for r in incidents.list_incidents(session, status=status)]


@router.get("/{incident_id}")
def read(incident_id: Id, agent: Viewer, session: DbSession) -> dict[str, Any]:
    return _row(session, incident_id)


@router.post("", status_code=http.HTTP_201_CREATED)
def create(body: CreateRequest, agent: AgentRole, session: DbSession) -> dict[str, Any]:
    """An incident made by hand from cases in none yet (409 when one is)."""
    incident = incidents.create_incident(
        session, title=body.title, case_ids=body.case_ids, actor_id=agent.id
    )
    announce_cases(session, body.case_ids, CaseUpdated, {"incident_id": incident.id})
    return _row(session, incident.id)


@router.put("/{incident_id}/title")
def rename(
    incident_id: Id, body: RenameRequest, agent: AgentRole, session: DbSession
) -> dict[str, Any]:
    incidents.rename_incident(session, incident_id=incident_id, title=body.title)
    return _row(session, incident_id)


@router.post("/{incident_id}/cases")
def add(
    incident_id: Id, body: CasesRequest, agent: AgentRole, session: DbSession
) -> dict[str, Any]:
    added = incidents.add_cases(
        session, incident_id=incident_id, case_ids=body.case_ids, actor_id=agent.id
    )
    announce_cases(session, added, CaseUpdated, {"incident_id": incident_id})
    return _row(session, incident_id)


@router.post("/{incident_id}/split")
def split(
    incident_id: Id, body: SplitRequest, agent: AgentRole, session: DbSession
) -> dict[str, Any]:
    """Take cases out: into a new incident titled `title`, or out of any incident."""
    new = incidents.split_incident(
        session,
        incident_id=incident_id,
        case_ids=body.case_ids,
        actor_id=agent.id,
        title=body.title,
    )
    announce_cases(session, body.case_ids, CaseUpdated, {"incident_id": incident_id})
    return {"incident": _row(session, incident_id), "new": _row(session, new.id) if new else None}


@router.post("/{incident_id}/merge")
def merge(
    incident_id: Id, body: MergeRequest, agent: AgentRole, session: DbSession
) -> dict[str, Any]:
    """Move every case into `into_id`; this incident closes as merged."""
    moved = incidents.case_ids_of(session, incident_id)
    incidents.merge_incidents(
        session, incident_id=incident_id, into_id=body.into_id, actor_id=agent.id
    )
    announce_cases(session, moved, CaseUpdated, {"incident_id": body.into_id})
    return _row(session, body.into_id)


@router.post("/{incident_id}/reply/preview")
def reply_preview(
    incident_id: Id, body: ReplyRequest, agent: AgentRole, session: DbSession, settings: AppSettings
) -> dict[str, Any]:
    """What answering every case would send and cost (nothing is queued)."""
    plan = flows.preview(
        session,
        incident_id=incident_id,
        agent=agent,
        text=body.text,
        private=body.private,
        purpose=body.purpose,
        prices=settings.prices,
    )
    return plan.as_dict()


@router.post("/{incident_id}/reply", status_code=http.HTTP_202_ACCEPTED)
def reply_all(
    incident_id: Id, body: ReplyRequest, agent: AgentRole, session: DbSession, settings: AppSettings
) -> dict[str, Any]:
    """Queue the answer to each case once (`purpose` names it: the same purpose twice queues
    nothing more)."""
    plan, queued = flows.reply_to_all(
        session,
        incident_id=incident_id,
        agent=agent,
        text=body.text,
        private=body.private,
        purpose=body.purpose,
        prices=settings.prices,
    )
    return {**plan.as_dict(), "outbox_ids": [i.id for i in queued]}


@router.post("/{incident_id}/close")
def close(
    incident_id: Id,
    body: CloseRequest,
    agent: AgentRole,
    session: DbSession,
    settings: AppSettings,
    weights: Weights,
) -> dict[str, Any]:
    """Close it: the final message (if any) to each case, then its cases resolved."""
    _, queued = flows.close_incident(
        session,
        incident_id=incident_id,
        agent=agent,
        final_text=body.final_text,
        private=body.private,
        prices=settings.prices,
        weights=weights,
        survey=SurveySetup.from_settings(settings),
    )
    return {**_row(session, incident_id), "outbox_ids": [i.id for i in queued]}
