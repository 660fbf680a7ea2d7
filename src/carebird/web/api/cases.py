"""Cases: the filtered list, one case's detail, partial updates, queued replies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import status as http

from carebird.cases import queries
from carebird.cases.priority import describe
from carebird.errors import InvalidInput
from carebird.flows import casework
from carebird.flows.replies import queue_thread
from carebird.ingest.base import CanSendMedia
from carebird.plugins import connector_class
from carebird.reply.composer import compose
from carebird.reply.surveying import SurveySetup
from carebird.web.api.schemas import (
    CaseDetailPublic,
    CasePage,
    CaseUpdate,
    OutboxPublic,
    ReplyCreate,
    ReplyDraft,
    ReplyEstimate,
)
from carebird.web.deps import AgentRole, AppSettings, DbSession, Routing, Viewer, Weights
from carebird.web.params import Id, IdQuery, Offset

router = APIRouter(prefix="/api", tags=["cases"])


@router.get("/cases", response_model=CasePage)
def list_cases(
    agent: Viewer,
    session: DbSession,
    status: Annotated[list[str] | None, Query(description="repeat or comma-separate")] = None,
    assignee_id: IdQuery = None,
    team_id: IdQuery = None,
    network: str | None = None,
    tag: str | None = None,
    q: Annotated[str | None, Query(max_length=200, description="text in the subject")] = None,
    sort: queries.Sort = "priority",
    limit: Annotated[int, Query(ge=1, le=queries.MAX_LIMIT)] = 50,
    offset: Offset = 0,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> queries.Page[queries.CaseRow]:
    statuses = [s for part in status or [] for s in part.split(",") if s.strip()]
    page = queries.list_cases(
        session,
        status=[s.strip() for s in statuses] or None,
        assignee_id=assignee_id,
        team_id=team_id,
        network=network,
        tag=tag,
        q=q,
        sort=sort,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    for row in page.items:
        row.priority_text = describe(row.priority_reasons, agent.locale)
    return page


@router.get("/cases/{case_id}", response_model=CaseDetailPublic)
def case_detail(case_id: Id, agent: Viewer, session: DbSession) -> queries.CaseDetail:
    return queries.case_detail(session, case_id=case_id)


@router.patch("/cases/{case_id}", response_model=CaseDetailPublic)
def update_case(
    case_id: Id,
    body: CaseUpdate,
    agent: AgentRole,
    session: DbSession,
    weights: Weights,
    routing: Routing,
    settings: AppSettings,
) -> queries.CaseDetail:
    """Change status, assignee, team and tags; only the fields sent are touched. A case
    resolved gets its satisfaction survey when its account sends them."""
    changes = body.model_dump(exclude_unset=True)
    casework.update_case(
        session,
        case_id=case_id,
        changes=changes,
        actor_id=agent.id,
        weights=weights,
        routing=routing,
        survey=SurveySetup.from_settings(settings),
    )
    return queries.case_detail(session, case_id=case_id)


@router.post(
    "/cases/{case_id}/replies", response_model=OutboxPublic, status_code=http.HTTP_202_ACCEPTED
)
def reply(
    case_id: Id, body: ReplyCreate, agent: AgentRole, session: DbSession, settings: AppSettings
) -> OutboxPublic:
    """Queue a reply (sent by the outbox worker); the same idempotency key queues it once.

    The text goes out as the composer shows it: signed per the account's policy and, when too
    long for one public post, split into a thread ("1/2", "2/2") sent in order.
    """
    composition = compose(
        session,
        case_id=case_id,
        agent=agent,
        text=body.text,
        private=body.private,
        prices=settings.prices,
    )
    if composition.problems:
        raise InvalidInput("; ".join(p.message for p in composition.problems))
    if body.card_text and not issubclass(connector_class(composition.network), CanSendMedia):
        raise InvalidInput(f"{composition.network} replies cannot carry an answer card")
    items = queue_thread(
        session,
        case_id=case_id,
        parts=[p.text for p in composition.parts],
        private=body.private,
        agent_id=agent.id,
        idempotency_key=body.idempotency_key,
        allow_personal_data=body.allow_personal_data,
        prices=settings.prices,
        seen_message_id=body.seen_message_id,
        card=(body.card_title or "", body.card_text) if body.card_text else None,
    )
    out = OutboxPublic.model_validate(items[0])
    out.parts = len(items)
    return out


@router.post("/cases/{case_id}/replies/estimate", response_model=ReplyEstimate)
def reply_estimate(
    case_id: Id, body: ReplyDraft, agent: AgentRole, session: DbSession, settings: AppSettings
) -> ReplyEstimate:
    """What sending this reply would cost, and the personal data that keeps it private (the
    composer's figures, for integrations that only need these)."""
    composition = compose(
        session,
        case_id=case_id,
        agent=agent,
        text=body.text,
        private=body.private,
        prices=settings.prices,
    )
    return ReplyEstimate(
        network=composition.network,
        cost=composition.cost.cost,
        ops=composition.cost.ops,
        personal_data=sorted({p.kind for p in composition.personal_data}),
    )
