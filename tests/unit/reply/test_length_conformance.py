"""X's length rule against the official twitter-text conformance suite (validate.yml).

Every case of every section about counting or tweet validity runs; the sections that test
other validators (usernames, lists, hashtags, isValidUrl) are listed with the reason they do
not apply, so a section added to the file upstream fails here until it is classified.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from carebird.reply.length import X_CONFIG, measure, parse_x
from tests.support.shared import shared_data

# Which twitter-text config each counting section is written for (as in twitter-text's own
# test runners): "tweets" is the legacy 140-character v1 rule, WeightedTweetsCounterTest v2,
# the discounted-emoji and directional-marker sections v3 — the rule X applies today.
VERSIONS = {
    "tweets": 1,
    "WeightedTweetsCounterTest": 2,
    "WeightedTweetsWithDiscountedEmojiCounterTest": 3,
    "UnicodeDirectionalMarkerCounterTest": 3,
}
NOT_ABOUT_LENGTH = {
    "usernames": "isValidUsername: a validator of @names, not of length",
    "lists": "isValidList: a validator of @user/list, not of length",
    "hashtags": "isValidHashtag: a validator of #tags, not of length",
    "urls": "isValidUrl: an RFC 3986 URL validator (the counter uses the extractor)",
}
URLS_COUNTED = "urls_without_protocol"  # bare domains: each must count as one 23-long URL


def _suite() -> dict[str, list[dict[str, Any]]]:
    path = shared_data("twitter-text-conformance/validate.yml")
    tests: dict[str, list[dict[str, Any]]] = yaml.safe_load(path.read_text("utf-8"))["tests"]
    return tests


def test_every_section_is_run_or_explained() -> None:
    sections = set(_suite())
    assert sections == set(VERSIONS) | set(NOT_ABOUT_LENGTH) | {URLS_COUNTED}


def test_the_counter_uses_the_official_v3_config() -> None:
    official = json.loads(shared_data("twitter-text-conformance/v3.json").read_text("utf-8"))
    assert official == {
        "version": X_CONFIG["version"],
        "maxWeightedTweetLength": X_CONFIG["max_weighted_tweet_length"],
        "scale": X_CONFIG["scale"],
        "defaultWeight": X_CONFIG["default_weight"],
        "emojiParsingEnabled": X_CONFIG["emoji_parsing_enabled"],
        "transformedURLLength": X_CONFIG["transformed_url_length"],
        "ranges": X_CONFIG["ranges"],
    }


@pytest.mark.parametrize("section", sorted(VERSIONS))
def test_conformance_section(section: str) -> None:
    cases = _suite()[section]
    assert len(cases) >= 2
    failures = []
    for case in cases:
        text, expected = case["text"], case["expected"]
        got = parse_x(text, version=VERSIONS[section]).asdict()
        if isinstance(expected, bool):  # the tweets section: validity only
            wrong = {"valid": (got["valid"], expected)} if got["valid"] != expected else {}
        else:
            wrong = {k: (got[k], v) for k, v in expected.items() if got[k] != v}
        if VERSIONS[section] == 3 and not isinstance(expected, bool):
            m = measure("x", text)  # what the composer shows: the same count and verdict
            if m.length != expected["weightedLength"] or m.limit != 280:
                wrong["measure"] = (m.length, expected["weightedLength"])
            if m.over != (expected["weightedLength"] > 280):
                wrong["over"] = (m.over, not m.over)
        if wrong:
            failures.append((case["description"], wrong))
    assert failures == []


def test_bare_domains_count_as_one_url() -> None:
    cases = _suite()[URLS_COUNTED]
    assert cases and all(c["expected"] is True for c in cases)
    for case in cases:
        assert measure("x", case["text"]).length == 23, case["description"]
        assert measure("x", f"voir {case['text']}").length == 5 + 23, case["description"]
