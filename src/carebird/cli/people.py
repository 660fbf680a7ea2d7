"""People and their credentials: agents (created, invited by e-mail, given a role,
deactivated, sent a password reset) and API tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from carebird.cli.root import Context, cli, pass_ctx

if TYPE_CHECKING:
    from carebird.mail import Mailer

ROLES = ["admin", "supervisor", "agent", "viewer"]


@cli.group()
def agents() -> None:
    """Desk users."""


@agents.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
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


def _mailer_and_url(ctx: Context) -> tuple[Mailer, str]:
    from carebird.mail import Mailer

    return Mailer.from_settings(ctx.settings), ctx.settings.public_url


@agents.command("list")
@pass_ctx
def agents_list(ctx: Context) -> None:
    """Every person: id, e-mail, role and state (active, invited, inactive)."""
    from carebird.auth.people import list_people

    with ctx.db().session() as session:
        for p in list_people(session):
            click.echo(f"{p.agent.id}\t{p.agent.email}\t{p.agent.role}\t{p.state}\t{p.agent.name}")


@agents.command("invite")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.option("--locale", type=click.Choice(["fr", "en"]), default="fr", show_default=True)
@pass_ctx
def agents_invite(ctx: Context, email: str, name: str, role: str, locale: str) -> None:
    """Create a person without a password and e-mail them a link to choose one (72 h, once)."""
    from carebird.auth.invitations import invite

    mailer, url = _mailer_and_url(ctx)
    with ctx.db().session() as session, session.begin():
        sent = invite(
            session,
            email=email,
            name=name,
            role=role,
            locale=locale,
            invited_by="carebird",
            mailer=mailer,
            public_url=url,
        )
        click.echo(f"invited agent {sent.agent.id} {sent.agent.email} ({role}): link e-mailed")


@agents.command("resend-invitation")
@click.argument("email")
@pass_ctx
def agents_resend(ctx: Context, email: str) -> None:
    """E-mail a fresh invitation link (the previous one stops working)."""
    from carebird.auth.invitations import resend_invitation
    from carebird.auth.people import find_agent

    mailer, url = _mailer_and_url(ctx)
    with ctx.db().session() as session, session.begin():
        agent = find_agent(session, email=email)
        resend_invitation(
            session, agent_id=agent.id, invited_by="carebird", mailer=mailer, public_url=url
        )
        click.echo(f"invitation e-mailed again to {agent.email}")


@agents.command("reset-password")
@click.argument("email")
@pass_ctx
def agents_reset(ctx: Context, email: str) -> None:
    """E-mail a single-use link to choose a new password (using it ends their sessions)."""
    from carebird.auth.invitations import send_reset
    from carebird.auth.people import find_agent

    mailer, url = _mailer_and_url(ctx)
    with ctx.db().session() as session, session.begin():
        agent = find_agent(session, email=email)
        send_reset(session, agent_id=agent.id, mailer=mailer, public_url=url)
        click.echo(f"password reset link e-mailed to {agent.email}")


@agents.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
@pass_ctx
def agents_role(ctx: Context, email: str, role: str) -> None:
    """Change a person's role (refused if the desk would have no active admin left)."""
    from carebird.auth.people import find_agent, set_role

    with ctx.db().session() as session, session.begin():
        agent = set_role(session, agent_id=find_agent(session, email=email).id, role=role)
        click.echo(f"{agent.email} is now {agent.role}")


@agents.command("deactivate")
@click.argument("email")
@pass_ctx
def agents_deactivate(ctx: Context, email: str) -> None:
    """Stop a person signing in; their sessions and API tokens are revoked at once."""
    from carebird.auth.people import find_agent
    from carebird.flows.teams import set_active

    with ctx.db().session() as session, session.begin():
        agent = set_active(session, agent_id=find_agent(session, email=email).id, active=False)
        click.echo(f"{agent.email} is deactivated; their sessions and tokens are revoked")


@agents.command("reactivate")
@click.argument("email")
@pass_ctx
def agents_reactivate(ctx: Context, email: str) -> None:
    """Let a deactivated person sign in again (their old tokens stay revoked)."""
    from carebird.auth.people import find_agent, set_active

    with ctx.db().session() as session, session.begin():
        agent = set_active(session, agent_id=find_agent(session, email=email).id, active=True)
        click.echo(f"{agent.email} is active again")
