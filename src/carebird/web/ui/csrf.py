"""CSRF protection by a signed double-submit cookie.

The browser holds `carebird_csrf` = `<random>.<HMAC(secret, random)>`; each unsafe form post
(and each cookie-authenticated API write, as the `X-CSRF-Token` header) must repeat it. A page
on another site can neither read the cookie nor, thanks to the signature, plant its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from carebird.config import Settings
from carebird.errors import Forbidden

CSRF_COOKIE = "carebird_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _sign(secret_key: str, nonce: str) -> str:
    return hmac.new(secret_key.encode(), b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


def new_token(settings: Settings) -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_sign(settings.secret_key, nonce)}"


def valid_token(settings: Settings, token: str | None) -> bool:
    if not token or token.count(".") != 1:
        return False
    nonce, sig = token.split(".")
    return hmac.compare_digest(sig, _sign(settings.secret_key, nonce))


def csrf_token(request: Request, settings: Settings) -> str:
    """The browser's current token, or a fresh one (set it with `set_csrf_cookie`)."""
    current = request.cookies.get(CSRF_COOKIE)
    if current is not None and valid_token(settings, current):
        return current
    return new_token(settings)


def set_csrf_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def check_csrf(request: Request, settings: Settings, submitted: str | None) -> None:
    """Raise Forbidden unless `submitted` equals the browser's valid CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    ok = (
        submitted is not None
        and cookie is not None
        and valid_token(settings, cookie)
        and hmac.compare_digest(submitted.encode(), cookie.encode())
    )
    if not ok:
        raise Forbidden("missing or invalid CSRF token; reload the page and try again")
