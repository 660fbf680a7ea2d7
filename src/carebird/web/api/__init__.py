"""The JSON API under /api (and /metrics): what integrations, the pages' scripts and the tests
drive."""

from fastapi import APIRouter

from carebird.web.api import (
    accounts,
    agents,
    auth,
    cases,
    casework,
    composer,
    docs,
    live,
    messages,
    people,
    routing,
    system,
)

router = APIRouter()
for module in (
    auth, cases, messages, agents, accounts, composer, live, casework, routing, docs, system, people
):  # fmt: skip
    router.include_router(module.router)

__all__ = ["router"]
