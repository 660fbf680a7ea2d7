"""One desk account's Mastodon.py client, with the desk's rules around every call.

Mastodon.py runs with ``ratelimit_method="throw"``: it never sleeps by itself ("wait" would
block the poll loop for up to five minutes, "pace" refuses to work when a server sends no
reset time). Waiting is `Backoff`'s job: a 429 becomes `RateLimited` with the seconds left
until the window resets (short ones are slept in place, long ones go back to the poll loop),
5xx and dropped connections become `TransientNetworkError` and are retried. When the last
response said the window is spent (`X-RateLimit-Remaining: 0`), the next call is not even
sent: it raises `RateLimited` at once, which is what "pace" mode would have waited for.

Every response passes through a `requests` hook that reports its `X-RateLimit-*` headers to
the meter (Mastodon sends them on every authenticated call: 300 calls per 5 minutes by
default) and keeps them for the 429 arithmetic, so this works whether the server sends the
reset as ISO 8601 (Mastodon) or as epoch seconds (some other implementations).
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlparse

import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
)

from carebird import __version__
from carebird.errors import ConnectorError, RateLimited, TransientNetworkError
from carebird.ingest.calls import Backoff, CallMeter, RateLimit

T = TypeVar("T")
# Servers' admins see who calls them; a connector adds its stream ("… stream=mentions").
USER_AGENT = f"carebird/{__version__}"
DEFAULT_RETRY_AFTER = 60.0  # a 429 that names no reset time
_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


class JsonDict(dict[str, Any]):
    """A JSON object with attribute access too (Mastodon.py reads `.id` on some results)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def plain_json(value: Any) -> Any:
    """The response as parsed; top-level objects (alone or in a list) get attribute access."""
    if isinstance(value, dict):
        return JsonDict(value)
    if isinstance(value, list):
        return [JsonDict(v) if isinstance(v, dict) else v for v in value]
    return value


class _Client(Mastodon):
    """Mastodon.py without its typed entities.

    Mastodon.py casts every response into typed entity classes, recursively, field by field
    (parsing dates, coercing ids): several ms of CPU per notification, which made reading
    mentions 5-6x slower (measured on mastodon-mock, same load: 150-210 vs 960-1,150
    notifications/s). We normalise
    from the JSON anyway, so responses stay plain JSON; requests, parameters, errors,
    rate-limit headers and pagination are still Mastodon.py's. This overrides Mastodon.py's
    private casting hook; tests/unit/ingest/test_mastodon_api.py fails if it stops being used.
    """

    def _Mastodon__try_cast_to_type(self, value: Any, override_type: Any = None) -> Any:
        return plain_json(value), None


class PeerNotFound(ConnectorError):
    """The server answered 404: the status or account is gone (deleted, suspended)."""


def _epoch(value: str | None) -> float | None:
    """A reset time as Mastodon (ISO 8601) or others (epoch seconds) send it."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class MastodonApi:
    """Calls through Mastodon.py for one account; thread-safe (fetch and send may race)."""

    def __init__(
        self,
        *,
        base_url: str,
        access_token: str | None,
        meter: CallMeter,
        backoff: Backoff,
        timeout: float = 30.0,
        user_agent: str = USER_AGENT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.meter, self.backoff, self._clock = meter, backoff, clock
        self._lock = threading.RLock()
        self._headers: Mapping[str, str] = {}
        self._spent_until: float | None = None  # a 2xx said "0 calls left" until then
        session = requests.Session()
        session.hooks["response"].append(self._on_response)
        self.client: Mastodon = _Client(
            access_token=access_token,
            api_base_url=base_url,
            ratelimit_method="throw",
            request_timeout=timeout,
            session=session,
            user_agent=user_agent,
        )

    def call(
        self,
        op: str,
        what: str,
        fn: Callable[[Mastodon], T],
        *,
        units: Callable[[T], int] | None = None,
        estimate: int = 0,
    ) -> T:
        """Run `fn(client)` with retries; report it to the meter as `op` (units from `units`)."""
        if estimate:
            self.meter.allow(op, estimate)

        def attempt() -> T:
            with self._lock:
                self._refuse_if_spent(what)
                try:
                    result = fn(self.client)
                except MastodonRatelimitError as exc:
                    self.meter.record("other", 0)
                    wait = self._retry_after()
                    raise RateLimited(f"{what}: rate limited", retry_after=wait) from exc
                except (MastodonServerError, MastodonNetworkError) as exc:
                    self.meter.record("other", 0)
                    raise TransientNetworkError(f"{what}: {exc}") from exc
                except MastodonNotFoundError as exc:
                    self.meter.record("other", 0)
                    raise PeerNotFound(f"{what}: not found") from exc
                except MastodonError as exc:
                    self.meter.record("other", 0)
                    raise ConnectorError(f"{what}: {exc}") from exc
            self.meter.record(op, units(result) if units is not None else 0)
            return result

        return self.backoff.run(attempt, what=what)

    # -- rate-limit headers ------------------------------------------------------------------

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        headers = response.headers
        self._headers = headers
        limit = _int(headers.get("X-RateLimit-Limit"))
        remaining = _int(headers.get("X-RateLimit-Remaining"))
        reset_at = self._local(_epoch(headers.get("X-RateLimit-Reset")))
        if limit is None and remaining is None and reset_at is None:
            return
        window = RateLimit(limit=limit, remaining=remaining, reset_at=reset_at)
        if response.ok and remaining is not None:
            self._spent_until = reset_at if remaining <= 0 else None
        request = response.request
        path = _ID_SEGMENT.sub("/:id", urlparse(request.url or "").path)
        self.meter.observe(f"{request.method} {path}", window)

    def _local(self, server_epoch: float | None) -> float | None:
        """A server timestamp on our clock, using the response's Date header for the skew."""
        if server_epoch is None:
            return None
        server_now = _http_date(self._headers.get("Date"))
        if server_now is None:
            return server_epoch
        return server_epoch + (self._clock() - server_now)

    def _retry_after(self) -> float:
        """Seconds until the 429's window resets (Retry-After if sent, else X-RateLimit-Reset)."""
        retry = self._headers.get("Retry-After")
        if retry is not None:
            seconds = _epoch(retry) if retry.strip().isdigit() else None
            if seconds is None and (at := _http_date(retry)) is not None:
                seconds = at - (_http_date(self._headers.get("Date")) or self._clock())
            if seconds is not None:
                return max(seconds, 0.0)
        reset_at = self._local(_epoch(self._headers.get("X-RateLimit-Reset")))
        if reset_at is None:
            return DEFAULT_RETRY_AFTER
        return max(reset_at - self._clock(), 0.0)

    def _refuse_if_spent(self, what: str) -> None:
        """Don't spend a call on a certain 429 (after a 429, Backoff has already waited)."""
        until = self._spent_until
        if until is None:
            return
        wait = until - self._clock()
        if wait <= 0:
            self._spent_until = None
            return
        raise RateLimited(f"{what}: no calls left in this window", retry_after=wait)
