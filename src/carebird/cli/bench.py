"""`carebird bench`: the pipeline's throughput beside the raw insert rate (same run), the
understanding step's speed and memory, and the X bill of a simulated month.

Each figure runs on a fresh database (a temporary SQLite file, or a new database created on
the given PostgreSQL server and dropped afterwards), from items generated beforehand by the
simulator so generation time is not counted.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import click
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    insert,
    text,
)
from sqlalchemy.engine import make_url

from carebird.cli.root import Context, cli, pass_ctx
from carebird.config import Settings
from carebird.db.database import Database
from carebird.flows.intake import (
    PREPARE_DEFAULT,
    PREPARE_MODES,
    Intake,
    prepared_ahead,
    process_batch,
)
from carebird.ingest.base import InboundItem
from carebird.jobs.runner import register_accounts
from carebird.plugins import connector_class

_raw = MetaData()
RAW = Table(
    "bench_raw_messages",
    _raw,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("network", String(16)),
    Column("external_id", String(200)),
    Column("direction", String(4)),
    Column("kind", String(16)),
    Column("is_private", Boolean),
    Column("author_external_id", String(200)),
    Column("text", Text),
    Column("language", String(8)),
    Column("created_at", DateTime),
    Column("in_reply_to_id", String(200)),
    Column("conversation_id", String(200)),
    Column("raw", JSON),
    UniqueConstraint("network", "external_id"),
)


@contextlib.contextmanager
def fresh_database(url: str) -> Iterator[str]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{os.path.join(tmp, 'bench.db')}"
        return
    name = f"carebird_bench_{os.getpid()}_{time.monotonic_ns() % 10**6}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def generate(messages: int, *, seed: int = 7) -> tuple[Any, list[InboundItem]]:
    sim = connector_class("sim")(seed=seed, limit_total=messages)
    items: list[InboundItem] = []
    cursor = None
    while len(items) < messages:
        result = sim.fetch(cursor, limit=5000)
        items.extend(result.items)
        cursor = result.cursor
        if not result.more:
            break
    return sim, items[:messages]


def bench_ingest(
    url: str,
    *,
    intake: Intake,
    messages: int = 100_000,
    batch_size: int = 1000,
    prepare: str = PREPARE_DEFAULT,
) -> dict[str, Any]:
    """The whole pipeline (each batch one transaction, batch N+1 prepared while N is written,
    as `prepare` says), the raw insert of the same rows, and the understanding step alone."""
    t0 = time.perf_counter()
    sim, items = generate(messages)
    gen_s = time.perf_counter() - t0
    batches = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]

    with fresh_database(url) as bench_url:
        db = Database(bench_url)
        db.upgrade()
        register_accounts(db, sim)
        cases = 0
        t0 = time.perf_counter()
        for batch, prepared in prepared_ahead(batches, list, intake=intake, mode=prepare):
            with db.session() as session, session.begin():
                report = process_batch(session, batch, intake=intake, prepared=prepared)
                cases += len(report.new_cases)
        pipeline_s = time.perf_counter() - t0

        rows = [
            {
                "network": it.network,
                "external_id": it.external_id,
                "direction": str(it.direction),
                "kind": str(it.kind),
                "is_private": it.is_private,
                "author_external_id": it.author.external_id,
                "text": it.text,
                "language": it.language,
                "created_at": it.created_at.replace(tzinfo=None),
                "in_reply_to_id": it.in_reply_to_id,
                "conversation_id": it.conversation_id,
                "raw": it.raw,
            }
            for it in items
        ]
        _raw.create_all(db.engine)
        t0 = time.perf_counter()
        for i in range(0, len(rows), batch_size):
            with db.engine.begin() as conn:
                conn.execute(insert(RAW), rows[i : i + batch_size])
        raw_s = time.perf_counter() - t0
        dialect = db.dialect
        db.dispose()

    t0 = time.perf_counter()  # the understanding step alone (the store's annotate hook)
    for batch in batches:
        intake.understander.columns(batch)
    understand_s = time.perf_counter() - t0
    n = len(items)
    return {
        "engine": dialect,
        "messages": n,
        "batch_size": batch_size,
        "prepare": prepare,
        "cases_created": cases,
        "generation_msgs_per_s": round(n / gen_s),
        "pipeline_seconds": round(pipeline_s, 2),
        "pipeline_msgs_per_s": round(n / pipeline_s),
        "raw_insert_seconds": round(raw_s, 2),
        "raw_insert_rows_per_s": round(n / raw_s),
        "pipeline_vs_raw": round(raw_s / pipeline_s, 3),
        "understand_seconds": round(understand_s, 2),
        "understand_msgs_per_s": round(n / understand_s),
    }


def bench_understand(
    settings: Settings,
    *,
    messages: int = 20_000,
    batch_size: int = 1000,
    classifier: str | None = None,
) -> dict[str, Any]:
    """The understanding step (language, category, sentiment, cues, personal data, priority)
    with the desk's configured classifier (the shipped one unless the settings name another),
    or the one named by `classifier`."""
    import resource

    from threadpoolctl import threadpool_limits

    from carebird.cases.priority import CaseSignals, score, weights_for
    from carebird.understand.classifier import load_classifier
    from carebird.understand.service import Understander

    _, items = generate(messages, seed=3)
    texts = [it.text for it in items]
    t0 = time.perf_counter()
    name = classifier or settings.classifier
    understander = Understander(
        load_classifier(
            name, model_path=settings.model_path if name == settings.classifier else None
        )
    )
    load_s = time.perf_counter() - t0
    weights = weights_for(settings.priority_weights)
    with threadpool_limits(limits=1):  # one core, as the issue asks
        t0 = time.perf_counter()
        for i in range(0, len(texts), batch_size):
            found = understander.analyse(texts[i : i + batch_size])
            for u, it in zip(found, items[i : i + batch_size], strict=True):
                score(
                    CaseSignals(
                        category=u.category,
                        sentiment=u.sentiment,
                        cues=frozenset(u.cues),
                        followers=it.author.followers,
                        verified=it.author.verified,
                    ),
                    weights,
                )
        run_s = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "classifier": name,
        "messages": len(texts),
        "model_load_seconds": round(load_s, 3),
        "messages_per_s": round(len(texts) / run_s),
        "peak_memory_mb": round(peak_kb / 1024, 1),
    }


# --- the `carebird bench` commands ------------------------------------------------------------
@cli.group()
def bench() -> None:
    """Benchmarks that print figures."""


@bench.command("ingest")
@click.option("--messages", default=100_000, show_default=True)
@click.option("--batch-size", default=1000, show_default=True)
@click.option(
    "--prepare",
    type=click.Choice(PREPARE_MODES),
    default=PREPARE_DEFAULT,
    show_default=True,
    help="Where batch N+1 is normalised and understood while batch N is written.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@pass_ctx
def ingest_cmd(ctx: Context, messages: int, batch_size: int, prepare: str, as_json: bool) -> None:
    """Messages/s through normalise → understand → store → thread, beside the raw insert of
    the same rows and the understanding step alone."""
    figures = bench_ingest(
        ctx.settings.database_url,
        intake=ctx.intake,
        messages=messages,
        batch_size=batch_size,
        prepare=prepare,
    )
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    n, engine = figures["messages"], figures["engine"]
    click.echo(f"{n} simulated messages on {engine}, batches of {figures['batch_size']}")
    click.echo(
        f"  whole pipeline  {figures['pipeline_msgs_per_s']:>8} msg/s"
        f"  ({figures['pipeline_seconds']} s, prepare: {figures['prepare']})"
    )
    click.echo(
        f"  raw insert      {figures['raw_insert_rows_per_s']:>8} rows/s"
        f"  (pipeline = {figures['pipeline_vs_raw']:.1%} of raw)"
    )
    click.echo(f"  understanding   {figures['understand_msgs_per_s']:>8} msg/s (alone)")


def bench_tiers(
    settings: Settings, tiers: list[str], *, messages: int, accurate_messages: int
) -> dict[str, Any]:
    """`bench_understand` for each tier, each in a fresh process (its own peak memory): the
    fast tier is the configured classifier (builtin if that is the accurate one)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    fast = settings.classifier if settings.classifier != "accurate" else "builtin"
    runs = {"fast": (fast, messages), "accurate": ("accurate", accurate_messages)}
    out: dict[str, Any] = {}
    for tier in tiers:
        name, n = runs[tier]
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            out[tier] = pool.submit(
                bench_understand, settings, messages=n, classifier=name
            ).result()
    return out


