"""Every page route, gathered for `create_app`."""

from fastapi import APIRouter

from carebird.web.ui import login, pages

router = APIRouter(include_in_schema=False)
router.include_router(login.router)
router.include_router(pages.router)
