"""Extension points, loaded through entry points; the built-in pieces register the same way.

This is the one plugin loader: connectors (`carebird.connectors`) and classifiers
(`carebird.classifiers`) are both looked up here, by group and name. It imports nothing of
carebird's own, so any stage may use it.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

CONNECTORS = "carebird.connectors"
CLASSIFIERS = "carebird.classifiers"


def names(group: str) -> list[str]:
    """The names registered in the entry-point `group`, sorted."""
    return sorted({ep.name for ep in entry_points(group=group)})


def load(group: str, name: str, *, kind: str = "plugin") -> Any:
    """The object registered as `name` in the entry-point `group`.

    Raises `LookupError` naming what is installed ("no connector 'y'; installed: sim, x"),
    `kind` being the word used for the missing thing.
    """
    for ep in entry_points(group=group):
        if ep.name == name:
            return ep.load()
    raise LookupError(f"no {kind} {name!r}; installed: {', '.join(names(group)) or 'none'}")


def connector_class(name: str) -> Any:
    """The connector class registered under `name` (e.g. "sim")."""
    return load(CONNECTORS, name, kind="connector")


def connector_names() -> list[str]:
    return names(CONNECTORS)
