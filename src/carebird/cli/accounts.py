"""`carebird accounts …`: the desk's network accounts, their API spending and their health."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import click

from carebird.cli.root import Context, cli, pass_ctx
from carebird.errors import InvalidInput


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{what} must look like name=value, got {value!r}")
        out[key.strip()] = val
    return out


@cli.group()
def accounts() -> None:
    """The brand's accounts on X, Mastodon and Bluesky."""


@accounts.command("add")
@click.argument("network")
@click.option("--handle", required=True, help="The account's handle, without the @.")
@click.option(
    "--credential",
    "credentials",
    multiple=True,
    help="name=value (repeat); prefer --credentials-file, which stays out of the shell history.",
)
@click.option(
    "--credentials-file",
    type=click.File("r"),
    help="A JSON object of credentials ('-' reads standard input).",
)
@click.option("--option", "options", multiple=True, help="name=value, e.g. base_url=… (repeat).")
@click.option("--listen", multiple=True, help="A listening query (the brand's name without @).")
@click.option("--cap", type=float, default=None, help="Monthly API spending cap in dollars.")
@click.option("--role", type=click.Choice(["support", "brand"]), default="support")
@click.option("--replace", is_flag=True, help="Update an existing account.")
@pass_ctx
def accounts_add(
    ctx: Context,
    network: str,
    handle: str,
    credentials: tuple[str, ...],
    credentials_file: Any,
    options: tuple[str, ...],
    listen: tuple[str, ...],
    cap: float | None,
    role: str,
    replace: bool,
) -> None:
    """Add an account; its credentials are stored encrypted with the desk's secret key."""
    from carebird.flows.accounts import check_options
    from carebird.ingest.accounts import add_account, public

    ctx.settings.check_secrets()  # never seal credentials with a public or missing key
    secrets = {}
    if credentials_file is not None:
        try:
            loaded = json.load(credentials_file)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"credentials file is not JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise InvalidInput("the credentials file must hold a JSON object")
        secrets.update({str(k): str(v) for k, v in loaded.items()})
    secrets.update(_pairs(credentials, "--credential"))
    opts: dict[str, Any] = dict(_pairs(options, "--option"))
    if listen:
        opts["listening"] = list(listen)
    opts = check_options(opts)  # opening hours, holidays… as the page and the API check them
    db = ctx.db()
    with db.session() as session, session.begin():
        account = add_account(
            session,
            secret_key=ctx.settings.secret_key,
            network=network,
            handle=handle,
            credentials=secrets,
            options=opts,
            role=role,
            monthly_cap=cap,
            replace=replace,
        )
        click.echo(json.dumps(asdict(public(account, ctx.settings.secret_key))))


@accounts.command("list")
@pass_ctx
def accounts_list(ctx: Context) -> None:
    """One JSON line per account (credential names only, never their values)."""
    from carebird.ingest.accounts import list_accounts, public

    with ctx.db().session() as session:
        for account in list_accounts(session):
            click.echo(json.dumps(asdict(public(account, ctx.settings.secret_key))))


@accounts.command("usage")
@click.option("--month", default=None, help="YYYY-MM (default: this month, UTC).")
@pass_ctx
def accounts_usage(ctx: Context, month: str | None) -> None:
    """API calls and their cost per account this month, against each account's cap."""
    from carebird.ingest.accounts import list_accounts
    from carebird.ingest.usage import WARN_SHARE, month_of, usage_report

    month = month or month_of(datetime.now(UTC))
    with ctx.db().session() as session:
        for account in list_accounts(session):
            report = usage_report(session, account.id, month)
            cap = account.monthly_cap
            near = bool(cap) and report["cost"] >= WARN_SHARE * (cap or 0)
            report |= {"account": f"{account.network}:{account.handle}", "cap": cap}
            report["near_cap"] = near
            click.echo(json.dumps(report))


@accounts.command("health")
@pass_ctx
def accounts_health(ctx: Context) -> None:
    """Each source's health: last success, lag, errors, rate-limit headroom, silence."""
    from carebird.ingest.health import health_report

    with ctx.db().session() as session:
        reports = health_report(session, datetime.now(UTC))
    for report in reports:
        click.echo(json.dumps(report.as_dict(), default=str))
    if any(r.status == "alarm" for r in reports):
        sys.exit(1)


@accounts.command("disable")
@click.argument("account_id", type=int)
@pass_ctx
def accounts_disable(ctx: Context, account_id: int) -> None:
    """Stop polling and sending for an account (its history stays)."""
    from carebird.ingest.accounts import get_account

    with ctx.db().session() as session, session.begin():
        get_account(session, account_id).active = False


