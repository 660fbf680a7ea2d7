"""Each network's own length rule, the one its server checks before accepting a post.

- X (and the simulator, which behaves like X): twitter-text v3's weighted count, 280 — URLs
  count 23 whatever their length, CJK and emoji weigh 2 (an emoji sequence counts once), text
  NFC-normalised first. The `twitter-text-parser` package implements it and passes the official
  conformance suite (tests/unit/reply/test_length_conformance.py). Private messages hold 10,000.
- Mastodon: the instance's `max_characters` (500 by default), URLs 23, `@user@domain` as `@user`
  (Mastodon.py's count, the one the connector uses); a private message is a status: same limit.
- Bluesky: 300 graphemes for a post, 1,000 for a chat message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from twitter_text import ParsedResult, parse_tweet
from twitter_text.config import config as _twitter_configs

from carebird.errors import InvalidInput
from carebird.ingest.bluesky.graphemes import grapheme_count
from carebird.ingest.mastodon.text import count_length as mastodon_length

# twitter-text's configs by version; X counts with v3 (checked against the official v3.json).
# v1 (140, all weights 1) and v2 (no emoji parsing) remain for the conformance suite.
X_CONFIGS = {
    v: {"emoji_parsing_enabled": False, **_twitter_configs[f"version{v}"]} for v in (1, 2, 3)
}
X_CONFIG = X_CONFIGS[3]

CACHED_UP_TO = 2_000  # characters
PUBLIC_LIMITS = {"x": 280, "sim": 280, "mastodon": 500, "bluesky": 300}
PRIVATE_LIMITS = {"x": 10_000, "sim": 10_000, "mastodon": 500, "bluesky": 1_000}


def parse_x(text: str, *, version: int = 3) -> ParsedResult:
    """twitter-text's full parse (length, validity, valid range) under a config version."""
    return parse_tweet(text, X_CONFIGS[version])


def x_length(text: str) -> int:
    return int(parse_tweet(text, X_CONFIG).weightedLength)


COUNTERS: dict[str, Callable[[str], int]] = {
    "x": x_length,
    "sim": x_length,
    "mastodon": mastodon_length,
    "bluesky": grapheme_count,
}


@dataclass(frozen=True)
class Measure:
    length: int
    limit: int
    over: bool

    @property
    def remaining(self) -> int:
        return self.limit - self.length


def counter_for(network: str) -> Callable[[str], int]:
    try:
        return COUNTERS[network]
    except KeyError:
        raise InvalidInput(f"no length rule for network {network!r}") from None


def default_limit(network: str, *, private: bool = False) -> int:
    counter_for(network)  # unknown networks fail the same way everywhere
    return (PRIVATE_LIMITS if private else PUBLIC_LIMITS)[network]


@lru_cache(maxsize=4096)
def _cached_length(network: str, text: str) -> int:
    return counter_for(network)(text)


def length_of(network: str, text: str) -> int:
    """`text`'s length on `network`. Post-sized texts are cached: the composer measures a draft
    at every keystroke, and all but one of its parts are the same as a moment ago."""
    if len(text) <= CACHED_UP_TO:
        return _cached_length(network, text)
    return counter_for(network)(text)


def measure(network: str, text: str, *, limit: int | None = None, private: bool = False) -> Measure:
    """`text`'s length as `network` counts it, against `limit` (else the network's default)."""
    length = length_of(network, text)
    top = limit if limit is not None else default_limit(network, private=private)
    return Measure(length=length, limit=top, over=length > top)
