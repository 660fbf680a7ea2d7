"""The dashboard (supervisors): the figures of carebird.insights.figures for a period and
filters held in the URL, drawn as server-side SVG, each bar, cell and figure a link to the
cases behind it (/dashboard/cases); and a printable weekly report (/dashboard/report)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from carebird.cases.sla import SlaSetup
from carebird.config import Settings
from carebird.i18n import N_
from carebird.insights.casefacts import CaseFacts
from carebird.insights.drill import SLICES, case_rows, drill
from carebird.insights.figures import GROUPS, load_facts, metrics
from carebird.insights.query import MetricsQuery, week_bounds
from carebird.web.api.metrics import metrics_query
from carebird.web.deps import AppSettings, DbSession, Sla, Supervisor
from carebird.web.ui import directory
from carebird.web.ui.charts import Chart, Column, Item, columns, hbars, heat
from carebird.web.ui.i18n import pick_locale
from carebird.web.ui.pages import language_names
from carebird.web.ui.render import render
from carebird.web.ui.words import network_labels

router = APIRouter(include_in_schema=False)
PARAMS = ("from", "to", "account", "team", "agent", "network", "category", "language")
DEFAULT_DAYS = 30
# More panels (e.g. "satisfaction" for a report section of that name): each NAME is drawn by
# templates/dashboard_panel_NAME.html with the report, `given` and `link` in its context.
EXTRA_PANELS: tuple[str, ...] = ("satisfaction",)
MAX_ROWS = 500
BUCKET_LABELS = {
    "first_15m": N_("≤ 15 min"),
    "first_1h": N_("15–60 min"),
    "first_4h": N_("1–4 h"),
    "first_24h": N_("4–24 h"),
    "first_later": N_("> 24 h"),
    "silent": N_("Never answered"),
}
SLICE_LABELS = {
    "all": N_("All cases"),
    "support": N_("Support cases"),
    "answered": N_("Answered support cases"),
    "silent": N_("Support cases never answered"),
    "contact_only": N_("Contacted but never answered"),
    "no_contact": N_("Never contacted"),
    "within_1h": N_("Answered within 1 h"),
    "over_1h": N_("Not answered within 1 h"),
    "within_24h": N_("Answered within 24 h"),
    "over_24h": N_("Not answered within 24 h"),
    "resolved": N_("Resolved"),
    "reopened": N_("Reopened"),
} | {k: v for k, v in BUCKET_LABELS.items() if k != "silent"}
Param = Annotated[str, Query(max_length=200)]


def _given(request: Request, settings: Settings) -> dict[str, str]:
    """The URL's period and filters (a missing period: the last 30 days)."""
    got = {k: request.query_params.get(k, "").strip()[:200] for k in PARAMS}
    if not got["from"] and not got["to"]:
        today = datetime.now(ZoneInfo(settings.timezone)).date()
        got["from"] = (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        got["to"] = today.isoformat()
    return {k: v for k, v in got.items() if v}


def _query(session: DbSession, settings: Settings, given: dict[str, str]) -> MetricsQuery:
    named = {("start" if k == "from" else "end" if k == "to" else k): v for k, v in given.items()}
    return metrics_query(session, settings, dict(named))


def link(base: dict[str, str], path: str = "/dashboard/cases", **more: Any) -> str:
    merged = base | {k: str(v) for k, v in more.items() if v is not None}
    return f"{path}?{urlencode(merged)}"


def _charts(
    report: dict[str, Any], facts: list[CaseFacts], given: dict[str, str], locale: str
) -> dict[str, Chart]:
    from carebird.web.ui.i18n import gettext

    def t(msgid: str) -> str:
        return gettext(locale, msgid)

    counts = {name: len(drill(facts, _DUMMY, slice_=name)) for name in BUCKET_LABELS}
    dist = [Column(t(BUCKET_LABELS[n]), ((counts[n], "bar" if n != "silent" else "bar silent"),),
                   f"{t(BUCKET_LABELS[n])}: {counts[n]}", link(given, slice=n))
            for n in BUCKET_LABELS]  # fmt: skip
    days = [Column(r["day"][5:], ((r["support_cases"], "bar"), (r["cases"] - r["support_cases"],
                   "bar other")), f"{r['day']}: {r['cases']}", link(given, day=r["day"]))
            for r in report["by_day"]]  # fmt: skip
    mood = [Column(r["day"][5:], ((r["negative"], "bar negative"), (r["neutral"], "bar neutral"),
                   (r["positive"], "bar positive")),
                   f"{r['day']}: {r['negative']} / {r['neutral']} / {r['positive']}",
                   link(given, day=r["day"])) for r in report["sentiment_trend"]]  # fmt: skip
    day_names = get_day_names("abbreviated", locale=locale)
    names = [str(day_names[i]) for i in range(7)]
    cells = [(c["weekday"], c["hour"], c["cases"], f"{names[c['weekday']]} {c['hour']:02d}h: "
              f"{c['cases']}", link(given, weekday=c["weekday"], hour=c["hour"]))
             for c in report["by_hour_of_week"]]  # fmt: skip
    langs = language_names(locale)
    nets = network_labels(locale)

    def show(name: str, value: str) -> str:
        if name == "by_category":
            return t(_CATEGORY.get(value, value))
        if name == "by_language":
            return langs.get(value, value)
        return nets.get(value, value)

    out = {
        "first_response": columns(dist, title=t(N_("First real answer"))),
        "volume": columns(days, title=t(N_("Cases opened per day"))),
        "sentiment": columns(mood, title=t(N_("Customers' messages by sentiment"))),
        "hours": heat(cells, title=t(N_("Cases opened per hour of the week")), days=names),
    }
    for name in ("by_category", "by_network", "by_language"):
        column = GROUPS[name][0]
        out[name] = hbars([Item(show(name, r[column]) or "—", r["cases"], str(r["cases"]),
                                link(given, group=name, value=r[column]))
                           for r in report[name][:12]], title=t(TITLES[name]))  # fmt: skip
    return out


_DUMMY = MetricsQuery()
TITLES = {
    "by_category": N_("Cases by category"),
    "by_network": N_("Cases by network"),
    "by_language": N_("Cases by language"),
}
_CATEGORY = {
    "complaint": N_("Complaint"),
    "assistance": N_("Assistance"),
    "question": N_("Question"),
    "suggestion": N_("Suggestion"),
    "praise": N_("Praise"),
    "other": N_("Not a support request"),
}


def _choices(session: DbSession) -> dict[str, Any]:
    from carebird.ingest.accounts import list_accounts

    return {
        "accounts": list_accounts(session),
        "teams": directory.teams(session),
        "people": directory.active_agents(session),
    }


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request, agent: Supervisor, session: DbSession, settings: AppSettings, sla: Sla
) -> HTMLResponse:
    given = _given(request, settings)
    query = _query(session, settings, given)
    calendars = sla.calendars(session)
    facts = load_facts(session, query, calendars)
    report = metrics(session, query, calendars, facts=facts)
    locale = pick_locale(agent.locale, request.headers.get("accept-language"))
    return render(
        request, "dashboard.html", agent=agent, report=report, given=given,
        charts=_charts(report, facts, given, locale), link=link, exports=_exports(report),
        languages=language_names(locale), extra_panels=EXTRA_PANELS, **_choices(session),
    )  # fmt: skip


