"""The JSON API under /api: what integrations, the pages' scripts and the tests drive."""

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
)

router = APIRouter()
for module in (auth, cases, messages, agents, accounts, composer, live, casework, docs):
    router.include_router(module.router)

__all__ = ["router"]
