"""The API's description for signed-in agents: the OpenAPI JSON and a plain page listing it.

FastAPI's own docs page loads Swagger UI from a CDN; the desk serves no third-party assets, so
it lists the endpoints server-side instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from carebird.web.deps import Viewer
from carebird.web.ui.render import render

router = APIRouter(prefix="/api", tags=["docs"])
METHODS = ("get", "post", "put", "patch", "delete")


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, agent: Viewer) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi()
    return schema


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse)
def docs(request: Request, agent: Viewer) -> HTMLResponse:
    schema = request.app.openapi()
    endpoints = [
        {
            "method": method.upper(),
            "path": path,
            "summary": op.get("summary", ""),
            "description": op.get("description", ""),
            "params": [p.get("name", "") for p in op.get("parameters", [])],
        }
        for path, item in schema.get("paths", {}).items()
        for method, op in item.items()
        if method in METHODS
    ]
    return render(request, "api_docs.html", agent=agent, endpoints=endpoints, info=schema["info"])
