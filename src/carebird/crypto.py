"""Secrets at rest: network credentials are stored encrypted with a key derived from the
desk's secret key (Fernet: AES-128-CBC + HMAC-SHA256, authenticated).

Changing `CAREBIRD_SECRET_KEY` makes stored credentials unreadable (a clear error says so):
re-add the accounts, or decrypt with the old key first.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from carebird.errors import InvalidInput

_INFO = b"carebird network credentials v1"


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, values: Mapping[str, str]) -> str:
    """Encrypt a mapping of credential names to values."""
    return _fernet(secret_key).encrypt(json.dumps(dict(values)).encode()).decode()


def unseal(secret_key: str, token: str | None) -> dict[str, str]:
    """Decrypt what `seal` produced; an empty mapping for none."""
    if not token:
        return {}
    try:
        data = json.loads(_fernet(secret_key).decrypt(token.encode()))
    except InvalidToken:
        raise InvalidInput(
            "stored credentials cannot be decrypted with this secret key "
            "(was CAREBIRD_SECRET_KEY changed?): add the account again"
        ) from None
    return {str(k): str(v) for k, v in data.items()}
