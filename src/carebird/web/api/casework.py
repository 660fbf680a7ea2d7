"""Case work: notes, outside owners, merge and split, the customer's profile."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from fastapi import status as http
from pydantic import BaseModel, ConfigDict, Field

from carebird.cases import forwarding, merging, notes, profile, queries, timeline
from carebird.flows import casework
from carebird.flows import forwarding as forwarding_flow
from carebird.mail import Mailer
from carebird.web.api.schemas import CaseDetailPublic
from carebird.web.deps import AgentRole, AppSettings, DbSession, Supervisor, Viewer, Weights
from carebird.web.params import Id, IdField

router = APIRouter(prefix="/api", tags=["casework"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- shapes ----------------------------------------------------------------------------------
class NoteCreate(Strict):
    body: str = Field(min_length=1, max_length=notes.MAX_NOTE)


class NotePublic(Public):
    id: int
    case_id: int
    agent_id: int | None
    author_name: str
    forward_id: int | None
    body: str
    created_at: datetime


class IdentityPublic(Public):
    id: int
    network: str
    handle: str
    display_name: str
    external_id: str
    followers: int
    verified: bool


class PastCasePublic(Public):
    id: int
    status: str
    category: str | None
    subject: str
    created_at: datetime
    resolved_at: datetime | None


class CountsPublic(Public):
    cases: int
    active: int
    resolved: int
    messages: int


class ProfilePublic(Public):
    identity: IdentityPublic
    previous_cases: list[PastCasePublic]
    counts: CountsPublic


class TimelineItemPublic(Public):
    at: datetime
    kind: str = Field(description="stable key, e.g. message.in.public, note, event.status")
    label: str = Field(description="the kind in the reader's language")
    source: Literal["message", "note", "forward", "event"]
    ref_id: int
    case_id: int
    actor_id: int | None
    actor_name: str | None
    text: str | None
    old: str | None
    new: str | None
    data: dict[str, Any]


class MergeRequest(Strict):
    other_id: IdField = Field(description="the case merged into this one (then closed)")
    force: bool = Field(default=False, description="different customers: supervisors only")


class SplitRequest(Strict):
    message_ids: list[IdField] = Field(min_length=1, max_length=merging.MAX_SPLIT)


class SplitResult(BaseModel):
    case: CaseDetailPublic  # the case split from
    new_case: CaseDetailPublic


Language = Literal["fr", "en"]


class OwnerCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=254)
    organisation: str = Field(default="", max_length=200)
    language: Language = "fr"


class OwnerUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    organisation: str | None = Field(default=None, max_length=200)
    language: Language | None = None
    active: bool | None = None


class OwnerPublic(Public):
    id: int
    name: str
    email: str
    organisation: str
    language: str
    active: bool
    created_at: datetime


class ForwardCreate(Strict):
    owner_id: IdField
    note: str = Field(default="", max_length=10_000, description="the agent's words to them")
    due_hours: float = Field(default=48, gt=0, le=forwarding.MAX_DUE_HOURS)
    include_private: bool = Field(default=False, description="show them private messages too")
    tell_customer: bool = Field(default=True, description="queue a short notice to the customer")


class ForwardPublic(BaseModel):
    id: int
    case_id: int
    owner_id: int
    note: str
    include_private: bool
    created_by: int | None
    created_at: datetime
    due_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    answer: str | None
    revoked_at: datetime | None
    state: forwarding.ForwardState

    @classmethod
    def of(cls, fw: forwarding.Forward) -> ForwardPublic:
        fields = {k: getattr(fw, k) for k in cls.model_fields if k != "state"}
        return cls(**fields, state=forwarding.forward_state(fw))


class ForwardCreated(ForwardPublic):
    reply_id: int | None = Field(description="the notice queued for the customer, if any")


# --- notes, profile, timeline ----------------------------------------------------------------
@router.get("/cases/{case_id}/notes", response_model=list[NotePublic])
def list_notes(case_id: Id, agent: Viewer, session: DbSession) -> list[notes.NoteRow]:
    return notes.list_notes(session, case_id=case_id)


@router.post("/cases/{case_id}/notes", response_model=NotePublic, status_code=http.HTTP_201_CREATED)
def add_note(case_id: Id, body: NoteCreate, agent: AgentRole, session: DbSession) -> NotePublic:
    """An internal note: seen by the desk only, never sent to a network."""
    note = casework.add_note(session, case_id=case_id, body=body.body, agent_id=agent.id)
    return NotePublic(
        id=note.id,
        case_id=note.case_id,
        agent_id=note.agent_id,
        author_name=agent.name,
        forward_id=note.forward_id,
        body=note.body,
        created_at=note.created_at,
    )


@router.get("/cases/{case_id}/customer", response_model=ProfilePublic)
def customer(case_id: Id, agent: Viewer, session: DbSession) -> profile.CustomerProfile:
    return profile.customer_profile(session, case_id=case_id)


@router.get("/cases/{case_id}/timeline", response_model=list[TimelineItemPublic])
def case_timeline(case_id: Id, agent: Viewer, session: DbSession) -> list[timeline.TimelineItem]:
    """Messages, notes, forwards and events in time order, labelled in the agent's language."""
    return timeline.timeline(session, case_id=case_id, locale=agent.locale)


