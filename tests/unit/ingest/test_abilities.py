"""Optional connector abilities are small Protocols in `ingest.base`, recognised structurally.

Each network's connector is checked against every ability, as a class (`issubclass`, what
the web asks before building one) and as an instance (`isinstance`, what the jobs ask).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from carebird.ingest.base import (
    AuthorInfo,
    CanCheckCredentials,
    CanFindSent,
    CanReconcile,
    CanSendMedia,
    Closable,
    Connector,
    FetchResult,
    HasOwnAccounts,
    HasTextLimit,
    OutboundReply,
    SendsIdempotently,
    SentReceipt,
)
from carebird.ingest.bluesky import BlueskyConnector
from carebird.ingest.calls import AccountSpec
from carebird.ingest.mastodon.connector import MastodonConnector
from carebird.ingest.sim.network import SimulatedNetwork
from carebird.ingest.x.connector import XConnector
from carebird.plugins import connector_class
from carebird.reply.sending import _can_resend_safely

ABILITIES: dict[type, set[str]] = {  # which registered connectors offer each ability
    CanReconcile: {"x"},
    CanFindSent: {"x", "mastodon", "bluesky"},
    CanSendMedia: {"x"},
    HasTextLimit: {"x", "mastodon", "bluesky"},
    CanCheckCredentials: {"x", "mastodon", "bluesky"},
    Closable: {"bluesky"},
    HasOwnAccounts: {"sim"},
}
NETWORKS = ["sim", "x", "mastodon", "bluesky"]


def _x() -> XConnector:
    spec = AccountSpec("x", "LigneAzur_SAV", "1001", credentials={"bearer_token": "b"})
    return XConnector(spec, "mentions")


def _mastodon() -> MastodonConnector:
    spec = AccountSpec(
        "mastodon",
        "ligneazur",
        "1",
        credentials={"access_token": "t"},
        options={"base_url": "https://mastodon.example"},
    )
    return MastodonConnector(spec, "mentions")


def _bluesky() -> BlueskyConnector:
    return BlueskyConnector(AccountSpec("bluesky", "brand.bsky.social"), "notifications")


def _instances() -> dict[str, object]:
    return {
        "sim": SimulatedNetwork(seed=1),
        "x": _x(),
        "mastodon": _mastodon(),
        "bluesky": _bluesky(),
    }


@pytest.mark.parametrize("ability", list(ABILITIES), ids=lambda a: a.__name__)
@pytest.mark.parametrize("network", NETWORKS)
def test_a_connector_class_has_exactly_its_abilities(ability: type, network: str) -> None:
    assert issubclass(connector_class(network), ability) is (network in ABILITIES[ability])


@pytest.mark.parametrize("ability", list(ABILITIES), ids=lambda a: a.__name__)
def test_a_built_connector_has_exactly_its_abilities(ability: type) -> None:
    for network, connector in _instances().items():
        assert isinstance(connector, Connector)
        assert isinstance(connector, ability) is (network in ABILITIES[ability]), network


def test_only_the_simulator_declares_idempotent_sends() -> None:
    found = {n for n, c in _instances().items() if isinstance(c, SendsIdempotently)}
    assert found == {"sim"}


@dataclass
class _Bare:
    """A connector with no optional ability at all."""

    network: str = "bare"
    source: str = "bare:1"
    idempotent_send: bool = False

    def fetch(self, cursor: str | None, *, limit: int = 500) -> FetchResult:
        return FetchResult([], cursor)

    def send(self, reply: OutboundReply) -> SentReceipt:
        return SentReceipt(reply.idempotency_key, datetime.now(UTC))


def test_a_bare_connector_has_no_optional_ability() -> None:
    bare = _Bare()
    assert isinstance(bare, Connector)
    for ability in ABILITIES:
        assert not isinstance(bare, ability), ability.__name__
        assert not issubclass(_Bare, ability), ability.__name__


def test_a_resend_is_safe_when_the_network_can_be_asked_or_deduplicates() -> None:
    assert _can_resend_safely(_x())  # find_sent
    assert _can_resend_safely(SimulatedNetwork(seed=1))  # idempotent_send = True
    assert not _can_resend_safely(_Bare())  # idempotent_send = False, no find_sent


def test_the_connectors_satisfy_the_protocols_statically() -> None:
    """Checked by mypy: the signatures match, not only the names."""
    x, mastodon, bluesky = _x(), _mastodon(), _bluesky()
    reconciling: CanReconcile = x
    media: CanSendMedia = x
    finders: Sequence[CanFindSent] = [x, mastodon, bluesky]
    limits: Sequence[HasTextLimit] = [x, mastodon, bluesky]
    checks: Sequence[CanCheckCredentials] = [x, mastodon, bluesky]
    closable: Closable = bluesky
    own: HasOwnAccounts = SimulatedNetwork(seed=1)
    assert own.accounts() and all((reconciling, media, finders, limits, checks, closable))
    author = own.brand_author("LigneAzur")
    assert isinstance(author, AuthorInfo) and author.verified
