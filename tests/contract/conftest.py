"""Every connector against its network's local peer: X, Mastodon and Bluesky."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest

from tests.support.contract import PeerHarness

NETWORKS = ("x", "mastodon", "bluesky")


def harness_class(network: str) -> type:
    module = importlib.import_module(f"tests.support.{network}_harness")
    (cls,) = [
        v
        for k, v in vars(module).items()
        if k.endswith("Harness") and isinstance(v, type) and v.__module__ == module.__name__
    ]
    return cls


@pytest.fixture(params=NETWORKS)
def peer(request: pytest.FixtureRequest) -> Iterator[PeerHarness]:
    with harness_class(request.param)() as harness:
        yield harness