# --- merge and split -------------------------------------------------------------------------
@router.post("/cases/{case_id}/merge", response_model=CaseDetailPublic)
def merge(
    case_id: Id, body: MergeRequest, agent: AgentRole, session: DbSession, weights: Weights
) -> queries.CaseDetail:
    """Merge case `other_id` into this one; returns this case with everything it now holds."""
    casework.merge_cases(
        session,
        case_id=case_id,
        other_id=body.other_id,
        actor=agent,
        force=body.force,
        weights=weights,
    )
    return queries.case_detail(session, case_id=case_id)


@router.post(
    "/cases/{case_id}/split", response_model=SplitResult, status_code=http.HTTP_201_CREATED
)
def split(
    case_id: Id, body: SplitRequest, agent: AgentRole, session: DbSession, weights: Weights
) -> SplitResult:
    """Move the chosen messages into a new case of the same customer."""
    new = casework.split_case(
        session,
        case_id=case_id,
        message_ids=body.message_ids,
        actor_id=agent.id,
        weights=weights,
    )
    return SplitResult(
        case=_detail(queries.case_detail(session, case_id=case_id)),
        new_case=_detail(queries.case_detail(session, case_id=new.id)),
    )


# --- forwarding to an outside owner ----------------------------------------------------------
@router.post(
    "/cases/{case_id}/forward", response_model=ForwardCreated, status_code=http.HTTP_201_CREATED
)
def forward(
    case_id: Id, body: ForwardCreate, agent: AgentRole, session: DbSession, settings: AppSettings
) -> ForwardCreated:
    """E-mail an outside owner a signed, expiring link to read and answer this case."""
    done = forwarding_flow.forward_case(
        session,
        case_id=case_id,
        owner_id=body.owner_id,
        note=body.note,
        due_hours=body.due_hours,
        include_private=body.include_private,
        tell_customer=body.tell_customer,
        actor_id=agent.id,
        mailer=Mailer.from_settings(settings),
        public_url=settings.public_url,
        zone=settings.timezone,
    )
    public = ForwardPublic.of(done.forward)
    return ForwardCreated(**public.model_dump(), reply_id=done.reply_id)


@router.get("/cases/{case_id}/forwards", response_model=list[ForwardPublic])
def list_forwards(case_id: Id, agent: Viewer, session: DbSession) -> list[ForwardPublic]:
    return [ForwardPublic.of(fw) for fw in forwarding.case_forwards(session, case_id=case_id)]


@router.post("/forwards/{forward_id}/revoke", response_model=ForwardPublic)
def revoke(forward_id: Id, agent: AgentRole, session: DbSession) -> ForwardPublic:
    """Cancel a pending forward: its link stops working at once."""
    done = forwarding_flow.revoke_forward(session, forward_id=forward_id, actor_id=agent.id)
    return ForwardPublic.of(done)


@router.get("/outside-owners", response_model=list[OwnerPublic])
def list_owners(
    agent: AgentRole, session: DbSession, include_inactive: bool = False
) -> list[forwarding.OutsideOwner]:
    return forwarding.list_owners(session, include_inactive=include_inactive)


@router.post("/outside-owners", response_model=OwnerPublic, status_code=http.HTTP_201_CREATED)
def create_owner(
    body: OwnerCreate, agent: Supervisor, session: DbSession
) -> forwarding.OutsideOwner:
    return forwarding.create_owner(session, **body.model_dump())


@router.patch("/outside-owners/{owner_id}", response_model=OwnerPublic)
def update_owner(
    owner_id: Id, body: OwnerUpdate, agent: Supervisor, session: DbSession
) -> forwarding.OutsideOwner:
    changes = body.model_dump(exclude_unset=True)
    return forwarding.update_owner(session, owner_id=owner_id, changes=changes)


@router.delete("/outside-owners/{owner_id}", status_code=http.HTTP_204_NO_CONTENT)
def deactivate_owner(owner_id: Id, agent: Supervisor, session: DbSession) -> Response:
    """Owners are deactivated, not deleted: their past forwards keep naming them."""
    forwarding.update_owner(session, owner_id=owner_id, changes={"active": False})
    return Response(status_code=http.HTTP_204_NO_CONTENT)


def _detail(detail: queries.CaseDetail) -> CaseDetailPublic:
    return CaseDetailPublic.model_validate(detail)
