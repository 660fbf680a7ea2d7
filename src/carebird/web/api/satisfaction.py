"""Customer satisfaction from the surveys after resolutions (supervisors): the overall score
and per agent, category and account (carebird.insights.satisfaction)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from carebird.insights.satisfaction import (
    SatisfactionFilters,
    parse_moment,
    satisfaction_summary,
)
from carebird.web.deps import DbSession, Supervisor
from carebird.web.params import IdQuery

router = APIRouter(prefix="/api", tags=["insights"])
Text = Annotated[str | None, Query(max_length=40)]


def filters_of(
    account_id: int | None,
    network: str | None,
    team_id: int | None,
    agent_id: int | None,
    category: str | None,
    language: str | None,
) -> SatisfactionFilters:
    return SatisfactionFilters(
        account_id=account_id,
        network=network or None,
        team_id=team_id,
        agent_id=agent_id,
        category=category or None,
        language=language or None,
    )


@router.get("/satisfaction")
def satisfaction(
    agent: Supervisor,
    session: DbSession,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    account_id: IdQuery = None,
    network: Text = None,
    team_id: IdQuery = None,
    agent_id: IdQuery = None,
    category: Text = None,
    language: Text = None,
) -> dict[str, Any]:
    """Surveys offered in [from, to) (dates or ISO times, UTC by default): `overall`,
    `by_agent`, `by_category`, `by_account`, each with surveys, sent, responses,
    response_rate, mean (1–5), csat (share of 4–5) and the distribution of scores."""
    return satisfaction_summary(
        session,
        start=parse_moment(start, what="from"),
        end=parse_moment(end, what="to"),
        filters=filters_of(account_id, network, team_id, agent_id, category, language),
    )
