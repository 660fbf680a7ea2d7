"""X webhooks (Account Activity API), the optional push alternative to polling.

Pure functions: the web layer answers X's CRC challenge (GET ?crc_token=…) with
`crc_response` and checks each delivery's `x-twitter-webhooks-signature` header with
`signature_valid` before trusting the body. Both are HMAC-SHA256 keyed by the app's consumer
secret, base64-encoded and prefixed "sha256=".
"""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "x-twitter-webhooks-signature"


def _sign(message: bytes, consumer_secret: str) -> str:
    digest = hmac.new(consumer_secret.encode(), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def crc_response(crc_token: str, consumer_secret: str) -> dict[str, str]:
    """The JSON body answering X's challenge-response check."""
    return {"response_token": _sign(crc_token.encode(), consumer_secret)}


def signature_valid(body: bytes, signature: str | None, consumer_secret: str) -> bool:
    """Whether `signature` (the header's value) signs exactly `body` (the raw request bytes)."""
    if not signature:
        return False
    return hmac.compare_digest(_sign(body, consumer_secret), signature.strip())
