"""Bluesky text rules: grapheme counting, the 300 limit, TIDs, facets' UTF-8 byte offsets."""

from __future__ import annotations

import re

import pytest

from carebird.ingest.bluesky import BlueskyConnector
from carebird.ingest.bluesky.graphemes import grapheme_count, iter_graphemes
from carebird.ingest.bluesky.records import AtUri, build_facets, encode_tid, tid_for_key
from carebird.ingest.calls import AccountSpec

TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
FAMILY = (
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # man ZWJ woman ZWJ girl ZWJ boy
)


@pytest.mark.parametrize(
    ("text", "clusters"),
    [
        ("abc", ["a", "b", "c"]),
        ("e\u0301t\u00e9", ["e\u0301", "t", "\u00e9"]),  # combining acute vs precomposed
        ("Z\u0351\u036b\u0343\u036a!", ["Z\u0351\u036b\u0343\u036a", "!"]),  # stacked marks
        (FAMILY + "x", [FAMILY, "x"]),  # a ZWJ family is one
        ("\U0001f469\U0001f3fd\u200d\U0001f4bb", ["\U0001f469\U0001f3fd\u200d\U0001f4bb"]),
        ("\U0001f44d\U0001f3fd", ["\U0001f44d\U0001f3fd"]),  # skin tone modifier
        (
            "\U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea",
            ["\U0001f1eb\U0001f1f7", "\U0001f1e9\U0001f1ea"],
        ),
        ("\U0001f1eb\U0001f1f7\U0001f1e9", ["\U0001f1eb\U0001f1f7", "\U0001f1e9"]),  # odd RI
        ("1\ufe0f\u20e3", ["1\ufe0f\u20e3"]),  # keycap
        ("\u2764\ufe0f", ["\u2764\ufe0f"]),  # variation selector
        (
            "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland
            ["\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"],
        ),
        ("\ud55c\uad6d", ["\ud55c", "\uad6d"]),  # Hangul syllables
        ("\u1100\u1161\u11a8", ["\u1100\u1161\u11a8"]),  # conjoining jamo
        ("a\r\nb", ["a", "\r\n", "b"]),
        ("\u0915\u094d\u0937\u093f", ["\u0915\u094d\u0937\u093f"]),  # Devanagari conjunct (GB9c)
        ("a\u200db", ["a\u200d", "b"]),  # ZWJ outside emoji joins nothing after it
    ],
)
def test_grapheme_clusters(text: str, clusters: list[str]) -> None:
    assert list(iter_graphemes(text)) == clusters
    assert grapheme_count(text) == len(clusters)


def test_ascii_fast_path_agrees_with_segmentation() -> None:
    text = "Bonjour\r\nmerci de votre patience !\n\t(ok)"
    assert grapheme_count(text) == len(list(iter_graphemes(text))) == len(text) - 1


def test_text_limit_counts_graphemes() -> None:
    connector = BlueskyConnector(AccountSpec("bluesky", "brand.bsky.social"), "notifications")
    assert connector.text_limit() == 300
    assert connector.count_length(FAMILY * 3) == 3
    assert connector.count_length("e\u0301" * 300) == 300
    assert len("e\u0301" * 300) == 600  # what len() would wrongly have counted


def test_tids() -> None:
    assert encode_tid(0) == "2222222222222"
    key_tid = tid_for_key("reply-42")
    assert TID.match(key_tid)
    assert tid_for_key("reply-42") == key_tid  # a retry asks for the same record key
    assert tid_for_key("reply-43") != key_tid
    assert len({tid_for_key(f"k{i}") for i in range(2000)}) == 2000


def test_at_uri() -> None:
    uri = AtUri.parse("at://did:plc:abc/app.bsky.feed.post/3k2la")
    assert (uri.repo, uri.collection, uri.rkey) == ("did:plc:abc", "app.bsky.feed.post", "3k2la")
    assert str(uri) == "at://did:plc:abc/app.bsky.feed.post/3k2la"
    with pytest.raises(ValueError):
        AtUri.parse("https://bsky.app/profile/x")


def test_facets_have_utf8_byte_offsets() -> None:
    text = f"{FAMILY} Merci @client.bsky.social ! Suivi : https://exemple.fr/colis?id=é #livraison"
    dids = {"client.bsky.social": "did:plc:client"}
    facets = build_facets(text, dids.get)
    data = text.encode()
    spans = {
        f["features"][0]["$type"].split("#")[1]: data[
            f["index"]["byteStart"] : f["index"]["byteEnd"]
        ]
        for f in facets
    }
    assert spans["mention"].decode() == "@client.bsky.social"
    assert spans["link"].decode() == "https://exemple.fr/colis?id=é"
    assert spans["tag"].decode() == "#livraison"
    mention = next(f for f in facets if "mention" in f["features"][0]["$type"])
    assert mention["features"][0]["did"] == "did:plc:client"
    # the character offset is not the byte offset: the emoji family takes 25 bytes, 7 code points
    assert mention["index"]["byteStart"] == text.index("@") + (25 - 7)
    starts = [f["index"]["byteStart"] for f in facets]
    assert starts == sorted(starts)


def test_unknown_handle_stays_plain_text() -> None:
    facets = build_facets("voir @personne.bsky.social", lambda handle: None)
    assert facets == []
