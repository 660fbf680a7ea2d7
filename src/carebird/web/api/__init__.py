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
    system,
)

router = APIRouter()
for module in (auth, cases, messages, agents, accounts, composer, live, casework, docs, system):
    router.include_router(module.router)

__all__ = ["router"]
