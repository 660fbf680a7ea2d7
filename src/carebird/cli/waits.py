"""`carebird eval wait-time`: the expected wait's accuracy, replayed on TWCS head5k."""

from __future__ import annotations

import json
from pathlib import Path

import click

from carebird.cli.root import Context, pass_ctx
from carebird.cli.understand import eval_cmd

HEAD5K = "twcs-head5k/twcs.csv"


@eval_cmd.command("wait-time")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("../shared/data"),
    show_default=True,
    help=f"The shared data folder (reads {HEAD5K}).",
)
@click.option(
    "--file",
    "csv_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Another TWCS file instead of head5k.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@pass_ctx
def wait_time_cmd(ctx: Context, data: Path, csv_file: Path | None, as_json: bool) -> None:
    """For every support case, the wait estimated at its arrival from what was known then,
    against its actual first response; beside the baseline (the mean first response of the
    same brand's cases answered in the hour before)."""
    from carebird.insights.wait_replay import evaluate_file
    from carebird.understand.classifier import load_classifier
    from carebird.understand.service import Understander

    path = csv_file or data / HEAD5K
    if not path.is_file():
        raise click.UsageError(f"{path} is absent: give --data or --file")
    settings = ctx.settings
    understander = Understander(
        load_classifier(settings.classifier, model_path=settings.model_path)
    )

    def classify(texts: list[str]) -> list[str]:
        return [u.category for u in understander.analyse(texts)]

    figures = evaluate_file(path, classify)
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    click.echo(
        f"{figures['cases']} support cases scored: mean absolute error "
        f"{figures.get('mae_minutes')} min (p90 {figures.get('p90_abs_error_minutes')} min); "
        f"baseline {figures.get('baseline_mae_minutes')} min on {figures.get('baseline_cases')} "
        f"cases (ours {figures.get('mae_minutes_on_baseline_cases')} min on them)"
    )