@accounts.command("set")
@click.argument("account_id", type=int)
@click.option("--listen", multiple=True, help="A listening query (repeat; replaces them all).")
@click.option("--no-listening", is_flag=True, help="Remove every listening query.")
@click.option("--cap", default=None, help="Monthly API spending cap in dollars ('none': no cap).")
@click.option("--role", type=click.Choice(["support", "brand"]), default=None)
@click.option("--signature", type=click.Choice(["initials", "none"]), default=None)
@click.option("--hours", default=None, help="Opening hours, e.g. 'Mon-Sat 08:00-22:00'.")
@click.option("--timezone", default=None, help="The account's time zone, e.g. Europe/Paris.")
@click.option("--holiday", multiple=True, help="YYYY-MM-DD, or MM-DD every year (repeat).")
@click.option("--survey/--no-survey", default=None, help="Satisfaction survey after resolution.")
@click.option(
    "--survey-public/--no-survey-public",
    default=None,
    help="Survey customers who wrote only in public too (by private message).",
)
@click.option("--transparency/--no-transparency", default=None,
              help="Publish the response-time record (/public/transparency/…).")  # fmt: skip
@click.option(
    "--publish-wait/--no-publish-wait",
    default=None,
    help="Publish the expected wait at /public/wait/ID (.json, .svg): off unless set.",
)
@pass_ctx
def accounts_set(
    ctx: Context,
    account_id: int,
    listen: tuple[str, ...],
    no_listening: bool,
    cap: str | None,
    role: str | None,
    signature: str | None,
    hours: str | None,
    timezone: str | None,
    holiday: tuple[str, ...],
    survey: bool | None,
    survey_public: bool | None,
    transparency: bool | None,
    publish_wait: bool | None,
) -> None:
    """Change an account's settings (only those given); prints the account."""
    from carebird.flows.accounts import change_account
    from carebird.ingest.accounts import get_account, public
    from carebird.reply.survey import survey_settings

    changes: dict[str, Any] = {}
    if listen or no_listening:
        changes["listening"] = list(listen)
    if cap is not None:
        try:
            changes["monthly_cap"] = None if cap.lower() == "none" else float(cap)
        except ValueError:
            raise InvalidInput("--cap: a number of dollars, or none") from None
    named = {"role": role, "signature": signature, "opening_hours": hours, "timezone": timezone}
    changes.update({k: v for k, v in named.items() if v is not None})
    if holiday:
        changes["holidays"] = list(holiday)
    survey_given = {"enabled": survey, "public_allowed": survey_public}
    if transparency is not None:
        changes["publish_transparency"] = transparency
    if publish_wait is not None:
        changes["publish_wait"] = publish_wait
    with ctx.db().session() as session, session.begin():
        if any(v is not None for v in survey_given.values()):
            current = survey_settings(get_account(session, account_id).options).as_dict()
            changes["survey"] = current | {k: v for k, v in survey_given.items() if v is not None}
        account = change_account(session, account_id, changes)
        click.echo(json.dumps(asdict(public(account, ctx.settings.secret_key))))


@accounts.command("disconnect")
@click.argument("account_id", type=int)
@pass_ctx
def accounts_disconnect(ctx: Context, account_id: int) -> None:
    """Stop an account and forget its stored credentials (add or connect it again to resume)."""
    from carebird.ingest.accounts import disconnect_account

    with ctx.db().session() as session, session.begin():
        disconnect_account(session, account_id)


@accounts.command("connect-bluesky")
@click.argument("handle")
@click.option("--service", default="", help="The account's server (default: bsky.social).")
@click.password_option(
    "--app-password", confirmation_prompt=False, help="Asked when not given (stays hidden)."
)
@pass_ctx
def accounts_connect_bluesky(ctx: Context, handle: str, service: str, app_password: str) -> None:
    """Connect a Bluesky account with an app password (checked by logging in, then sealed)."""
    from carebird.ingest.accounts import public
    from carebird.ingest.connect import connect_bluesky

    ctx.settings.check_secrets()
    with ctx.db().session() as session, session.begin():
        account = connect_bluesky(
            session,
            secret_key=ctx.settings.secret_key,
            handle=handle,
            app_password=app_password,
            service=service,
            allow_private=ctx.settings.private_servers_allowed,
        )
        click.echo(json.dumps(asdict(public(account, ctx.settings.secret_key))))


@accounts.command("acknowledge")
@click.argument("account_id", type=int)
@click.option("--public/--no-public", default=None, help="Acknowledge public posts (off).")
@click.option("--private/--no-private", default=None, help="Acknowledge private messages.")
@click.option("--max-per-hour", type=int, default=None, help="At most this many an hour.")
@click.option("--automated-posts", type=int, default=None, help="An author with more posts…")
@click.option("--automated-minutes", type=int, default=None, help="…in this many minutes: none.")
@click.option("--max-age-minutes", type=int, default=None, help="None for older messages.")
@pass_ctx
def accounts_acknowledge(ctx: Context, /, account_id: int, **changes: Any) -> None:
    """Show or change the account's automatic acknowledgements ("message bien reçu…"), off
    unless enabled; only the settings given change. Prints the settings as JSON."""
    from carebird.reply.acknowledgement import get_ack_settings, set_ack_settings

    given = {name: value for name, value in changes.items() if value is not None}
    with ctx.db().session() as session, session.begin():
        if given:
            settings = set_ack_settings(session, account_id, given, merge=True)
        else:
            settings = get_ack_settings(session, account_id)
        click.echo(json.dumps({"account_id": account_id, **settings.as_dict()}))
