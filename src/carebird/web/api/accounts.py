"""The desk's network accounts (admins add them), their API spending and sources' health."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from carebird.flows.accounts import change_account, check_options
from carebird.ingest.accounts import (
    add_account,
    disconnect_account,
    get_account,
    list_accounts,
    public,
)
from carebird.ingest.connect import connect_bluesky
from carebird.ingest.health import health_report
from carebird.ingest.usage import WARN_SHARE, month_of, usage_report
from carebird.web.api.schemas import AccountCreate, AccountPublic, AccountUpdate, BlueskyConnect
from carebird.web.deps import Admin, AppSettings, DbSession, Supervisor
from carebird.web.params import Id

router = APIRouter(prefix="/api", tags=["accounts"])


@router.get("/accounts", response_model=list[AccountPublic])
def accounts(agent: Supervisor, session: DbSession, settings: AppSettings) -> list[AccountPublic]:
    return [AccountPublic(**asdict(public(a, settings.secret_key))) for a in list_accounts(session)]


@router.post("/accounts", response_model=AccountPublic, status_code=status.HTTP_201_CREATED)
def create_account(
    body: AccountCreate, agent: Admin, session: DbSession, settings: AppSettings
) -> AccountPublic:
    """Add an account; credentials are sealed at once and never shown again."""
    fields = body.model_dump() | {"options": check_options(body.options)}  # as PATCH checks
    account = add_account(session, secret_key=settings.secret_key, **fields)
    return AccountPublic(**asdict(public(account, settings.secret_key)))


@router.patch("/accounts/{account_id}", response_model=AccountPublic)
def update_account(
    account_id: Id, body: AccountUpdate, agent: Admin, session: DbSession, settings: AppSettings
) -> AccountPublic:
    """Pause or resume an account; change its monthly cap, role, listening queries, signature,
    opening hours, time zone or holidays (or its whole `options`). Bad values: 422."""
    changes = {
        name: value
        for name, value in body.model_dump(exclude_unset=True).items()
        if value is not None or name == "monthly_cap"  # a null cap removes the cap
    }
    account = change_account(session, account_id, changes)
    return AccountPublic(**asdict(public(account, settings.secret_key)))


@router.post("/accounts/bluesky", response_model=AccountPublic, status_code=201)
def connect_bluesky_account(
    body: BlueskyConnect, agent: Admin, session: DbSession, settings: AppSettings
) -> AccountPublic:
    """Connect a Bluesky account with its handle and an app password (checked by logging in;
    sealed, never shown again)."""
    account = connect_bluesky(
        session,
        secret_key=settings.secret_key,
        handle=body.handle,
        app_password=body.app_password,
        service=body.service,
        allow_private=settings.private_servers_allowed,
    )
    return AccountPublic(**asdict(public(account, settings.secret_key)))


@router.post("/accounts/{account_id}/disconnect", response_model=AccountPublic)
def disconnect(
    account_id: Id, agent: Admin, session: DbSession, settings: AppSettings
) -> AccountPublic:
    """Stop the account and forget its credentials (connect it again to resume)."""
    account = disconnect_account(session, account_id)
    return AccountPublic(**asdict(public(account, settings.secret_key)))


@router.get("/accounts/{account_id}/usage")
def account_usage(
    account_id: Id,
    agent: Supervisor,
    session: DbSession,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> dict[str, Any]:
    """Calls and cost this month (or `month`), per operation, against the account's cap."""
    account = get_account(session, account_id)
    report = usage_report(session, account.id, month or month_of(datetime.now(UTC)))
    cap = account.monthly_cap
    share = round(report["cost"] / cap, 4) if cap else None
    # The warning an admin sees before polling stops at the cap (the meter logs it too).
    near = share is not None and share >= WARN_SHARE
    return report | {"cap": cap, "share_of_cap": share, "near_cap": near}


@router.get("/sources/health")
def sources_health(agent: Supervisor, session: DbSession) -> list[dict[str, Any]]:
    """Each inbound stream: status, problems, last success, lag, errors, rate-limit headroom."""
    return [r.as_dict() for r in health_report(session, datetime.now(UTC))]
