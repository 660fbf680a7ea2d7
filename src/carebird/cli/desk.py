"""Running the desk: `carebird serve` and `carebird demo`."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import click
from sqlalchemy.exc import IntegrityError

from carebird.cli.root import Context, cli, pass_ctx
from carebird.config import Settings
from carebird.db.database import Database
from carebird.errors import Conflict

if TYPE_CHECKING:
    from carebird.auth.models import Agent


@cli.command("serve")
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@click.option("--simulate/--no-simulate", default=None, help="Run the simulated network.")
@click.option(
    "--no-worker",
    is_flag=True,
    help="Serve the web only; `carebird worker` processes do the background work.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Web processes on the one port (one per core); the background work runs beside them.",
)
@pass_ctx
def serve(
    ctx: Context,
    host: str | None,
    port: int | None,
    simulate: bool | None,
    no_worker: bool,
    workers: int,
) -> None:
    """Run the desk: web UI, API and the background work (polling, sending, re-scoring)."""
    _serve(ctx, host=host, port=port, simulate=simulate, worker=not no_worker, workers=workers)


@cli.command("demo")
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@pass_ctx
def demo(ctx: Context, host: str | None, port: int | None) -> None:
    """Run the desk on the simulated network, with an admin login printed at start."""
    ctx._settings = ctx.settings.model_copy(update={"env": "dev"})  # the built-in key will do
    _serve(ctx, host=host, port=port, simulate=True, worker=True)


def _serve(
    ctx: Context,
    *,
    host: str | None,
    port: int | None,
    simulate: bool | None,
    worker: bool,
    workers: int = 1,
) -> None:
    import uvicorn

    from carebird.cases.routing import RoutingSetup
    from carebird.jobs.runner import background_thread
    from carebird.web.app import create_app, served_environment, tune_collector

    settings = ctx.settings.model_copy(
        update={
            k: v
            for k, v in {"host": host, "port": port, "simulate": simulate}.items()
            if v is not None
        }
    )
    settings.check_secrets()
    if workers > 1 and settings.simulate:
        # The simulated network lives in one process's memory: its replies could not be sent
        # from the others.
        raise click.UsageError("the simulation runs in one process: use --workers 1 with it")
    declared = RoutingSetup.from_config(settings.routing, settings.teams)  # checked first
    database = ctx.db()
    admin, password = prepare_desk(database, settings, declared.teams)
    url = f"http://{settings.host}:{settings.port}"
    click.echo(f"carebird is running at {url}  ({settings.database_url})")
    if password:
        click.echo(f"admin login: {admin.email}  password: {password}")
    else:
        click.echo(f"admin login: {admin.email} (password set earlier)")
    if settings.simulate:
        click.echo("simulated traffic is on: cases will arrive within seconds")
    if not worker:
        click.echo("background work is off here (--no-worker): run `carebird worker`")
    if workers > 1:
        # The web processes serve only; this one, which only supervises them, does the
        # background work on a thread of its own.
        served_environment(settings)
        with background_thread(settings, database) if worker else contextlib.nullcontext():
            uvicorn.run(
                "carebird.web.app:served_app",
                factory=True,
                host=settings.host,
                port=settings.port,
                workers=workers,
                log_level="warning",
            )
        return
    app = create_app(settings, db=database, background_work=worker)
    tune_collector()
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


def prepare_desk(
    database: Database, settings: Settings, teams: tuple[str, ...]
) -> tuple[Agent, str | None]:
    """The first admin (and its generated password, if this process made it), the prepared
    answers and the declared teams, whichever of several starting processes gets there first."""
    from carebird.auth.service import ensure_admin
    from carebird.cases.routing import RoutingSetup, ensure_teams
    from carebird.cases.teams import apply_declared
    from carebird.reply.templates import seed_default_templates

    for attempt in range(3):
        # Web processes starting together race to create the first admin and the prepared
        # answers: the unique keys decide (or the loser's check sees the winner's committed
        # admin: a Conflict), and on the next attempt the loser finds the winner's rows.
        try:
            with database.session() as session, session.begin():
                admin, password = ensure_admin(
                    session, email=settings.admin_email, password=settings.admin_password
                )
                seed_default_templates(session)  # only adds the prepared answers missing
                ensure_teams(session, teams)  # the [[teams]] of the configuration
                apply_declared(session, RoutingSetup.from_config({}, settings.teams).team_specs)
            return admin, password
        except (IntegrityError, Conflict):
            if attempt == 2:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")
