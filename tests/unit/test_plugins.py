"""The one plugin loader: every extension group (connectors, classifiers) loads through it."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

import pytest

from carebird import plugins
from carebird.ingest.sim.network import SimulatedNetwork
from carebird.understand.classifier import BuiltinClassifier, load_classifier


def test_both_groups_load_by_name() -> None:
    assert plugins.load(plugins.CONNECTORS, "sim") is SimulatedNetwork
    assert plugins.load(plugins.CLASSIFIERS, "builtin") is BuiltinClassifier
    assert plugins.connector_class("sim") is SimulatedNetwork
    assert isinstance(load_classifier("builtin"), BuiltinClassifier)


def test_names_lists_what_each_group_has() -> None:
    assert plugins.names(plugins.CONNECTORS) == ["bluesky", "mastodon", "sim", "x"]
    assert plugins.connector_names() == plugins.names(plugins.CONNECTORS)
    assert {"builtin", "embeddings"} <= set(plugins.names(plugins.CLASSIFIERS))
    assert plugins.names("carebird.no-such-group") == []


def test_an_unknown_name_lists_the_installed_ones() -> None:
    with pytest.raises(
        LookupError, match=r"^no connector 'y'; installed: bluesky, mastodon, sim, x$"
    ):
        plugins.connector_class("y")
    with pytest.raises(
        LookupError, match=r"no classifier 'z'; installed: accurate, builtin, embeddings"
    ):
        load_classifier("z")
    with pytest.raises(LookupError, match=r"^no plugin 'a'; installed: none$"):
        plugins.load("carebird.no-such-group", "a")


def test_a_plugin_registered_by_another_package_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = EntryPoint(name="fake", group=plugins.CONNECTORS, value=f"{__name__}:FakeConnector")
    monkeypatch.setattr(
        "carebird.plugins.entry_points", lambda group: [*entry_points(group=group), fake]
    )
    assert plugins.connector_class("fake") is FakeConnector
    assert "fake" in plugins.connector_names()


class FakeConnector:
    network = "fake"