def _exports(report: dict[str, Any]) -> list[str]:
    from carebird.insights.figures import tables

    return [*tables(report), "cases"]


@router.get("/dashboard/cases", response_class=HTMLResponse)
def drill_page(
    request: Request,
    agent: Supervisor,
    session: DbSession,
    settings: AppSettings,
    sla: Sla,
    slice: Annotated[str, Query(max_length=40)] = "all",
    group: Annotated[str | None, Query(max_length=40)] = None,
    value: Param = "",
    weekday: Annotated[int | None, Query(ge=0, le=6)] = None,
    hour: Annotated[int | None, Query(ge=0, le=23)] = None,
    day: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
) -> HTMLResponse:
    """The cases behind one figure of the dashboard."""
    given = _given(request, settings)
    query = _query(session, settings, given)
    facts = load_facts(session, query, sla.calendars(session))
    picked = drill(facts, query, slice_=slice, group=group, value=value, weekday=weekday,
                   hour=hour, day=day)  # fmt: skip
    return render(
        request, "dashboard_cases.html", agent=agent, given=given, link=link,
        rows=case_rows(picked[:MAX_ROWS]), total=len(picked), slice_label=SLICE_LABELS.get(
            slice, slice), slices=SLICES, group=group, value=value, weekday=weekday,
        hour=hour, day=day, **_choices(session),
    )  # fmt: skip


@router.get("/dashboard/report", response_class=HTMLResponse)
def weekly_report(
    request: Request,
    agent: Supervisor,
    session: DbSession,
    settings: AppSettings,
    sla: Sla,
    week: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """A week's figures beside the week before, laid out for printing."""
    return render(request, "dashboard_report.html", agent=agent,
                  **report_context(session, settings, sla, week))  # fmt: skip


def report_context(
    session: DbSession, settings: Settings, sla: SlaSetup, week: str
) -> dict[str, Any]:
    tz = ZoneInfo(settings.timezone)
    if not week.strip():
        week = (datetime.now(tz).date() - timedelta(days=7)).isoformat()  # the last whole week
    monday, start, end = week_bounds(week, tz)
    calendars = sla.calendars(session)
    base = MetricsQuery(timezone=settings.timezone)
    this = metrics(session, base.narrowed(start=start, end=end), calendars)
    _, p_start, p_end = week_bounds((monday - timedelta(days=7)).isoformat(), tz)
    before = metrics(session, base.narrowed(start=p_start, end=p_end), calendars)
    iso = monday.isocalendar()
    given = {"from": monday.isoformat(), "to": (monday + timedelta(days=6)).isoformat()}
    return {
        "this": this, "before": before, "monday": monday, "sunday": monday + timedelta(days=6),
        "week_name": f"{iso.year}-W{iso.week:02d}", "given": given, "link": link,
        "previous": (monday - timedelta(days=7)).isoformat(),
        "next": (monday + timedelta(days=7)).isoformat(),
    }  # fmt: skip
