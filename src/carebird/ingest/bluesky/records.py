"""Record-level helpers: TIDs for record keys, facets with UTF-8 byte offsets, at:// URIs.

A TID is 13 characters of base32-sortable text for a 64-bit integer: 53 bits of microseconds
since the Unix epoch, then 10 bits of clock id (https://atproto.com/specs/tid). `tid_for_key`
derives one from an idempotency key, so every retry of the same reply asks the PDS to create the
same record key and a second attempt cannot become a second post.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atproto_client.utils import facet_detection

_B32 = "234567abcdefghijklmnopqrstuvwxyz"
_TID_EPOCH_US = 1_672_531_200_000_000  # 2023-01-01, so derived keys look like plausible TIDs
POST = "app.bsky.feed.post"


def encode_tid(micros: int, clock_id: int = 0) -> str:
    n = (micros << 10) | (clock_id & 0x3FF)
    if not 0 <= n < 2**63:
        raise ValueError("a TID holds 63 bits")
    chars = []
    for _ in range(13):
        chars.append(_B32[n & 31])
        n >>= 5
    return "".join(reversed(chars))


def tid_for_key(idempotency_key: str) -> str:
    """A valid TID that depends only on `idempotency_key` (60 bits of its SHA-256)."""
    digest = hashlib.sha256(b"carebird/bluesky/rkey\0" + idempotency_key.encode()).digest()
    h = int.from_bytes(digest[:8], "big")
    return encode_tid(_TID_EPOCH_US + ((h >> 10) % 2**50), h & 0x3FF)


@dataclass(frozen=True, slots=True)
class AtUri:
    repo: str
    collection: str
    rkey: str

    @classmethod
    def parse(cls, uri: str) -> AtUri:
        if not uri.startswith("at://"):
            raise ValueError(f"not an at:// URI: {uri!r}")
        parts = uri[5:].split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"not a record URI: {uri!r}")
        return cls(*parts)

    def __str__(self) -> str:
        return f"at://{self.repo}/{self.collection}/{self.rkey}"


def build_facets(text: str, resolve: Callable[[str], str | None]) -> list[dict[str, Any]]:
    """Mention, link and tag facets for `text`, byte offsets into its UTF-8 encoding.

    Detection is the SDK's port of the official rich-text detector; `resolve` maps a handle to
    its DID (None when the handle does not exist: the @text then stays plain text).
    """
    facets: list[dict[str, Any]] = []
    for found in facet_detection.detect_facets(text):  # links, #tags, $cashtags
        feature = found.features[0]
        kind = "link" if hasattr(feature, "uri") else "tag"
        value = {"uri": feature.uri} if kind == "link" else {"tag": feature.tag}
        facets.append(_facet(found.index.byte_start, found.index.byte_end, kind, value))
    for mention in facet_detection.detect_mentions(text):
        did = resolve(mention.handle.lower())
        if did:
            facets.append(_facet(mention.byte_start, mention.byte_end, "mention", {"did": did}))
    return sorted(facets, key=lambda f: f["index"]["byteStart"])


def _facet(start: int, end: int, kind: str, value: dict[str, str]) -> dict[str, Any]:
    feature = {"$type": f"app.bsky.richtext.facet#{kind}", **value}
    return {"index": {"byteStart": start, "byteEnd": end}, "features": [feature]}


def has_link(facets: list[dict[str, Any]]) -> bool:
    return any(
        f["$type"] == "app.bsky.richtext.facet#link" for facet in facets for f in facet["features"]
    )
