"""`carebird staffing`: how many agents a target service level takes (Erlang C), for one
interval or, from the desk's history, for every hour of the week."""

from __future__ import annotations

import json
from typing import Any

import click

from carebird.cli.root import Context, cli, pass_ctx


@cli.command("staffing")
@click.option("--arrivals", type=float, default=None, help="Contacts arriving per interval.")
@click.option("--interval-minutes", type=float, default=60.0, show_default=True)
@click.option("--handle-seconds", type=float, default=None,
              help="Average handling time (history: 300).")  # fmt: skip
@click.option("--answer-within-seconds", type=float, default=None,
              help="The target's T (history: 3600).")  # fmt: skip
@click.option("--service-level", type=float, default=None,
              help="Share answered within T, e.g. 0.8 (history: 0.8).")  # fmt: skip
@click.option("--shrinkage", type=float, default=None,
              help="Share of paid time off the floor (0; history: 0.3).")  # fmt: skip
@click.option("--concurrency", type=float, default=None,
              help="Conversations per agent at once (async bound; history: 3).")  # fmt: skip
@click.option("--from-history", is_flag=True,
              help="Every hour of the week from the desk's support cases.")  # fmt: skip
@click.option("--weeks", type=int, default=4, show_default=True, help="History read.")
@click.option("--factor", type=float, default=1.0, show_default=True,
              help="What-if: arrivals × this (2: a 2× incident day).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@pass_ctx
def staffing(ctx: Context, /, from_history: bool, as_json: bool, **given: Any) -> None:
    """Agents needed for a service level, with Erlang C (one contact per agent at a time)."""
    if from_history:
        _from_history(ctx, as_json=as_json, **given)
        return
    from carebird.insights.staffing import concurrent_bound, plan

    missing = [n for n in ("arrivals", "handle_seconds", "answer_within_seconds",
                           "service_level") if given[n] is None]  # fmt: skip
    if missing:
        names = ", ".join("--" + n.replace("_", "-") for n in missing)
        raise click.UsageError(f"give {names} (or --from-history)")
    result = plan(
        arrivals=given["arrivals"],
        interval_minutes=given["interval_minutes"],
        handle_seconds=given["handle_seconds"],
        answer_within_seconds=given["answer_within_seconds"],
        service_level_target=given["service_level"],
        shrinkage=given["shrinkage"] or 0.0,
    )
    out = result.as_dict()
    concurrency = given["concurrency"]
    if concurrency is not None:
        out["concurrent_agents"] = concurrent_bound(result.load_erlangs, concurrency=concurrency)
    if as_json:
        click.echo(json.dumps(out))
        return
    click.echo(
        f"{result.agents} agents answering ({result.scheduled} scheduled): "
        f"{result.service_level:.1%} answered within {given['answer_within_seconds']:g} s, "
        f"average wait {result.average_wait_seconds:.1f} s, occupancy {result.occupancy:.1%}"
    )
    if concurrency is not None:
        click.echo(f"at {concurrency:g} conversations each: {out['concurrent_agents']} agents")


def _from_history(ctx: Context, *, as_json: bool, **given: Any) -> None:
    from zoneinfo import ZoneInfo

    from carebird.db.base import utcnow
    from carebird.insights.staffing import week_plan

    def pick(name: str, default: float) -> float:
        return float(given[name]) if given[name] is not None else default

    with ctx.db().session() as session:
        result = week_plan(
            session,
            tz=ZoneInfo(ctx.settings.timezone),
            now=utcnow(),
            weeks=given["weeks"],
            factor=given["factor"],
            handle_seconds=pick("handle_seconds", 300.0),
            answer_within_seconds=pick("answer_within_seconds", 3600.0),
            service_level_target=pick("service_level", 0.8),
            shrinkage=pick("shrinkage", 0.3),
            concurrency=pick("concurrency", 3.0),
        )
    if as_json:
        click.echo(json.dumps(result.as_dict()))
        return
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    click.echo(
        f"agents per hour ({result.timezone}, {result.support_cases} support cases in "
        f"{result.weeks} weeks, ×{result.factor:g}); peak {result.peak_agents}"
    )
    click.echo("     " + " ".join(f"{h:>2}" for h in range(24)))
    for day, name in enumerate(days):
        row = " ".join(f"{result.cell(day, h).agents:>2}" for h in range(24))
        click.echo(f"{name}  {row}")
