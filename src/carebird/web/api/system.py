"""Operations: the runners, the streams, the month's API spending and the outbox (admins), an
admin's decision on a reply the outbox could not send, and Prometheus metrics at /metrics.

/metrics answers a bearer token: the `CAREBIRD_METRICS_TOKEN` environment variable's value
(for a scraper) or an admin's API token. Each scrape builds a fresh registry from the database.
"""

from __future__ import annotations

import hmac
import os
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from carebird.auth.roles import has_role
from carebird.auth.service import resolve_token
from carebird.db.base import utcnow
from carebird.errors import AuthError
from carebird.flows.replies import cancel_reply, retry_reply
from carebird.insights.system import SystemReport, system_report
from carebird.web.api.schemas import OutboxPublic
from carebird.web.deps import Admin, DbSession

router = APIRouter(tags=["system"])
METRICS_TOKEN_ENV = "CAREBIRD_METRICS_TOKEN"
OutboxId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class RetryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # An "unsure" reply may already be on the network: retrying it needs this said.
    confirm_not_posted: bool = False


@router.get("/api/system")
def system(agent: Admin, session: DbSession) -> dict[str, Any]:
    """Runners and their heartbeats, each stream's polling and cost, the outbox's queue and
    the failed and unsure replies an admin must decide on."""
    data: dict[str, Any] = jsonable_encoder(system_report(session, now=utcnow()).as_dict())
    return data


@router.post("/api/system/outbox/{outbox_id}/retry", response_model=OutboxPublic)
def retry(
    outbox_id: OutboxId, agent: Admin, session: DbSession, body: RetryRequest | None = None
) -> OutboxPublic:
    """A failed reply (or, with `confirm_not_posted`, an unsure one) back to pending."""
    item = retry_reply(
        session,
        outbox_id=outbox_id,
        agent_id=agent.id,
        confirm_not_posted=body.confirm_not_posted if body else False,
    )
    session.flush()
    return OutboxPublic.model_validate(item)


@router.post("/api/system/outbox/{outbox_id}/cancel", response_model=list[OutboxPublic])
def cancel(outbox_id: OutboxId, agent: Admin, session: DbSession) -> list[OutboxPublic]:
    """A pending, failed or unsure reply never sent; the later parts of its thread neither."""
    items = cancel_reply(session, outbox_id=outbox_id, agent_id=agent.id)
    session.flush()
    return [OutboxPublic.model_validate(i) for i in items]


# --- /metrics ---------------------------------------------------------------------------------
def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def metrics_access(session: Session, token: str | None) -> int:
    """200 for the metrics token or an admin's token, 401 without a valid one, 403 otherwise."""
    if not token:
        return 401
    expected = os.environ.get(METRICS_TOKEN_ENV, "")
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return 200
    try:
        agent = resolve_token(session, token=token)
    except AuthError:
        return 401
    return 200 if has_role(agent, "admin") else 403


def registry_of(report: SystemReport) -> CollectorRegistry:
    """The report as Prometheus gauges, in a registry of its own (nothing kept between scrapes)."""
    registry = CollectorRegistry(auto_describe=True)

    def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc, labels, registry=registry)

    replies = gauge("carebird_outbox_replies", "Replies in the outbox by status", ("status",))
    for status, n in report.outbox.counts.items():
        replies.labels(status=status).set(n)
    gauge(
        "carebird_outbox_oldest_pending_age_seconds",
        "Age of the oldest pending reply (0 when none is pending)",
    ).set(report.outbox.oldest_pending_age_seconds or 0.0)
    alive = gauge("carebird_workers_alive", "Background runners beating, by kind", ("kind",))
    for kind, n in report.workers_alive.items():
        alive.labels(kind=kind).set(n)
    labels = ("source", "network")
    since_poll = gauge(
        "carebird_stream_seconds_since_last_poll", "Seconds since the stream's last poll", labels
    )
    since_success = gauge(
        "carebird_stream_seconds_since_last_success",
        "Seconds since the stream's last successful poll",
        labels,
    )
    errors = gauge(
        "carebird_stream_consecutive_errors", "Failed polls in a row on the stream", labels
    )
    headroom = gauge(
        "carebird_stream_rate_limit_remaining",
        "Calls left in the stream's tightest rate-limit window",
        labels,
    )
    for s in report.streams:
        key = {"source": s.source, "network": s.network}
        errors.labels(**key).set(s.consecutive_errors)
        if s.seconds_since_poll is not None:
            since_poll.labels(**key).set(s.seconds_since_poll)
        if s.lag_seconds is not None:
            since_success.labels(**key).set(s.lag_seconds)
        if s.rate_limit_remaining is not None:
            headroom.labels(**key).set(s.rate_limit_remaining)
    account = ("account", "network")
    cost = gauge(
        "carebird_api_cost_dollars", "The account's network API spending this month", account
    )
    cap = gauge("carebird_api_cap_dollars", "The account's monthly API spending cap", account)
    for a in report.accounts:
        cost.labels(account=a.handle, network=a.network).set(a.cost)
        if a.monthly_cap is not None:
            cap.labels(account=a.handle, network=a.network).set(a.monthly_cap)
    return registry


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, session: DbSession) -> Response:
    """Prometheus exposition text; a plain 401 or 403 (not the login page) when refused."""
    access = metrics_access(session, _bearer(request))
    if access != 200:
        headers = {"WWW-Authenticate": "Bearer"} if access == 401 else {}
        text = "authentication required\n" if access == 401 else "this needs the admin role\n"
        return PlainTextResponse(text, status_code=access, headers=headers)
    registry = registry_of(system_report(session, now=utcnow()))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