@bench.command("understand")
@click.option("--messages", default=20_000, show_default=True, help="For the fast tier.")
@click.option("--accurate-messages", default=2_000, show_default=True)
@click.option(
    "--tier",
    "tiers",
    type=click.Choice(["fast", "accurate"]),
    multiple=True,
    help="Only this tier (repeatable; default: both).",
)
@pass_ctx
def understand_cmd(
    ctx: Context, messages: int, accurate_messages: int, tiers: tuple[str, ...]
) -> None:
    """Messages/s of the whole understanding step on one core, and the peak memory, for the
    fast tier (every message) and the accurate tier (re-reads live traffic in the background)."""
    from carebird.understand.accurate import available

    chosen = list(tiers) or (["fast", "accurate"] if available() else ["fast"])
    figures = bench_tiers(
        ctx.settings, chosen, messages=messages, accurate_messages=accurate_messages
    )
    click.echo(json.dumps(figures, indent=2))


@bench.command("cost")
@click.option("--weekly", default=30_000, show_default=True, help="Messages a week (KLM: 30,000).")
@click.option("--days", default=30, show_default=True)
@click.option("--cap", default=1000.0, show_default=True, help="Monthly cap to compare with ($).")
@pass_ctx
def cost_cmd(ctx: Context, weekly: int, days: int, cap: float) -> None:
    """X API calls and cost of a simulated month under several polling plans."""
    from carebird.cases.hours import BusinessHours, PollingPlan
    from carebird.ingest.usage import prices_for
    from carebird.insights.apicost import cost_of_month, month_of_traffic

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
