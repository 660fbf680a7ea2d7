"""`carebird doctor`: check a deployment (secret, database, migrations, accounts, workers,
streams); exit status 1 when a check fails."""

from __future__ import annotations

import json
import sys

import click

from carebird.cli.root import Context, cli, pass_ctx

MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


@cli.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@pass_ctx
def doctor(ctx: Context, as_json: bool) -> None:
    """Check that this deployment can run: exit status 1 if any check fails."""
    from carebird.ops.doctor import failed, run_checks

    checks = run_checks(ctx.settings)
    bad = failed(checks)
    if as_json:
        out = {"ok": not bad, "checks": [c.as_dict() for c in checks]}
        click.echo(json.dumps(out, ensure_ascii=False, default=str, indent=2))
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            click.echo(f"{MARKS[c.status]}  {c.name:<{width}}  {c.detail}")
    if bad:
        sys.exit(1)
