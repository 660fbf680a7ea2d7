"""`carebird bench ingest` runs the whole pipeline, the raw insert and the understanding step on
the same simulated items, on the engine it is given, and prints its figures (or --json)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from carebird.cli.main import cli


def _bench(url: str, *args: str) -> str:
    sizes = ["--messages", "300", "--batch-size", "100"]
    result = CliRunner().invoke(cli, ["--database", url, "bench", "ingest", *sizes, *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_bench_ingest_figures_as_json(db_url: str, engine_name: str) -> None:
    figures = json.loads(_bench(db_url, "--json", "--prepare", "thread"))
    assert figures["engine"] == engine_name and figures["messages"] == 300
    assert figures["prepare"] == "thread" and figures["cases_created"] > 0
    for key in ("pipeline_msgs_per_s", "raw_insert_rows_per_s", "understand_msgs_per_s"):
        assert figures[key] > 0, key


def test_bench_ingest_prints_the_three_rates(db_url: str) -> None:
    out = _bench(db_url)
    assert "whole pipeline" in out and "raw insert" in out and "understanding" in out
    assert "prepare: inline" in out  # the default, the winner measured here
