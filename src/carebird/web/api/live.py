"""Live updates: the event stream, the inbox it refreshes, presence, bulk actions.

The stream (`GET /api/events/stream`) is server-sent events: `id:` is the event's id (the
browser sends it back as `Last-Event-ID` when it reconnects and gets what it missed), `event:`
its kind, `data:` a JSON object with the ids and inbox-row fields that changed; the page then
re-fetches the rows from `GET /api/inbox`. An `event: reset` asks the page to reload everything
(it was away longer than the events are kept). Comments (`: keep-alive`) flow every 15 s so
proxies keep the connection open. A stream lasts 10 minutes; the browser then reconnects with
`Last-Event-ID` (nothing lost) and its credentials are checked again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from carebird.auth.models import Agent
from carebird.auth.roles import has_role, require
from carebird.cases import bulk, presence, queries
from carebird.cases.inbox import InboxFilters, InboxRow
from carebird.cases.inbox import inbox as inbox_page
from carebird.cases.priority import describe
from carebird.db.database import Database
from carebird.flows import casework
from carebird.flows import presence as presence_flow
from carebird.live.events import Event, events_after, latest_event_id, oldest_event_id
from carebird.live.stream import EventHub
from carebird.reply.surveying import SurveySetup
from carebird.web.api.schemas import CasePublic, Strict
from carebird.web.deps import AgentRole, AppSettings, DbSession, Sla, Viewer, Weights
from carebird.web.params import MAX_ID, Id, IdField, IdQuery, parse_id

router = APIRouter(prefix="/api", tags=["live"])
KEEPALIVE_SECONDS = 15.0
TICK_SECONDS = 1.0  # how often an idle stream checks that its client is still there
QUEUE_LIMIT = 5_000  # batches a stalled client may owe before it is told to reload
# A stream ends after this long; the browser reconnects at once with Last-Event-ID, losing
# nothing, and its credentials are checked again (a revoked session stops receiving).
STREAM_MAX_SECONDS = 600.0
_hub_lock = threading.Lock()


# --- schemas --------------------------------------------------------------------------------
class InboxRowPublic(CasePublic):
    account_id: int | None
    account_handle: str | None
    language: str | None
    waiting_since: datetime | None
    waiting_seconds: int | None
    due_at: datetime | None = Field(description="answer deadline, in business time")
    breached: bool


class InboxPage(BaseModel):
    items: list[InboxRowPublic]
    total: int
    total_capped: bool = Field(description="true: at least `total` cases match (1,000+)")
    next: str | None = Field(description="pass back as `cursor` for the next page")


class PresenceBeat(Strict):
    state: Literal["viewing", "typing", "left"]


class PresenceAgent(BaseModel):
    agent_id: int
    name: str
    initials: str
    state: str
    seen_at: datetime


class PresenceList(BaseModel):
    case_id: int
    agents: list[PresenceAgent] = Field(description="the other agents on the case now")


class BulkRequest(Strict):
    case_ids: list[IdField] = Field(min_length=1, max_length=bulk.MAX_CASES)
    action: Literal["assign", "tag", "resolve", "not_support"]
    assignee_id: IdField | None = None
    team_id: IdField | None = None
    tags_add: list[str] = Field(default_factory=list, max_length=20)
    tags_remove: list[str] = Field(default_factory=list, max_length=20)


class BulkResult(BaseModel):
    case_id: int
    ok: bool
    changed: bool
    error: str | None
    detail: str | None


class BulkResponse(BaseModel):
    results: list[BulkResult]
    succeeded: int
    failed: int


# --- the inbox ------------------------------------------------------------------------------
def _split(values: list[str] | None) -> list[str] | None:
    parts = [p.strip() for v in values or [] for p in v.split(",") if p.strip()]
    return parts or None


@router.get("/inbox", response_model=InboxPage)
def inbox(
    agent: Viewer,
    session: DbSession,
    sla: Sla,
    mine: bool = False,
    unassigned: bool = False,
    assignee_id: IdQuery = None,
    team_id: IdQuery = None,
    category: Annotated[list[str] | None, Query(description="repeat or comma-separate")] = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
    network: Annotated[str | None, Query(max_length=16)] = None,
    status: Annotated[list[str] | None, Query(description="default: the active ones")] = None,
    account_id: IdQuery = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200, description="words in the messages")] = None,
    sort: queries.Sort = "priority",
    limit: Annotated[int, Query(ge=1, le=queries.MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> queries.Page[InboxRow]:
    """The agent's inbox: filters, full-text search, badges, waiting time and deadlines."""
    filters = InboxFilters(
        mine=mine,
        unassigned=unassigned,
        assignee_id=assignee_id,
        team_id=team_id,
        category=_split(category),
        language=language,
        network=network,
        status=_split(status),
        account_id=account_id,
        tag=tag,
        search=q,
    )
    page = inbox_page(
        session,
        filters=filters,
        agent_id=agent.id,
        sort=sort,
        limit=limit,
        cursor=cursor,
        sla=sla,
    )
    for row in page.items:
        row.priority_text = describe(row.priority_reasons, agent.locale)
    return page


# --- presence -------------------------------------------------------------------------------
def _presence_list(case_id: int, entries: list[presence.PresenceEntry]) -> PresenceList:
    agents = [PresenceAgent(**e.as_dict()) for e in entries]
    return PresenceList(case_id=case_id, agents=agents)


@router.post("/cases/{case_id}/presence", response_model=PresenceList)
def presence_beat(
    case_id: Id, body: PresenceBeat, agent: Viewer, session: DbSession
) -> PresenceList:
    """Heartbeat from an open case page (every ~10 s, and when typing starts or stops)."""
    if body.state == "left":
        presence_flow.leave(session, case_id=case_id, agent_id=agent.id)
        return _presence_list(case_id, [])
    if body.state == "typing":
        require(agent, "agent")  # a viewer can look, not compose
    others = presence_flow.heartbeat(session, case_id=case_id, agent_id=agent.id, state=body.state)
    return _presence_list(case_id, others)


