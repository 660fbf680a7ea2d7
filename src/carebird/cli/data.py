"""Data in and out: migrations, the search index, imports, exports, the simulated stream."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from carebird.cli.root import Context, cli, pass_ctx


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Apply every migration."""
    from carebird.db.migrate import current

    database = ctx.db()
    click.echo(f"database at revision {current(database.engine)}")


@db.command("reindex")
@pass_ctx
def db_reindex(ctx: Context) -> None:
    """Rebuild the inbox search index (cases from before it existed, or after a restore)."""
    from carebird.cases.search import reindex_all

    with ctx.db().session() as session, session.begin():
        click.echo(f"{reindex_all(session)} cases indexed")


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["twcs", "jsonl"]),
    default=None,
    help="File format (default: from the extension).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.option("--batch-size", default=1000, show_default=True)
@pass_ctx
def import_cmd(ctx: Context, path: Path, fmt: str | None, as_json: bool, batch_size: int) -> None:
    """Import a TWCS CSV or a carebird JSON-lines file (idempotent)."""
    from carebird.flows.importing import import_file

    report = import_file(
        ctx.db(),
        path,
        fmt=fmt,
        intake=ctx.intake,
        batch_size=batch_size,
        progress=not as_json and sys.stderr.isatty(),
    )
    summary = report.to_dict()
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        for key, value in summary.items():
            if key != "skipped":
                click.echo(f"{key}: {value}")
        for line, reason in report.skipped[:50]:
            click.echo(f"skipped line {line}: {reason}", err=True)


@cli.group()
def cases() -> None:
    """Cases."""


@cases.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
@pass_ctx
def cases_export(ctx: Context, fmt: str, output: Path | None) -> None:
    """Every case with its customer, times and first-response / resolution seconds."""
    from carebird.cases.sla import SlaSetup
    from carebird.db.base import utcnow
    from carebird.insights.export import write_cases
    from carebird.insights.metrics import case_times, with_deadlines

    sla = SlaSetup.from_settings(ctx.settings)
    database = ctx.db()
    with database.session() as session:
        rows = with_deadlines(session, case_times(session), sla, now=utcnow())
        if output is None:
            n = write_cases(rows, sys.stdout, fmt=fmt)
        else:
            with output.open("w", encoding="utf-8", newline="") as out:
                n = write_cases(rows, out, fmt=fmt)
    click.echo(f"{n} cases exported", err=True)


@cli.command("simulate")
@click.option("--seed", default=None, type=int, help="Simulation seed (default: settings).")
@click.option("--count", default=1000, show_default=True, help="Messages to ingest.")
@click.option("--batch-size", default=500, show_default=True)
@pass_ctx
def simulate_cmd(ctx: Context, seed: int | None, count: int, batch_size: int) -> None:
    """Ingest COUNT simulated messages as fast as possible (resumes from the saved cursor)."""
    from carebird.flows.intake import drain
    from carebird.jobs.runner import register_accounts
    from carebird.plugins import connector_class

    database = ctx.db()
    sim = connector_class("sim")(
        seed=ctx.settings.sim_seed if seed is None else seed, limit_total=count
    )
    register_accounts(database, sim)
    report = drain(database, sim, intake=ctx.intake, limit=batch_size)
    click.echo(
        json.dumps(
            {
                "stored": report.stored,
                "duplicates": report.duplicates,
                "new_cases": len(report.new_cases),
            }
        )
    )
