"""`carebird metrics`: the desk's figures for a period and filters (carebird.insights.figures),
as text, as one JSON object, or one of its tables as CSV or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from carebird.cli.root import Context, cli, pass_ctx
from carebird.errors import InvalidInput, NotFound


@cli.command("metrics")
@click.option("--from", "start", default=None, help="First day (YYYY-MM-DD, the desk's zone).")
@click.option("--to", "end", default=None, help="Last day, included (YYYY-MM-DD).")
@click.option("--account", default=None, help="An account's id or handle (network:handle).")
@click.option("--team", default=None, help="A team's id or name.")
@click.option("--network", default=None, help="x, mastodon, bluesky, sim…")
@click.option("--agent", default=None, help="An agent's id or e-mail.")
@click.option("--category", default=None, help="complaint, assistance, question…")
@click.option("--language", default=None, help="Of the opening message: fr, en…")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option("--table", default=None, help="Print one table (by_category, by_agent, cases…).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True, help="The table's format.")  # fmt: skip
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
@pass_ctx
def metrics_cmd(
    ctx: Context,
    /,
    start: str | None,
    end: str | None,
    as_json: bool,
    table: str | None,
    fmt: str,
    output: Path | None,
    **filters: str | None,
) -> None:
    """Response times, silence, volumes and per-agent figures of the cases opened in a period
    (default: all), derived from the messages and the case event log."""
    from carebird.cases.sla import SlaSetup
    from carebird.insights.drill import case_rows
    from carebird.insights.export import write_table
    from carebird.insights.figures import load_facts, metrics
    from carebird.insights.figures import table as pick
    from carebird.insights.query import parse_query

    settings = ctx.settings
    with ctx.db().session() as session:
        try:
            query = parse_query(
                session, timezone=settings.timezone, start=start, end=end, **filters
            )
        except InvalidInput as exc:
            raise click.UsageError(str(exc)) from None
        calendars = SlaSetup.from_settings(settings).calendars(session)
        facts = load_facts(session, query, calendars)
        report = metrics(session, query, calendars, facts=facts)
        if table is None:
            _print(report, as_json)
            return
        try:
            rows: list[dict[str, Any]] = (
                case_rows(facts) if table == "cases" else pick(report, table)
            )
        except NotFound as exc:
            raise click.UsageError(str(exc)) from None
    if output is None:
        write_table(rows, sys.stdout, fmt=fmt)
    else:
        with output.open("w", encoding="utf-8", newline="") as out:
            write_table(rows, out, fmt=fmt)


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    for key, value in report.items():
        if isinstance(value, list):
            click.echo(f"{key}: {len(value)} rows (--table {key})")
        elif isinstance(value, float):
            click.echo(f"{key}: {value:.4g}")
        else:
            click.echo(f"{key}: {value}")
