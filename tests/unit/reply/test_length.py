"""Each network's length rule as the composer measures it."""

from __future__ import annotations

import pytest

from carebird.errors import InvalidInput
from carebird.reply.length import Measure, default_limit, measure

LONG_URL = "https://suivi.example.com/colis/" + "A" * 120 + "?lang=fr"


def test_x_weighs_urls_cjk_and_emoji() -> None:
    assert measure("x", "Bonjour") == Measure(7, 280, False)
    assert measure("x", LONG_URL).length == 23
    assert measure("x", "日本語").length == 6  # CJK weigh 2
    assert measure("x", "🙏").length == 2
    assert measure("x", "👨‍👩‍👧‍👦").length == 2  # one emoji sequence, counted once
    assert measure("x", "é").length == measure("x", "e\u0301").length == 1  # NFC first


def test_x_limit_and_over() -> None:
    assert measure("x", "a" * 280) == Measure(280, 280, False)
    assert measure("x", "a" * 281).over
    assert measure("x", "日" * 141).over  # 282 weighted
    assert measure("x", "a" * 300, limit=25_000) == Measure(300, 25_000, False)  # long posts
    assert measure("x", "a" * 5_000, private=True) == Measure(5_000, 10_000, False)


def test_the_simulator_counts_like_x() -> None:
    for text in ("Bonjour 🙏", LONG_URL, "日本語 ok"):
        assert measure("sim", text) == measure("x", text)


def test_mastodon_counts_urls_23_and_mentions_without_domain() -> None:
    assert measure("mastodon", "a" * 500) == Measure(500, 500, False)
    assert measure("mastodon", "a" * 501).over
    assert measure("mastodon", LONG_URL).length == 23
    assert measure("mastodon", "@marie@piaille.example bonjour").length == len("@marie bonjour")
    assert measure("mastodon", "🙏🏽").length == 1  # one grapheme
    assert measure("mastodon", "x" * 600, limit=1000).over is False  # the instance's limit


def test_bluesky_counts_graphemes() -> None:
    assert measure("bluesky", "a" * 300) == Measure(300, 300, False)
    assert measure("bluesky", "a" * 301).over
    assert measure("bluesky", "👨‍👩‍👧‍👦 é").length == 3
    assert measure("bluesky", "日本語").length == 3
    assert measure("bluesky", "https://example.com/" + "a" * 80).length == 100  # URLs in full
    assert measure("bluesky", "a" * 900, private=True) == Measure(900, 1000, False)


def test_limits_and_unknown_networks() -> None:
    assert [default_limit(n) for n in ("x", "sim", "mastodon", "bluesky")] == [280, 280, 500, 300]
    assert measure("x", "abc").remaining == 277
    with pytest.raises(InvalidInput, match="no length rule"):
        measure("myspace", "hello")
