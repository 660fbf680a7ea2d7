"""The web application: `create_app(settings)` wires the API, the pages and background work.

Nothing here holds state at module level: the settings and the database travel in `app.state`,
so tests build as many independent apps as they like.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carebird import __version__
from carebird.cases.priority import weights_for
from carebird.cases.routing import RoutingSetup
from carebird.cases.sla import SlaSetup
from carebird.config import Settings, load_settings
from carebird.db.database import Database
from carebird.errors import AuthError, CarebirdError
from carebird.jobs.runner import serve_background
from carebird.web import api
from carebird.web.deps import optional_agent
from carebird.web.ui import routes as ui_routes
from carebird.web.ui.render import render

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


class SecurityHeaders:
    """Adds a strict CSP (no inline script, nothing from elsewhere) and friends to responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def handle_error(request: Request, exc: Exception) -> Response:
    """The one mapping from domain errors to HTTP: JSON for the API, a page for browsers."""
    assert isinstance(exc, CarebirdError)
    status = exc.status_code
    if status >= 500:
        log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
    if _is_api(request):
        response = JSONResponse(
            {"error": type(exc).__name__, "detail": str(exc)}, status_code=status
        )
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:  # a rate limit or a login lock-out: say when to come back
            response.headers["Retry-After"] = str(max(1, round(float(retry_after))))
        return response
    if type(exc) is AuthError and request.method == "GET":
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)
    agent = None
    if not isinstance(exc, AuthError):
        with request.app.state.db.session() as session:
            agent = optional_agent(request, session)
    return render(
        request, "error.html", agent=agent, status_code=status, status=status, message=str(exc)
    )


def create_app(
    settings: Settings, *, db: Database | None = None, background_work: bool = False
) -> FastAPI:
    """The desk's web app; with `background_work` its lifespan also runs the background work
    (`carebird serve` does; `serve --no-worker` and tests that drive the work themselves don't).
    """
    settings.check_secrets()
    owns_db = db is None
    database = db if db is not None else Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            if background_work:
                async with serve_background(settings, database):
                    yield
            else:
                yield
        finally:
            if owns_db:
                database.dispose()

    app = FastAPI(
        title="carebird",
        version=__version__,
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN; see web/api/docs.py
        redoc_url=None,
        openapi_url=None,  # served to signed-in agents only, by web/api/docs.py
        lifespan=lifespan,
    )
    app.state.settings = settings
    # Checked at start: a bad rule in the configuration stops the desk, not a request.
    app.state.routing = RoutingSetup.from_config(settings.routing, settings.teams)
    app.state.sla = SlaSetup.from_settings(settings)
    app.state.weights = weights_for(settings.priority_weights)
    app.state.db = database
    app.add_exception_handler(CarebirdError, handle_error)
    app.add_middleware(SecurityHeaders)
    app.include_router(api.router)
    app.include_router(ui_routes.router)
    app.mount("/static", StaticFiles(packages=[("carebird.web", "static")]), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        with database.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok"}

    return app


def served_environment(settings: Settings) -> None:
    """Hand the command line's choices to the web processes of `carebird serve --workers N`:
    they build their settings from the environment and the configuration, as the command did."""
    os.environ.update(
        {
            "CAREBIRD_DATABASE_URL": settings.database_url,
            "CAREBIRD_HOST": settings.host,
            "CAREBIRD_PORT": str(settings.port),
            "CAREBIRD_SIMULATE": "false",
        }
    )


def served_app() -> FastAPI:
    """The app of one of `carebird serve --workers N`'s web processes: the web only (the
    command's own process does the background work)."""
    app = create_app(load_settings(), background_work=False)
    tune_collector()
    return app


YOUNG_COLLECTION_EVERY = 20_000  # allocations; CPython's default is 700


def tune_collector() -> None:
    """For a serving process, once its app is built: what start-up made (the app and its routes,
    SQLAlchemy's mappers and statement caches, the models) is set aside from the cyclic
    garbage collector (`gc.freeze`), and the youngest generation is collected every 20,000
    allocations. A page allocates thousands of objects: with the defaults, collections ran
    all the time and the older ones walked the whole heap, holding every request of the
    process; under 20 clients one request in thirty waited 0.4-0.6 s for them (p99 of
    /api/inbox at 100,000 cases 0.38-0.63 s before, 0.16 s after; `python -m benchmarks.inbox`)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, 20, 20)
