"""The Staffing page (supervisors): agents needed in each hour of the week, from the desk's own
history, as a heat map, with a what-if (`?factor=2`: "a 2× incident day") and the plan's
inputs in the address (handle time, answer-within target, service level, shrinkage,
conversations per agent, weeks read). The same figures as `carebird staffing --from-history`
(carebird.insights.staffing.week_plan)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from carebird.db.base import utcnow
from carebird.insights.staffing import WeekPlan, week_plan
from carebird.web.deps import AppSettings, DbSession, Supervisor
from carebird.web.ui.i18n import pick_locale
from carebird.web.ui.render import render

router = APIRouter(include_in_schema=False)
LEVELS = 8  # colour steps of the heat map (CSS classes heat-0 … heat-8)


def heat(value: int, peak: int) -> int:
    """The colour step of `value` on a scale up to `peak` (0: nobody needed)."""
    if value <= 0 or peak <= 0:
        return 0
    return max(1, round(value / peak * LEVELS))


def grid(result: WeekPlan) -> list[list[tuple[int, int, float]]]:
    """Rows of days, each 24 (agents, heat step, arrivals) cells."""
    peak = result.peak_agents
    cells = [[result.cell(d, h) for h in range(24)] for d in range(7)]
    return [[(c.agents, heat(c.agents, peak), c.arrivals) for c in row] for row in cells]


@router.get("/staffing", response_class=HTMLResponse)
def staffing_page(
    request: Request,
    agent: Supervisor,
    session: DbSession,
    settings: AppSettings,
    factor: Annotated[float, Query(gt=0, le=100)] = 1.0,
    weeks: Annotated[int, Query(ge=1, le=52)] = 4,
    handle_seconds: Annotated[float, Query(gt=0, le=86400)] = 300.0,
    answer_within_seconds: Annotated[float, Query(ge=0, le=7 * 86400)] = 3600.0,
    service_level: Annotated[float, Query(gt=0, lt=1)] = 0.8,
    shrinkage: Annotated[float, Query(ge=0, lt=1)] = 0.3,
    concurrency: Annotated[float, Query(ge=1, le=50)] = 3.0,
) -> HTMLResponse:
    result = week_plan(
        session,
        tz=ZoneInfo(settings.timezone),
        now=utcnow(),
        weeks=weeks,
        factor=factor,
        handle_seconds=handle_seconds,
        answer_within_seconds=answer_within_seconds,
        service_level_target=service_level,
        shrinkage=shrinkage,
        concurrency=concurrency,
    )
    locale = pick_locale(agent.locale)
    days = get_day_names("abbreviated", locale=locale)
    return render(
        request,
        "staffing.html",
        agent=agent,
        plan=result,
        rows=grid(result),
        days=[str(days[d]) for d in range(7)],
        totals={
            "agent_hours": sum(h.agents for h in result.hours),
            "scheduled_hours": sum(h.scheduled for h in result.hours),
            "peak_concurrent": max(h.concurrent_agents for h in result.hours),
        },
    )
