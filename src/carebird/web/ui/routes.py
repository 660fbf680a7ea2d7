"""Every page route, gathered for `create_app`."""

from fastapi import APIRouter

from carebird.web.ui import (
    accounts,
    articles,
    dashboard,
    incidents,
    login,
    outside,
    pages,
    password,
    people,
    preferences,
    public_wait,
    routing,
    satisfaction,
    staffing,
    survey,
    system,
    teams,
    transparency,
)

router = APIRouter(include_in_schema=False)
router.include_router(login.router)
router.include_router(preferences.router)
router.include_router(pages.router)
router.include_router(incidents.router)  # incidents: volume, cases, reply to all, close
router.include_router(outside.router)  # signed links for outside owners: no desk login
router.include_router(system.router)  # admins: workers, streams, the outbox
router.include_router(dashboard.router)  # supervisors: the figures, drill-down, weekly report
router.include_router(routing.router)  # supervisors: routing rules and their dry run
router.include_router(staffing.router)  # supervisors: agents needed per hour of the week
router.include_router(accounts.router)  # admins: connecting network accounts, their settings
router.include_router(teams.router)  # admins: teams; every agent: their status
router.include_router(people.router)  # admins: people; everyone: their API tokens
router.include_router(articles.router)  # agents: the knowledge base; anyone: help pages
router.include_router(password.router)  # invitation and reset links: no desk login
router.include_router(survey.router)  # customers' satisfaction survey links: no desk login
router.include_router(satisfaction.router)  # supervisors: the survey scores
router.include_router(transparency.router)  # public: opted-in accounts' response times
router.include_router(public_wait.router)  # the published expected wait: no login, opt-in
