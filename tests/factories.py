"""Test data through the real entry points: messages via the pipeline, agents via the service."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient  # backed by httpx2, as Starlette 1.x expects
from sqlalchemy import select

from carebird.auth.models import Agent
from carebird.auth.service import create_agent, issue_token
from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.db.database import Database
from carebird.flows.intake import BatchReport, Intake, process_batch
from carebird.ingest.base import AuthorInfo, Direction, InboundItem, MessageKind
from carebird.ingest.models import Message, NetworkAccount

__all__ = ["TestClient"]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(days=7)


@functools.cache
def intake_for(window: timedelta = WINDOW) -> Intake:
    """The intake a test desk uses: the shipped classifier, default weights, `window`."""
    from carebird.understand.service import Understander

    return Intake(understander=Understander(), reopen_window=window, weights=DEFAULT_WEIGHTS)


BRAND_HANDLE = "Brand_SAV"
BRAND = AuthorInfo("brand-1", BRAND_HANDLE, "Brand support")
_seq = itertools.count(1)


def customer(n: int, *, followers: int = 10, verified: bool = False) -> AuthorInfo:
    return AuthorInfo(f"u{n}", f"customer{n}", f"Customer {n}", followers, verified)


def item(
    author: AuthorInfo,
    text: str = "hello",
    *,
    minutes: float = 0,
    network: str = "x",
    external_id: str | None = None,
    **kw: Any,
) -> InboundItem:
    """One inbound (or, from BRAND, outbound) message addressed to the brand's account."""
    kw.setdefault("direction", Direction.OUT if author is BRAND else Direction.IN)
    kw.setdefault("account_handle", BRAND_HANDLE)
    return InboundItem(
        network=network,
        external_id=external_id or f"m{next(_seq)}",
        author=author,
        text=text,
        created_at=T0 + timedelta(minutes=minutes),
        **kw,
    )


def private(author: AuthorInfo, text: str, **kw: Any) -> InboundItem:
    return item(author, text, kind=MessageKind.DIRECT, **kw)


def ingest(
    db: Database, items: Sequence[InboundItem], *, intake: Intake | None = None
) -> BatchReport:
    """Store and thread `items` in one transaction, as the poller does (with `intake`: its
    routing rules, say)."""
    with db.session() as s, s.begin():
        networks = {i.network for i in items}
        known = set(s.scalars(select(NetworkAccount.network)))
        for network in sorted(networks - known):
            s.add(
                NetworkAccount(network=network, handle=BRAND_HANDLE, external_id=BRAND.external_id)
            )
        s.flush()
        return process_batch(s, list(items), intake=intake or intake_for())


def case_of(db: Database, external_id: str) -> int:
    with db.session() as s:
        case_id = s.scalar(select(Message.case_id).where(Message.external_id == external_id))
    assert case_id is not None, f"message {external_id} has no case"
    return case_id


def agent_with_token(
    db: Database, role: str = "agent", *, email: str | None = None, name: str | None = None
) -> tuple[Agent, str]:
    """An agent without a password (no Argon2 cost) and a live API token for it."""
    n = next(_seq)
    with db.session() as s, s.begin():
        agent = create_agent(
            s,
            email=email or f"{role}{n}@example.test",
            name=name or f"{role.title()} Number{n}",
            password=None,
            role=role,
        )
        token = issue_token(s, agent=agent, kind="api", name="tests")
    return agent, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
