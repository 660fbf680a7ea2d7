"""The JSON API under /api: what integrations, the pages' scripts and the tests drive."""

from fastapi import APIRouter

from carebird.web.api import accounts, agents, auth, cases, docs, messages

router = APIRouter()
for module in (auth, cases, messages, agents, accounts, docs):
    router.include_router(module.router)

__all__ = ["router"]
