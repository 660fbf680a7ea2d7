"""MastodonApi's rules around Mastodon.py calls, against canned HTTP responses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from carebird.errors import ConnectorError, RateLimited, TransientNetworkError
from carebird.ingest.calls import Backoff, CountingMeter
from carebird.ingest.mastodon.api import JsonDict, MastodonApi, PeerNotFound

NOW = 1_767_600_000.0  # our clock in these tests
DATE = "Mon, 05 Jan 2026 08:00:00 GMT"  # the server's clock: 1_767_600_000 as well
Canned = tuple[int, Any, Mapping[str, str]] | Exception


class CannedServer(BaseAdapter):
    def __init__(self, *responses: Canned) -> None:
        super().__init__()
        self.queue = list(responses)
        self.urls: list[str] = []

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        self.urls.append(str(request.url))
        canned = self.queue.pop(0)
        if isinstance(canned, Exception):
            raise canned
        status, body, headers = canned
        response = requests.Response()
        response.status_code, response.reason = status, "canned"
        response._content = json.dumps(body).encode()
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **headers})
        response.url, response.request = str(request.url), request
        return response

    def close(self) -> None:
        pass


def api_with(*responses: Canned) -> tuple[MastodonApi, CannedServer, CountingMeter, list[float]]:
    meter, slept = CountingMeter(), list[float]()
    api = MastodonApi(
        base_url="http://peer.test",
        access_token="t",
        meter=meter,
        backoff=Backoff(attempts=3, max_wait=30.0, sleep=slept.append),
        clock=lambda: NOW,
    )
    server = CannedServer(*responses)
    api.client.session.mount("http://peer.test", server)
    return api, server, meter, slept


STATUS = {"id": "42", "created_at": "2026-01-05T08:00:00.000Z", "account": {"id": "7"}}


def get_status(api: MastodonApi) -> Any:
    return api.call("post_read", "status", lambda c: c.status("42"), units=lambda _: 1)


def test_responses_stay_plain_json_with_attribute_access() -> None:
    # Guards the override of Mastodon.py's private casting hook (mastodon_api._Client).
    api, _, meter, _ = api_with((200, STATUS, {}))
    got = get_status(api)
    assert isinstance(got, JsonDict)
    assert got.id == got["id"] == "42"
    assert got["created_at"] == "2026-01-05T08:00:00.000Z"  # not cast to a datetime
    assert got["account"]["id"] == "7"
    assert meter.units["post_read"] == 1


def test_rate_limit_headers_reach_the_meter_with_the_endpoint() -> None:
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299", "Date": DATE}
    headers["X-RateLimit-Reset"] = "2026-01-05T08:05:00.000000Z"
    api, _, meter, _ = api_with((200, {"ancestors": [], "descendants": []}, headers))
    api.call("post_read", "context", lambda c: c.status_context("113"))
    window = meter.limits["GET /api/v1/statuses/:id/context"]
    assert (window.limit, window.remaining, window.reset_at) == (300, 299, NOW + 300)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-RateLimit-Reset": "2026-01-05T08:00:12.000000Z", "Date": DATE},  # Mastodon: ISO
        {"X-RateLimit-Reset": str(int(NOW) + 12)},  # others: epoch seconds
        {"Retry-After": "12"},
    ],
)
def test_short_429_waits_the_reset_then_succeeds(headers: dict[str, str]) -> None:
    api, server, _, slept = api_with(
        (429, {"error": "Too many requests"}, headers), (200, STATUS, {})
    )
    assert get_status(api)["id"] == "42"
    assert slept == [pytest.approx(12.0)]
    assert len(server.urls) == 2


def test_long_429_is_raised_with_the_wait() -> None:
    reset = {"X-RateLimit-Reset": "2026-01-05T08:05:00.000000Z", "Date": DATE}
    api, server, _, slept = api_with((429, {"error": "Too many requests"}, reset))
    with pytest.raises(RateLimited) as info:
        get_status(api)
    assert info.value.retry_after == pytest.approx(300.0)
    assert slept == [] and len(server.urls) == 1


def test_5xx_and_dropped_connections_are_retried() -> None:
    api, server, _, slept = api_with(
        (503, {"error": "down"}, {}), requests.ConnectionError("reset"), (200, STATUS, {})
    )
    assert get_status(api)["id"] == "42"
    assert len(slept) == 2 and len(server.urls) == 3


def test_persistent_5xx_gives_up_as_transient() -> None:
    api, server, _, _ = api_with(*[(500, {"error": "boom"}, {})] * 3)
    with pytest.raises(TransientNetworkError):
        get_status(api)
    assert len(server.urls) == 3


def test_client_errors_are_not_retried() -> None:
    api, server, _, _ = api_with((404, {"error": "Record not found"}, {}))
    with pytest.raises(PeerNotFound):
        get_status(api)
    api, server, _, _ = api_with((422, {"error": "Validation failed"}, {}))
    with pytest.raises(ConnectorError) as info:
        get_status(api)
    assert not isinstance(info.value, (TransientNetworkError, RateLimited))
    assert len(server.urls) == 1


def test_a_spent_window_is_not_called_again_until_it_resets() -> None:
    spent = {"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "300", "Date": DATE}
    spent["X-RateLimit-Reset"] = "2026-01-05T08:03:00.000000Z"
    api, server, _, _ = api_with((200, STATUS, spent), (200, STATUS, {}))
    get_status(api)
    with pytest.raises(RateLimited) as info:
        get_status(api)  # Backoff gives a 180 s wait back to the poll loop
    assert info.value.retry_after == pytest.approx(180.0)
    assert len(server.urls) == 1  # no request was spent on a certain 429
