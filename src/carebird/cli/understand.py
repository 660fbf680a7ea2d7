"""`carebird classify`, `train` and `eval`: the understand stage from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import click

from carebird.cli.root import Context, cli, pass_ctx


@cli.command("classify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text-column", default=None, help="Read a CSV and classify this column.")
@click.option(
    "--model",
    "model_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="A model trained with `carebird train`.",
)
@pass_ctx
def classify_cmd(
    ctx: Context, path: Path, text_column: str | None, model_path: Path | None
) -> None:
    """One JSON object per text: language, category scores, sentiment, cues, personal data."""
    from carebird.understand.classifier import load_classifier
    from carebird.understand.service import Understander
    from carebird.understand.train import read_texts

    understander = Understander(
        load_classifier(ctx.settings.classifier, model_path=model_path or ctx.settings.model_path)
    )
    texts = read_texts(path, text_column=text_column)
    for start in range(0, len(texts), 1000):
        chunk = texts[start : start + 1000]
        for text, u in zip(chunk, understander.analyse(chunk), strict=True):
            click.echo(json.dumps({"text": text, **u.as_dict()}, ensure_ascii=False))


@cli.command("train")
@click.option(
    "--labels",
    "labels_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="CSV of labelled texts.",
)
@click.option("--text-column", default="text", show_default=True)
@click.option("--label-column", default="label", show_default=True)
@click.option(
    "--task",
    type=click.Choice(["category", "complaint", "sentiment"]),
    default="category",
    show_default=True,
)
@click.option(
    "--from-desk",
    is_flag=True,
    help="Train from the desk's database: the corpus plus agents' corrections.",
)
@click.option(
    "--corpus",
    is_flag=True,
    help="Train the shipped model: the project corpus, decision thresholds by cross-validation.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Model file to write (default: the desk's model_path).",
)
@click.option(
    "--tier",
    type=click.Choice(["fast", "accurate", "both"]),
    default="both",
    show_default=True,
    help="With --from-desk: which tier learns (the accurate one when its encoder is installed).",
)
@click.option(
    "--accurate-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --from-desk: the accurate tier's heads (default: accurate_model_path).",
)
@click.option("--force", is_flag=True, help="With --from-desk: install even a worse candidate.")
@click.option("--json", "as_json", is_flag=True, help="With --from-desk: the report as JSON.")
@pass_ctx
def train_cmd(
    ctx: Context,
    labels_path: Path | None,
    text_column: str,
    label_column: str,
    task: str,
    from_desk: bool,
    corpus: bool,
    out: Path | None,
    tier: str,
    accurate_out: Path | None,
    force: bool,
    as_json: bool,
) -> None:
    """Train a model; point `--model` or CAREBIRD_MODEL_PATH at it to use it.

    With --from-desk, both tiers learn from the corpus plus agents' corrections; the newest
    corrections are held out first, and the new model replaces the one in use only when it is
    not worse on them (or with --force), else it is written beside as NAME.candidate.npz and
    the command exits with status 3 (as when there are too few corrections).
    """
    from carebird.understand.train import train_corpus, train_from_csv

    if [from_desk, corpus, labels_path is not None].count(True) != 1:
        raise click.UsageError("give exactly one of --labels CSV, --from-desk or --corpus")
    if from_desk:
        _learn_from_desk(ctx, out, accurate_out, tier=tier, force=force, as_json=as_json)
        return
    out = out or ctx.settings.model_path
    if out is None:
        raise click.UsageError("give --out or set CAREBIRD_MODEL_PATH")
    if corpus:
        model = train_corpus()
    elif labels_path is not None:
        model = train_from_csv(
            labels_path, text_column=text_column, label_column=label_column, task=task
        )
    model.save(out)
    click.echo(json.dumps({"model": str(out), **model.describe()}, indent=2))


def _desk_targets(
    ctx: Context, out: Path | None, accurate_out: Path | None, tier: str
) -> dict[str, tuple[Path, Path | None]]:
    """Per tier learning: (the file to write, the file in use at the desk or None)."""
    from carebird.understand.accurate import available

    s = ctx.settings
    found = {
        "fast": (out or s.model_path, s.model_path, "--out or CAREBIRD_MODEL_PATH"),
        "accurate": (
            accurate_out or s.accurate_model_path,
            s.accurate_model_path,
            "--accurate-out or CAREBIRD_ACCURATE_MODEL_PATH",
        ),
    }
    tiers = ["fast", "accurate"] if tier == "both" else [tier]
    if tier == "both" and not available():
        tiers = ["fast"]
        click.echo("accurate tier skipped: its encoder package is not installed", err=True)
    targets = {}
    for name in tiers:
        target, in_use, how = found[name]
        if target is None:
            raise click.UsageError(f"{name} tier: give {how}")
        targets[name] = (target, in_use)
    return targets


def _learn_from_desk(
    ctx: Context,
    out: Path | None,
    accurate_out: Path | None,
    *,
    tier: str,
    force: bool,
    as_json: bool,
) -> None:
    from carebird.understand.learn import Tier, TierReport, describe, desk_corrections, learn_tier

    targets = _desk_targets(ctx, out, accurate_out, tier)
    with ctx.db().session() as session:
        corrections = desk_corrections(session)

    def evaluated(report: TierReport) -> None:  # printed before the model is written
        if not as_json:
            click.echo("\n".join(describe(report)))

    reports = []
    for name, (target, in_use) in targets.items():
        r = learn_tier(
            Tier(name), corrections, target=target, in_use=in_use, force=force, evaluated=evaluated
        )
        reports.append(r)
        if r.written and not as_json:
            click.echo(f"  {'installed' if r.installed else 'candidate written'}: {r.written}")
    if as_json:
        click.echo(json.dumps({"tiers": [r.as_dict() for r in reports]}, indent=2))
    if not all(r.installed for r in reports):
        raise click.exceptions.Exit(3)  # not installed: the model in use is kept


@cli.group("eval", invoke_without_command=True)
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("../shared/data"),
    show_default=True,
)
@click.option(
    "--labels",
    "labels_csv",
    type=click.Path(exists=True, path_type=Path),
    default=Path("tests/data/category_labels.csv"),
    show_default=True,
)
@click.option("--folds", default=10, show_default=True)
@click.option(
    "--only",
    type=click.Choice(["complaints", "sentiment", "categories"]),
    multiple=True,
    help="Evaluate only these parts (repeatable; default: all).",
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Evaluate a model trained with `carebird train` on the categories (default: shipped).",
)
@click.option(
    "--tier",
    type=click.Choice(["fast", "accurate", "both"]),
    default="both",
    show_default=True,
    help="Which tier: the fast tier's figures at the top level, the accurate's under `accurate`.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.pass_context
def eval_cmd(
    ctx: click.Context,
    data: Path,
    labels_csv: Path,
    folds: int,
    only: tuple[str, ...],
    model_path: Path | None,
    tier: str,
    as_json: bool,
) -> None:
    """Evaluate the shipped models and the training recipe on the real data sets.

    Without a sub-command: the understanding (both tiers). Other evaluations (suggestions,
    wait-time…) are sub-commands registered by their own modules and take their own options.
    """
    if ctx.invoked_subcommand is not None:
        return
    from carebird.understand.classifier import BuiltinClassifier
    from carebird.understand.evaluate import PARTS, run_all, summary

    def progress(step: str) -> None:
        click.echo(f"… {step}", err=True)

    figures = {}
    if tier in ("fast", "both"):
        figures = run_all(
            data,
            labels_csv,
            folds=folds,
            progress=progress,
            parts=only or PARTS,
            classifier=BuiltinClassifier(model_path=model_path) if model_path else None,
        )
    if tier in ("accurate", "both"):
        from carebird.understand.accurate import AccurateClassifier
        from carebird.understand.evaluate_accurate import run_accurate

        accurate = model_path if model_path and model_path.suffix == ".npz" else None
        figures["accurate"] = run_accurate(
            data,
            labels_csv,
            folds=folds,
            progress=progress,
            parts=only or PARTS,
            classifier=AccurateClassifier(model_path=accurate),
        )
    if as_json:
        click.echo(json.dumps(figures, indent=2))
    else:
        click.echo("\n".join(summary(figures)))


@cli.command("convert-model")
@click.argument("legacy", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Model file to write (default: LEGACY with the suffix .npz).",
)
@click.option(
    "--i-trust-this-file",
    "trusted",
    is_flag=True,
    help="Required: unpickling the old file runs any code it holds.",
)
def convert_model_cmd(legacy: Path, out: Path | None, trusted: bool) -> None:
    """Convert a pickled (joblib) model of an older carebird to arrays and JSON.

    Loading a pickle can run code: convert only files you trained yourself, or retrain
    with `carebird train` instead. The new file gives the same probabilities.
    """
    from carebird.understand.model_store import convert_legacy

    if not trusted:
        raise click.UsageError(
            "unpickling a model file runs any code it holds: give --i-trust-this-file "
            "if you trained it yourself, or retrain with `carebird train`"
        )
    out = out or legacy.with_suffix(".npz")
    if out.resolve() == legacy.resolve():
        raise click.UsageError("--out must differ from the legacy file")
    model = convert_legacy(legacy)
    model.save(out)
    click.echo(json.dumps({"model": str(out), **model.describe()}, indent=2))


@cli.command("train-accurate")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Heads file to write (.npz, beside its .json); default: the shipped one.",
)
def train_accurate_cmd(out: Path | None) -> None:
    """Train the accurate tier's heads from the project's corpus (the same on every machine);
    with `--out x.npz`, point `classifier = "accurate"` and `model_path` at it to use it."""
    from carebird.understand.accurate import SHIPPED
    from carebird.understand.accurate_rule import train_accurate_with_rule

    out = out or SHIPPED
    if out.suffix != ".npz":
        raise click.UsageError("--out must name a .npz file")
    heads = train_accurate_with_rule()
    heads.save(out)
    click.echo(json.dumps({"heads": str(out), "labels": heads.labels, **heads.meta}, indent=2))
