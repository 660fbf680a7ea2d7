"""`carebird incidents`: the incidents (many customers, one cause) — list, close, merge — and
`carebird eval incidents`: how well bursts are grouped (simulator and hand-labelled tweets)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from carebird.cli.root import Context, cli, pass_ctx
from carebird.cli.understand import eval_cmd


@cli.group("incidents")
def incidents_cmd() -> None:
    """Incidents: bursts of one cause, their cases grouped."""


@incidents_cmd.command("list")
@click.option("--status", type=click.Choice(["open", "closed"]), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_ctx
def list_cmd(ctx: Context, status: str | None, as_json: bool) -> None:
    """Each incident with its cases and the network ids of their inbound messages."""
    from carebird.cases.incidents import list_incidents

    with ctx.db().session() as session:
        rows = list_incidents(session, status=status, limit=10_000)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rows], ensure_ascii=False))
        return
    for r in rows:
        click.echo(f"#{r.id} [{r.status}] {r.title} — {r.count} cases since {r.started_at:%F %R}")


@incidents_cmd.command("close")
@click.argument("incident_id", type=int)
@click.option("--final-message", default="", help="Sent to each of its customers first.")
@click.option("--agent-email", required=True, help="Who closes it (an agent's e-mail).")
@pass_ctx
def close_cmd(ctx: Context, incident_id: int, final_message: str, agent_email: str) -> None:
    """Close an incident: its final message to each case (if any), its cases resolved."""
    from sqlalchemy import select

    from carebird.auth.models import Agent
    from carebird.auth.service import normalise_email
    from carebird.cases.priority import weights_for
    from carebird.errors import NotFound
    from carebird.flows.incidents import close_incident
    from carebird.reply.surveying import SurveySetup

    db = ctx.db()
    with db.session() as session, session.begin():
        agent = session.scalar(select(Agent).where(Agent.email == normalise_email(agent_email)))
        if agent is None:
            raise NotFound(f"no agent {agent_email}")
        _, queued = close_incident(
            session,
            incident_id=incident_id,
            agent=agent,
            final_text=final_message,
            prices=ctx.settings.prices,
            weights=weights_for(ctx.settings.priority_weights),
            survey=SurveySetup.from_settings(ctx.settings),
        )
    click.echo(f"incident {incident_id} closed; {len(queued)} final messages queued")


@incidents_cmd.command("merge")
@click.argument("incident_id", type=int)
@click.argument("into_id", type=int)
@pass_ctx
def merge_cmd(ctx: Context, incident_id: int, into_id: int) -> None:
    """Move every case of INCIDENT_ID into INTO_ID (the first closes as merged)."""
    from carebird.cases.incidents import merge_incidents

    with ctx.db().session() as session, session.begin():
        merge_incidents(session, incident_id=incident_id, into_id=into_id, actor_id=None)
    click.echo(f"incident {incident_id} merged into {into_id}")


@eval_cmd.command("incidents")
@click.option(
    "--data", type=click.Path(path_type=Path, file_okay=False), default=Path("../shared/data")
)
@click.option(
    "--labels",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("tests/data/incident_labels.csv"),
    show_default=True,
)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--messages", type=int, default=20_000, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def eval_incidents(data: Path, labels: Path, seed: int, messages: int, as_json: bool) -> None:
    """Precision and recall of the grouping: the simulator's incidents, Free's labelled days."""
    from carebird.insights.incident_eval import evaluate

    out = evaluate(data, labels, seed=seed, messages=messages)
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    for name in ("simulator", "free_mobile"):
        r = out[name]
        click.echo(
            f"{name}: precision {r['precision']} recall {r['recall']} "
            f"(pairs {r['pair_precision']} / {r['pair_recall']}), "
            f"{r['detected_incidents']} detected for {r['true_incidents']} true"
        )
