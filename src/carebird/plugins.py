"""Extension points, loaded through entry points; the built-in pieces register the same way."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

CONNECTORS = "carebird.connectors"


def connector_class(name: str) -> Any:
    """The connector class registered under `name` (e.g. "sim")."""
    for ep in entry_points(group=CONNECTORS):
        if ep.name == name:
            return ep.load()
    known = sorted(ep.name for ep in entry_points(group=CONNECTORS))
    raise LookupError(f"no connector {name!r}; installed: {', '.join(known) or 'none'}")


def connector_names() -> list[str]:
    return sorted({ep.name for ep in entry_points(group=CONNECTORS)})
