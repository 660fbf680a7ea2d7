"""The JSON API under /api (and /metrics): what integrations, the pages' scripts and the tests
drive."""

from fastapi import APIRouter

from carebird.web.api import (
    accounts,
    acknowledgements,
    agents,
    articles,
    auth,
    cases,
    casework,
    composer,
    docs,
    incidents,
    live,
    messages,
    metrics,
    people,
    routing,
    satisfaction,
    suggestions,
    system,
    teams,
)

router = APIRouter()
for module in (
    auth, cases, messages, agents, teams, accounts, composer, live, casework, routing, docs,
    system, acknowledgements, people, satisfaction, metrics, articles, suggestions, incidents,
):  # fmt: skip
    router.include_router(module.router)

__all__ = ["router"]
