"""The incident page: its volume over time (an SVG drawn here), its cases, and the agent's
actions — one reply to all (its cost told first), a status update, merge, split, close — sent
by /static/incident.js to the same API (web/api/incidents.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from carebird.auth.roles import has_role
from carebird.cases import incidents
from carebird.cases.incident_views import member_cases, volume
from carebird.web.deps import DbSession, Viewer
from carebird.web.params import Id
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)
WIDTH, HEIGHT = 600, 120


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(
    request: Request, incident_id: Id, agent: Viewer, session: DbSession
) -> HTMLResponse:
    incidents.get_incident(session, incident_id)
    row = incidents.list_incidents(session, ids=[incident_id])[0]
    bars, step = volume(session, incident_id)
    top = max((b.count for b in bars), default=1) or 1
    width = WIDTH / max(len(bars), 1)
    shapes = [
        {
            "x": round(n * width, 1),
            "w": round(max(width - 2, 1), 1),
            "h": round(b.count / top * (HEIGHT - 20), 1),
            "count": b.count,
            "start": b.start,
        }
        for n, b in enumerate(bars)
    ]
    return render(
        request,
        "incident.html",
        agent=agent,
        incident=row,
        cases=member_cases(session, incident_id),
        bars=shapes,
        step_minutes=int(step.total_seconds() // 60),
        chart={"width": WIDTH, "height": HEIGHT},
        can_write=has_role(agent, "agent"),
    )
