"""`carebird staffing`: how many agents a target service level takes (Erlang C)."""

from __future__ import annotations

import json

import click

from carebird.cli.root import cli


@cli.command("staffing")
@click.option("--arrivals", type=float, required=True, help="Contacts arriving per interval.")
@click.option("--interval-minutes", type=float, default=60.0, show_default=True)
@click.option("--handle-seconds", type=float, required=True, help="Average handling time.")
@click.option("--answer-within-seconds", type=float, required=True, help="The target's T.")
@click.option(
    "--service-level", type=float, required=True, help="Share answered within T, e.g. 0.8."
)
@click.option("--shrinkage", type=float, default=0.0, show_default=True,
              help="Share of paid time off the floor (breaks, training, absence).")  # fmt: skip
@click.option("--concurrency", type=float, default=None,
              help="Conversations per agent at once (adds the asynchronous bound).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def staffing(
    arrivals: float,
    interval_minutes: float,
    handle_seconds: float,
    answer_within_seconds: float,
    service_level: float,
    shrinkage: float,
    concurrency: float | None,
    as_json: bool,
) -> None:
    """Agents needed for a service level, with Erlang C (one contact per agent at a time)."""
    from carebird.insights.staffing import concurrent_bound, plan

    result = plan(
        arrivals=arrivals,
        interval_minutes=interval_minutes,
        handle_seconds=handle_seconds,
        answer_within_seconds=answer_within_seconds,
        service_level_target=service_level,
        shrinkage=shrinkage,
    )
    out = result.as_dict()
    if concurrency is not None:
        out["concurrent_agents"] = concurrent_bound(result.load_erlangs, concurrency=concurrency)
    if as_json:
        click.echo(json.dumps(out))
        return
    click.echo(
        f"{result.agents} agents answering ({result.scheduled} scheduled): "
        f"{result.service_level:.1%} answered within {answer_within_seconds:g} s, "
        f"average wait {result.average_wait_seconds:.1f} s, occupancy {result.occupancy:.1%}"
    )
    if concurrency is not None:
        click.echo(f"at {concurrency:g} conversations each: {out['concurrent_agents']} agents")
