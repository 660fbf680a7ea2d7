"""The API's shapes: Create / Update bodies in, Public views out (never ORM rows as such)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from carebird.auth.roles import Role
from carebird.cases.states import Status
from carebird.web.params import IdField

Category = Literal["complaint", "assistance", "question", "suggestion", "praise", "other"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- auth -----------------------------------------------------------------------------------
class LoginRequest(Strict):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class AgentPublic(Public):
    id: int
    email: str
    name: str
    initials: str
    role: str
    team_id: int | None
    locale: str
    timezone: str
    active: bool


class LoginResponse(BaseModel):
    token: str
    expires_at: datetime | None
    agent: AgentPublic


class TokenCreate(Strict):
    name: str = Field(default="", max_length=120)
    agent_id: IdField | None = None  # another agent's token: admin only
    ttl_days: float | None = Field(default=None, gt=0, le=3650)


class TokenCreated(BaseModel):
    token: str  # shown once; only its digest is stored
    agent_id: int
    name: str
    expires_at: datetime | None


# --- agents ---------------------------------------------------------------------------------
class AgentCreate(Strict):
    email: str = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=8, max_length=1024)
    role: Role = Role.AGENT
    initials: str | None = Field(default=None, max_length=8)
    team_id: IdField | None = None
    locale: str = Field(default="fr", pattern="^(fr|en)$")


# --- cases ----------------------------------------------------------------------------------
class CasePublic(Public):
    id: int
    status: str
    network: str
    subject: str
    category: str | None
    priority: float
    priority_reasons: list[dict[str, Any]]
    priority_text: str
    assignee_id: int | None
    team_id: int | None
    customer_id: int
    customer_handle: str
    message_count: int
    created_at: datetime
    last_activity_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    tags: list[str]


class CasePage(BaseModel):
    items: list[CasePublic]
    total: int
    total_capped: bool = Field(description="true: at least `total` cases match (1,000+)")
    next: str | None = Field(description="pass back as `cursor` for the next page")


class CustomerPublic(Public):
    id: int
    network: str
    handle: str
    display_name: str
    followers: int
    verified: bool


class MessagePublic(Public):
    id: int
    case_id: int | None
    network: str
    external_id: str
    direction: str
    kind: str
    is_private: bool
    author_handle: str
    author_name: str
    text: str
    created_at: datetime


class MessagePage(BaseModel):
    items: list[MessagePublic]
    total: int
    next: str | None = Field(description="pass back as `offset` for the next page")


class EventPublic(Public):
    id: int
    kind: str
    old: str | None
    new: str | None
    actor_id: int | None
    actor_name: str | None
    at: datetime
    data: dict[str, Any]


class CaseDetailPublic(Public):
    case: CasePublic
    customer: CustomerPublic
    messages: list[MessagePublic]
    events: list[EventPublic]


class CaseUpdate(Strict):
    """Only the fields sent are changed; `assignee_id: null` unassigns."""

    status: Status | None = None
    category: Category | None = None  # an agent's correction, kept as a training label
    assignee_id: IdField | None = None
    team_id: IdField | None = None
    tags_add: list[str] = Field(default_factory=list, max_length=50)
    tags_remove: list[str] = Field(default_factory=list, max_length=50)


# --- replies --------------------------------------------------------------------------------
class ReplyCreate(Strict):
    text: str = Field(min_length=1, max_length=20_000)
    private: bool = False
    idempotency_key: str | None = Field(default=None, min_length=8, max_length=64)
    # A public reply with a phone number, e-mail, reference… is refused unless confirmed.
    allow_personal_data: bool = False
    # The newest message the composer showed: a colleague's reply after it blocks the send
    # (409) until the agent has seen it. None skips the check (integrations).
    seen_message_id: IdField | None = None
    # An answer card (e.g. a rendered template) sent as an image with the reply (X).
    card_title: str | None = Field(default=None, max_length=200)
    card_text: str | None = Field(default=None, max_length=5_000)


class ReplyDraft(Strict):
    text: str = Field(min_length=1, max_length=20_000)
    private: bool = False


class ReplyEstimate(Public):
    network: str
    cost: float  # dollars, from the desk's price table
    ops: list[tuple[str, int]]
    personal_data: list[str]  # kinds found: a public reply with any is refused


class OutboxPublic(Public):
    id: int
    idempotency_key: str
    case_id: int
    network: str
    private: bool
    text: str
    status: str
    attempts: int
    last_error: str | None
    cost: float | None
    parts: int = 1  # posts in the thread this reply starts (a long answer is split)
    in_reply_to_id: str | None
    created_by: int | None
    created_at: datetime
    sent_at: datetime | None


# --- network accounts ------------------------------------------------------------------------
class AccountCreate(Strict):
    network: str = Field(min_length=1, max_length=16)
    handle: str = Field(min_length=1, max_length=200)
    credentials: dict[str, str]
    options: dict[str, Any] = Field(default_factory=dict)
    role: Literal["support", "brand"] = "support"
    monthly_cap: float | None = Field(default=None, ge=0)
    external_id: str | None = Field(default=None, max_length=200)
    replace: bool = False


class SurveyOptions(Strict):
    """An account's satisfaction survey (carebird.reply.survey): sent after a resolution, as a
    private message; `public_allowed` also to customers who wrote only in public."""

    enabled: StrictBool = False
    public_allowed: StrictBool = False


class AccountUpdate(Strict):
    """Only the fields sent change; `monthly_cap: null` removes the cap. The settings below are
    stored in the account's options (carebird.flows.accounts says what each means)."""

    active: bool | None = None
    monthly_cap: float | None = Field(default=None, ge=0)
    options: dict[str, Any] | None = None
    role: Literal["support", "brand"] | None = None
    listening: list[Annotated[str, Field(max_length=512)]] | None = Field(
        default=None, max_length=20
    )
    signature: Literal["initials", "none"] | None = None
    opening_hours: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    holidays: list[Annotated[str, Field(max_length=10)]] | None = Field(
        default=None, max_length=366
    )
    survey: SurveyOptions | None = None
    publish_transparency: bool | None = None  # the public response-time record
    publish_wait: StrictBool | None = None  # the expected wait public at /public/wait/{account}


class BlueskyConnect(Strict):
    handle: str = Field(min_length=1, max_length=200)
    app_password: str = Field(min_length=1, max_length=200)
    service: str = Field(default="", max_length=300)  # empty: https://bsky.social


class AccountPublic(Public):
    id: int
    network: str
    handle: str
    external_id: str | None
    role: str
    active: bool
    monthly_cap: float | None
    options: dict[str, Any]
    credential_names: list[str]  # which secrets are stored; their values are never returned
