"""`carebird worker`: the desk's background work on PostgreSQL (see carebird.jobs.worker)."""

from __future__ import annotations

import click

from carebird.cli.root import Context, cli, pass_ctx


@cli.command("worker")
@click.option("--concurrency", default=4, show_default=True, help="Jobs run at once.")
@pass_ctx
def worker_cmd(ctx: Context, concurrency: int) -> None:
    """Do the desk's background work on PostgreSQL (run as many as you like)."""
    import asyncio

    from carebird.jobs.worker import run_worker

    settings = ctx.settings
    settings.check_secrets()
    database = ctx.db()
    if database.dialect != "postgresql":
        raise click.UsageError(
            "`carebird worker` needs PostgreSQL (CAREBIRD_DATABASE_URL=postgresql://…); "
            "on SQLite, `carebird serve` does the background work itself"
        )
    click.echo(f"carebird worker on {database.engine.url.render_as_string()}", err=True)
    asyncio.run(run_worker(settings, database, concurrency=max(1, concurrency)))
