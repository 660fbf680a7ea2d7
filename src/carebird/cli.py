"""The `carebird` command: a thin adapter over the same services the web layer calls."""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import IntegrityError

from carebird.config import Settings, load_settings
from carebird.db.database import Database
from carebird.errors import CarebirdError


class Context:
    def __init__(self, database: str | None) -> None:
        self._database = database
        self._settings: Settings | None = None
        self._databases: list[Database] = []

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(database_url=self._database)
        return self._settings

    def db(self, *, upgrade: bool = True) -> Database:
        db = Database(self.settings.database_url)
        self._databases.append(db)
        if upgrade:
            db.upgrade()
        return db

    def close(self) -> None:
        for db in self._databases:
            db.dispose()

    @property
    def reopen_window(self) -> timedelta:
        return timedelta(days=self.settings.reopen_window_days)


pass_ctx = click.make_pass_decorator(Context)


@click.group()
@click.option("--database", envvar="CAREBIRD_DATABASE_URL", help="SQLAlchemy database URL.")
@click.option("-v", "--verbose", is_flag=True, help="Log progress.")
@click.pass_context
def cli(ctx: click.Context, database: str | None, verbose: bool) -> None:
    """carebird: a self-hosted social customer-care desk."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = Context(database)
    ctx.call_on_close(ctx.obj.close)


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
    from carebird.ingest.replay import import_file

    report = import_file(
        ctx.db(),
        path,
        fmt=fmt,
        reopen_window=ctx.reopen_window,
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
    from carebird.insights.export import write_cases
    from carebird.insights.metrics import case_times

    database = ctx.db()
    with database.session() as session:
        if output is None:
            n = write_cases(case_times(session), sys.stdout, fmt=fmt)
        else:
            with output.open("w", encoding="utf-8", newline="") as out:
                n = write_cases(case_times(session), out, fmt=fmt)
    click.echo(f"{n} cases exported", err=True)


@cli.command("simulate")
@click.option("--seed", default=None, type=int, help="Simulation seed (default: settings).")
@click.option("--count", default=1000, show_default=True, help="Messages to ingest.")
@click.option("--batch-size", default=500, show_default=True)
@pass_ctx
def simulate_cmd(ctx: Context, seed: int | None, count: int, batch_size: int) -> None:
    """Ingest COUNT simulated messages as fast as possible (resumes from the saved cursor)."""
    from carebird.pipeline import drain
    from carebird.plugins import connector_class
    from carebird.runner import register_accounts

    database = ctx.db()
    sim = connector_class("sim")(
        seed=ctx.settings.sim_seed if seed is None else seed, limit_total=count
    )
    register_accounts(database, sim)
    report = drain(database, sim, reopen_window=ctx.reopen_window, limit=batch_size)
    click.echo(
        json.dumps(
            {
                "stored": report.stored,
                "duplicates": report.duplicates,
                "new_cases": len(report.new_cases),
            }
        )
    )


@cli.group()
def agents() -> None:
    """Desk users."""


@agents.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    type=click.Choice(["admin", "supervisor", "agent", "viewer"]),
    default="agent",
    show_default=True,
)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@pass_ctx
def agents_create(ctx: Context, email: str, name: str, role: str, password: str) -> None:
    """Create an agent."""
    from carebird.auth.service import create_agent

    with ctx.db().session() as session, session.begin():
        agent = create_agent(session, email=email, name=name, password=password, role=role)
        click.echo(f"agent {agent.id} {agent.email} ({agent.role}, {agent.initials})")


@cli.group()
def tokens() -> None:
    """API tokens."""


@tokens.command("create")
@click.option("--email", required=True, help="The agent the token acts as.")
@click.option("--name", default="cli", show_default=True)
@pass_ctx
def tokens_create(ctx: Context, email: str, name: str) -> None:
    """Print a new API token (shown once)."""
    from sqlalchemy import select

    from carebird.auth.service import issue_token
    from carebird.cases.models import Agent

    with ctx.db().session() as session, session.begin():
        agent = session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
        if agent is None:
            raise click.ClickException(f"no agent {email}")
        click.echo(issue_token(session, agent=agent, kind="api", name=name))


@cli.command("serve")
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@click.option("--simulate/--no-simulate", default=None, help="Run the simulated network.")
@click.option(
    "--no-worker",
    is_flag=True,
    help="Serve the web only; `carebird worker` processes do the background work.",
)
@pass_ctx
def serve(
    ctx: Context, host: str | None, port: int | None, simulate: bool | None, no_worker: bool
) -> None:
    """Run the desk: web UI, API and the background work (polling, sending, re-scoring)."""
    _serve(ctx, host=host, port=port, simulate=simulate, worker=not no_worker)


@cli.command("demo")
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@pass_ctx
def demo(ctx: Context, host: str | None, port: int | None) -> None:
    """Run the desk on the simulated network, with an admin login printed at start."""
    ctx._settings = ctx.settings.model_copy(update={"env": "dev"})  # the built-in key will do
    _serve(ctx, host=host, port=port, simulate=True, worker=True)


def _serve(
    ctx: Context, *, host: str | None, port: int | None, simulate: bool | None, worker: bool
) -> None:
    import uvicorn

    from carebird.app import create_app
    from carebird.auth.service import ensure_admin
    from carebird.reply.templates import seed_default_templates

    settings = ctx.settings.model_copy(
        update={
            k: v
            for k, v in {"host": host, "port": port, "simulate": simulate}.items()
            if v is not None
        }
    )
    settings.check_secrets()
    database = ctx.db()
    for attempt in range(3):
        # Web processes starting together race to create the first admin and the prepared
        # answers: the unique keys decide, and the loser finds the winner's rows.
        try:
            with database.session() as session, session.begin():
                admin, password = ensure_admin(
                    session, email=settings.admin_email, password=settings.admin_password
                )
                seed_default_templates(session)  # only adds the prepared answers missing
            break
        except IntegrityError:
            if attempt == 2:
                raise
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
    app = create_app(settings, db=database, background_work=worker)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


@cli.group()
def bench() -> None:
    """Benchmarks that print figures."""


@bench.command("ingest")
@click.option("--messages", default=100_000, show_default=True)
@click.option("--batch-size", default=1000, show_default=True)
@pass_ctx
def bench_ingest(ctx: Context, messages: int, batch_size: int) -> None:
    """Messages/s through normalise → understand → store → thread, beside raw inserts."""
    from carebird.bench import bench_ingest as run

    figures: dict[str, Any] = run(
        ctx.settings.database_url, messages=messages, batch_size=batch_size
    )
    click.echo(json.dumps(figures, indent=2))


@bench.command("understand")
@click.option("--messages", default=20_000, show_default=True)
def bench_understand(messages: int) -> None:
    """Messages/s of the whole understanding step on one core, and the peak memory."""
    from carebird.bench import bench_understand as run

    click.echo(json.dumps(run(messages=messages), indent=2))


@bench.command("cost")
@click.option("--weekly", default=30_000, show_default=True, help="Messages a week (KLM: 30,000).")
@click.option("--days", default=30, show_default=True)
@click.option("--cap", default=1000.0, show_default=True, help="Monthly cap to compare with ($).")
@pass_ctx
def bench_cost(ctx: Context, weekly: int, days: int, cap: float) -> None:
    """X API calls and cost of a simulated month under several polling plans."""
    from carebird.cases.hours import BusinessHours
    from carebird.ingest.usage import prices_for
    from carebird.insights.apicost import cost_of_month, month_of_traffic
    from carebird.polling import PollingPlan

    settings = ctx.settings
    hours = BusinessHours.parse(settings.opening_hours, settings.timezone)
    traffic = month_of_traffic(weekly=weekly, days=days)
    chosen = (settings.poll_open_seconds, settings.poll_closed_seconds)
    every = settings.reconcile_interval_seconds
    plans = [
        ("configured", *chosen, every),
        ("configured, no reconciliation", *chosen, None),
        ("fast (15 s / 120 s)", 15.0, 120.0, every),
        ("thrifty (60 s / 900 s)", 60.0, 900.0, every),
    ]
    out = {
        "messages": sum(len(t) for k, t in traffic.times.items() if k != "own"),
        "days": days,
        "opening_hours": f"{settings.opening_hours} {settings.timezone}",
        "plans": [
            cost_of_month(
                traffic,
                plan=PollingPlan(open_s, closed_s, hours),
                name=name,
                reconcile_every=recon,
                reconcile_window=settings.reconcile_window_minutes * 60,
                prices=prices_for("x", settings.prices),
            ).as_dict(cap)
            for name, open_s, closed_s, recon in plans
        ],
    }
    click.echo(json.dumps(out, indent=2))


# The understanding (classify, train, eval) and account commands live in their own modules.
from carebird import cli_accounts, cli_doctor, cli_understand, cli_worker  # noqa: E402, F401


def main() -> None:
    try:
        cli(standalone_mode=True)
    except CarebirdError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
