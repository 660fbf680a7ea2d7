"""The `carebird` command: a thin adapter over the same services the web layer calls.

Each command group lives in its own module; importing them registers their commands on the
root group (`cli/root.py`).
"""

from __future__ import annotations

import sys

import click

from carebird.cli import (  # noqa: F401  (registers the commands)
    accounts,
    articles,
    bench,
    data,
    desk,
    doctor,
    incidents,
    metrics,
    people,
    staffing,
    suggestions,
    understand,
    waits,
    worker,
)
from carebird.cli.root import cli
from carebird.errors import CarebirdError


def main() -> None:
    try:
        cli(standalone_mode=True)
    except CarebirdError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
