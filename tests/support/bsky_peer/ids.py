"""Identifiers as a PDS makes them: DIDs, TIDs, CIDs (CIDv1 dag-cbor sha-256), JWTs, times."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

import libipld

_B32 = "234567abcdefghijklmnopqrstuvwxyz"


def did_for(handle: str) -> str:
    """A did:plc-shaped identifier (24 base32 characters) derived from the handle."""
    digest = hashlib.sha256(handle.lower().encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


def encode_tid(n: int) -> str:
    chars = []
    for _ in range(13):
        chars.append(_B32[n & 31])
        n >>= 5
    return "".join(reversed(chars))


class TidClock:
    """Strictly increasing TIDs from the wall clock (microseconds, clock id 0)."""

    def __init__(self, clock_id: int = 0) -> None:
        self._last = 0
        self._clock_id = clock_id & 0x3FF
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns() // 1000)
            return encode_tid((self._last << 10) | self._clock_id)


def _to_ipld(value: Any) -> Any:
    """JSON → IPLD-ish data: {"$bytes": b64} becomes bytes; a {"$link": cid} becomes the CID's
    bytes (a real PDS writes a tag-42 link: the peer's CIDs of records holding blobs differ)."""
    if isinstance(value, dict):
        if set(value) == {"$link"}:
            return _cid_bytes(value["$link"])
        if set(value) == {"$bytes"}:
            return base64.b64decode(value["$bytes"] + "==")
        return {k: _to_ipld(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_ipld(v) for v in value]
    return value


def _cid_bytes(cid: str) -> bytes:
    return base64.b32decode(cid[1:].upper() + "=" * (-len(cid[1:]) % 8))


def _cid(codec: int, data: bytes) -> str:
    raw = bytes([0x01, codec, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def cid_for_record(record: dict[str, Any]) -> str:
    """The CID a PDS gives a record: CIDv1, dag-cbor codec, sha2-256, base32."""
    return _cid(0x71, libipld.encode_dag_cbor(_to_ipld(record)))


def cid_for_blob(data: bytes) -> str:
    return _cid(0x55, data)  # raw codec


def iso(moment: datetime) -> str:
    """Millisecond precision with a Z, as the AppView writes indexedAt."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def make_jwt(secret: bytes, payload: dict[str, Any], typ: str) -> str:
    header = _b64(json.dumps({"typ": typ, "alg": "HS256"}).encode())
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"