@router.get("/cases/{case_id}/presence", response_model=PresenceList)
def presence_list(case_id: Id, agent: Viewer, session: DbSession) -> PresenceList:
    others = presence.who_is_here(session, case_id=case_id, exclude_agent_id=agent.id)
    return _presence_list(case_id, others)


# --- bulk actions ---------------------------------------------------------------------------
@router.post("/cases/bulk", response_model=BulkResponse)
def bulk_action(
    body: BulkRequest,
    agent: AgentRole,
    session: DbSession,
    weights: Weights,
    settings: AppSettings,
) -> BulkResponse:
    """One action on many cases; each case succeeds or fails on its own (see `results`)."""
    outcomes = casework.bulk_apply(
        session,
        case_ids=body.case_ids,
        action=body.action,
        actor_id=agent.id,
        weights=weights,
        assignee_id=body.assignee_id,
        team_id=body.team_id,
        tags_add=body.tags_add,
        tags_remove=body.tags_remove,
        fields=frozenset(body.model_fields_set),
        survey=SurveySetup.from_settings(settings),
    )
    results = [_result(o) for o in outcomes]
    ok = sum(r.ok for r in results)
    return BulkResponse(results=results, succeeded=ok, failed=len(results) - ok)


def _result(o: bulk.BulkOutcome) -> BulkResult:
    return BulkResult(case_id=o.case_id, ok=o.ok, changed=o.changed, error=o.error, detail=o.detail)


# --- the event stream -----------------------------------------------------------------------
def event_hub(request: Request) -> EventHub:
    """The process's hub for this app's database, made on first use."""
    state = request.app.state
    with _hub_lock:
        hub: EventHub | None = getattr(state, "event_hub", None)
        if hub is None:
            db: Database = state.db
            hub = EventHub(db)
            state.event_hub = hub
    return hub


def visible(agent: Agent, event: Event) -> bool:
    """Whether this agent's stream carries the event.

    Every role sees every case today; an event addressed to one agent (`for_agent_id`) goes
    to that agent only, and one marked `min_role` to that role and above.
    """
    target = event.payload.get("for_agent_id")
    if target is not None and target != agent.id:
        return False
    role = event.payload.get("min_role")
    return role is None or has_role(agent, str(role))


def format_event(event: Event) -> str:
    data = json.dumps({"id": event.id, "kind": event.kind, **event.payload}, default=str)
    return f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n"


def _resume_point(db: Database, last: int) -> tuple[bool, list[Event]]:
    """(whether the client missed purged events, the events after `last` kept until now)."""
    with db.session() as session:
        oldest, newest = oldest_event_id(session), latest_event_id(session)
        if last > newest or (oldest is not None and last + 1 < oldest):
            return True, []
        found: list[Event] = []
        while True:
            part = events_after(session, found[-1].id if found else last, limit=1000)
            found += part
            if len(part) < 1000:
                return False, found


_RESET = "event: reset\ndata: {}\n\n"  # the client missed events: it reloads its page


async def _backlog(db: Database, agent: Agent, resume: int, start: int) -> tuple[list[str], int]:
    """The frames of the events after `resume` that the agent may see (a reset first if some
    were purged), and the id of the last event they cover (at least `start`)."""
    missed, backlog = await asyncio.to_thread(_resume_point, db, resume)
    frames = [_RESET] if missed else []
    frames += [format_event(event) for event in backlog if visible(agent, event)]
    return frames, max(start, backlog[-1].id) if backlog else start


async def _live(
    request: Request, agent: Agent, queue: asyncio.Queue[list[Event]], sent: int
) -> AsyncGenerator[str, None]:
    """The frames of the events delivered to `queue` after event `sent`, and keep-alives when
    idle, until the client leaves or falls too far behind, or STREAM_MAX_SECONDS."""
    loop = asyncio.get_running_loop()
    waited = 0.0
    ends = loop.time() + STREAM_MAX_SECONDS
    while loop.time() < ends:
        if queue.qsize() > QUEUE_LIMIT:
            yield _RESET
            return
        try:
            batch = await asyncio.wait_for(queue.get(), timeout=TICK_SECONDS)
        except TimeoutError:
            waited += TICK_SECONDS
            if await request.is_disconnected():
                return
            if waited >= KEEPALIVE_SECONDS:
                waited = 0.0
                yield ": keep-alive\n\n"
            continue
        waited = 0.0
        for event in batch:
            if event.id > sent:
                sent = event.id
                if visible(agent, event):
                    yield format_event(event)


@router.get("/events/stream")
async def event_stream(
    request: Request,
    agent: Viewer,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="resume after this event id")
    ] = None,
) -> StreamingResponse:
    """Server-sent events for the agent's open pages (resume with `Last-Event-ID`)."""
    hub = event_hub(request)
    db: Database = request.app.state.db
    resume = parse_id(last_event_id)
    if resume is None:
        resume = after

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[list[Event]] = asyncio.Queue()

        def deliver(events: list[Event]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed under a client that left
                loop.call_soon_threadsafe(queue.put_nowait, events)

        key, start = hub.subscribe(deliver)
        try:
            yield "retry: 3000\n\n"
            sent = start
            if resume is not None:
                frames, sent = await _backlog(db, agent, resume, start)
                for frame in frames:
                    yield frame
            async with contextlib.aclosing(_live(request, agent, queue, sent)) as live:
                async for frame in live:
                    yield frame
        finally:
            hub.unsubscribe(key)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )
