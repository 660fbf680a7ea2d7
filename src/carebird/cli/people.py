"""People and their credentials: agents and API tokens."""

from __future__ import annotations

import click

from carebird.cli.root import Context, cli, pass_ctx


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

    from carebird.auth.models import Agent
    from carebird.auth.service import issue_token

    with ctx.db().session() as session, session.begin():
        agent = session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
        if agent is None:
            raise click.ClickException(f"no agent {email}")
        click.echo(issue_token(session, agent=agent, kind="api", name=name))
