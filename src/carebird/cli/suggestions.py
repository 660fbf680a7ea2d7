"""`carebird eval suggestions` and `carebird bench suggestions`: how good, how fast.

The evaluation replays TWCS (reply/suggest_eval.py); the benchmark times the composer's own
ranking (`suggest.rank`) per case on an index of the same data repeated to desk size.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from carebird.cli.bench import bench
from carebird.cli.root import Context, pass_ctx
from carebird.cli.understand import eval_cmd


@eval_cmd.command("suggestions")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("../shared/data"),
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def eval_suggestions(data: Path, as_json: bool) -> None:
    """Token F1 of the suggestions against the brands' real answers (TWCS head 5k)."""
    from carebird.reply.suggest_eval import evaluate

    figures = evaluate(data)
    if as_json:
        click.echo(json.dumps(figures))
        return
    for name, value in figures.items():
        click.echo(f"{name:34} {value}")


@bench.command("suggestions")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("../shared/data"),
    show_default=True,
)
@click.option("--history", default=20_000, show_default=True, help="Past answers indexed.")
@click.option("--cases", default=300, show_default=True, help="Cases ranked.")
@click.option(
    "--desk",
    is_flag=True,
    help="Time the whole use case (database reads, variables) on the cases of --database.",
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def bench_suggestions(
    ctx: Context, data: Path, history: int, cases: int, desk: bool, as_json: bool
) -> None:
    """Milliseconds to rank the suggestions of one case (templates, articles, past replies)."""
    figures = _on_desk(ctx, cases) if desk else _ranking(data, history, cases)
    if as_json:
        click.echo(json.dumps(figures))
        return
    for name, value in figures.items():
        click.echo(f"{name:14} {value}")


def _timings(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[max(int(len(times) * 0.95) - 1, 0)], 2),
        "max_ms": round(times[-1], 2),
    }


def _on_desk(ctx: Context, cases: int) -> dict[str, object]:
    """`suggest_for_case` as the composer calls it, on a real desk's cases (an import)."""
    from sqlalchemy import select

    from carebird.auth.models import Agent
    from carebird.cases.models import Case
    from carebird.errors import CarebirdError
    from carebird.reply.suggesting import suggest_for_case
    from carebird.reply.suggestions import Suggester

    with ctx.db().session() as session:
        agent = session.scalars(select(Agent).order_by(Agent.id)).first()
        if agent is None:
            raise click.UsageError("the desk has no agent: `carebird agents create` one")
        ids = list(session.scalars(select(Case.id).order_by(Case.id).limit(cases)))
        suggester = Suggester()
        started = time.perf_counter()
        suggester.index(session)
        build = time.perf_counter() - started
        times = []
        for case_id in ids:
            t0 = time.perf_counter()
            try:
                suggest_for_case(session, suggester=suggester, case_id=case_id, agent=agent)
            except CarebirdError:  # a case with no customer message to answer
                continue
            times.append((time.perf_counter() - t0) * 1000)
    if not times:
        raise click.UsageError("no case to suggest answers for")
    return {"cases": len(times), "build_seconds": round(build, 2), **_timings(times)}


def _ranking(data: Path, history: int, cases: int) -> dict[str, object]:
    from carebird.reply.suggest import ContentItem, HistoryItem, SuggestionIndex, answer_key, rank
    from carebird.reply.suggest_eval import DATASET, pairs_and_replies

    pairs, _ = pairs_and_replies(data / DATASET)
    items = [
        HistoryItem(p.message.text, p.answer.text, "reply:" + answer_key(p.answer.text), str(i))
        for i, p in enumerate(pairs)
    ]
    items = (items * (history // max(len(items), 1) + 1))[:history]
    content = [
        ContentItem(f"template:{i}", "template", str(i), p.answer.text[:40], p.answer.text)
        for i, p in enumerate(pairs[:200])
    ]
    started = time.perf_counter()
    index = SuggestionIndex.build(items, content)
    build = time.perf_counter() - started
    now = datetime.now(UTC)
    times = []
    for p in pairs[:cases]:
        t0 = time.perf_counter()
        rank(index, p.message.text, k=3, now=now)
        times.append((time.perf_counter() - t0) * 1000)
    return {
        "history": len(items),
        "content": len(content),
        "cases": len(times),
        "build_seconds": round(build, 2),
        **_timings(times),
    }
