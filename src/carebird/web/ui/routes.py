"""Every page route, gathered for `create_app`."""

from fastapi import APIRouter

from carebird.web.ui import (
    accounts,
    incidents,
    login,
    outside,
    pages,
    password,
    people,
    preferences,
    routing,
    system,
    teams,
)

router = APIRouter(include_in_schema=False)
router.include_router(login.router)
router.include_router(preferences.router)
router.include_router(pages.router)
router.include_router(incidents.router)  # incidents: volume, cases, reply to all, close
router.include_router(outside.router)  # signed links for outside owners: no desk login
router.include_router(system.router)  # admins: workers, streams, the outbox
router.include_router(routing.router)  # supervisors: routing rules and their dry run
router.include_router(accounts.router)  # admins: connecting network accounts, their settings
router.include_router(teams.router)  # admins: teams; every agent: their status
router.include_router(people.router)  # admins: people; everyone: their API tokens
router.include_router(password.router)  # invitation and reset links: no desk login
