"""The Mastodon peer itself: the harness's batched notifications route, bulk mentions, volume."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mastodon import Mastodon
from mastodon_mock.db.models import Account, Notification
from mastodon_mock.serializers.notifications import serialize_notification
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support.mastodon_harness import BRAND, MastodonHarness, serialize_notifications


@pytest.fixture
def peer() -> Iterator[MastodonHarness]:
    with MastodonHarness() as harness:
        yield harness


def test_batched_notifications_match_the_packages_own(peer: MastodonHarness) -> None:
    [first, second] = peer.post_mentions(2, customers=2)
    peer.customer_posts(f"@{BRAND} suite", customer=1, in_reply_to_id=first)
    peer.send_private("en privé", customer=2)
    brand_post = peer.post_as_brand("Bonjour", in_reply_to=second)
    fan = Mastodon(access_token="client-0-token", api_base_url=peer.base_url)
    fan.status_favourite(brand_post)
    fan.status_reblog(brand_post)
    fan.account_follow(peer.brand_account_id)
    with Session(peer.engine) as db:
        brand = db.get(Account, peer.brand_account_id)
        assert brand is not None
        notes = list(
            db.scalars(
                select(Notification)
                .where(Notification.account_id == brand.id)
                .order_by(Notification.id.desc())
            )
        )
        config = peer.app.state.config
        batched = serialize_notifications(db, notes, config, brand)
        one_by_one = [
            serialize_notification(db, n, config, brand, filter_context="notifications")
            for n in notes
        ]
    assert {n["type"] for n in batched} == {"mention", "favourite", "reblog", "follow"}
    assert batched == one_by_one
