"""Every integer parameter, from -2**70 to 2**70, answers below 500 on both engines.

The parameters are read from the OpenAPI document (every path and query integer of the API)
and from the page routes left out of it; each gets values around the engines' limits (2**31,
2**63) and random ones, while the other path parameters name row 1. Out of range is a 422 and
a row that does not exist a 404: never a driver's overflow turned into a 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from carebird.db.database import Database
from carebird.web.api import live
from carebird.web.params import MAX_ID
from tests.factories import TestClient, agent_with_token, bearer

METHODS = ("get", "post", "put", "patch", "delete")
EDGES = [0, 1, -1, 2**31 - 1, 2**31, 2**32, 2**53 + 1, MAX_ID, 2**63, -(2**63), -(2**63) - 1]
PATTERNS = {"^(fr|en)$": "fr", r"^\d{4}-\d{2}$": "2026-03"}


@dataclass(frozen=True, slots=True)
class IntParam:
    method: str
    path: str  # the template, e.g. /api/cases/{case_id}
    name: str
    where: str  # path | query
    body: dict[str, Any] | None  # the smallest valid body, for operations that take one

    def request(self, value: int) -> tuple[str, dict[str, Any]]:
        url = (
            self.path.replace("{" + self.name + "}", str(value))
            if self.where == "path"
            else self.path
        )
        url = re.sub(r"\{[a-z_]+\}", "1", url)
        params = {self.name: str(value)} if self.where == "query" else {}
        return url, params


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def smallest(schema: dict[str, Any], doc: dict[str, Any]) -> Any:
    """A small value that satisfies `schema` (required fields only), to get past the body."""
    schema = _resolve(schema, doc)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return smallest(schema[key][0], doc)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        return {
            name: smallest(sub, doc)
            for name, sub in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    if kind == "array":
        return [smallest(schema["items"], doc)] * schema.get("minItems", 0)
    if kind == "string":
        return PATTERNS.get(schema.get("pattern", ""), "x" * max(8, schema.get("minLength", 0)))
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return False
    return None


def _is_int(schema: dict[str, Any]) -> bool:
    options = [schema, *schema.get("anyOf", [])]
    return any(s.get("type") == "integer" for s in options)


def integer_params(app: FastAPI) -> list[IntParam]:
    doc = app.openapi()
    found = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            body = smallest(content["schema"], doc) if content else None
            for p in op.get("parameters", []):
                if p["in"] in ("path", "query") and _is_int(p.get("schema", {})):
                    found.append(IntParam(method, path, p["name"], p["in"], body))
    for context in iter_route_contexts(app.routes):  # the pages, not in the document
        route = context.original_route
        if not isinstance(route, APIRoute) or route.include_in_schema:
            continue
        fields = [("path", f) for f in route.dependant.path_params]
        fields += [("query", f) for f in route.dependant.query_params]
        for where, field in fields:
            if field.field_info.annotation in (int, int | None):
                for method in sorted(context.methods or ()):
                    found.append(IntParam(method.lower(), context.path, field.name, where, None))
    return found


@pytest.fixture
def desk(app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setattr(live, "STREAM_MAX_SECONDS", 0)  # a stream answers its backlog and ends
    _, token = agent_with_token(db, "admin")
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Desk(client, bearer(token), integer_params(app))
    finally:
        hub = getattr(app.state, "event_hub", None)  # started by the stream's requests
        if hub is not None:
            hub.stop()


@dataclass
class Desk:
    client: TestClient
    headers: dict[str, str]
    params: list[IntParam]

    def failures(self, value: int) -> list[str]:
        bad = []
        for p in self.params:
            url, query = p.request(value)
            response = self.client.request(
                p.method, url, params=query, json=p.body, headers=self.headers
            )
            # The test desk has no mail server: an invitation's 502 MailError is its answer.
            mail_down = response.status_code == 502 and "MailError" in response.text
            if response.status_code >= 500 and not mail_down:
                bad.append(f"{p.method.upper()} {url} {query or ''}: {response.status_code}")
        return bad


def test_the_document_lists_the_integer_parameters(desk: Desk) -> None:
    names = {(p.path, p.name) for p in desk.params}
    assert len(desk.params) >= 35
    assert {("/api/cases/{case_id}", "case_id"), ("/api/cases", "offset")} <= names
    assert ("/cases/{case_id}", "case_id") in names  # the case page
    assert ("/api/events/stream", "after") in names


def examples(values: list[int]) -> Any:
    def add(test: Any) -> Any:
        for value in values:
            test = example(value=value)(test)
        return test

    return add


@settings(
    max_examples=len(EDGES) + 6,  # the edges, then random values
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=st.integers(min_value=-(2**70), max_value=2**70))
@examples([*EDGES, 2**70, -(2**70)])
def test_no_integer_parameter_gives_a_server_error(desk: Desk, value: int) -> None:
    assert desk.failures(value) == []


def test_out_of_range_ids_are_refused_before_any_query(desk: Desk) -> None:
    for value in (0, 2**63, -1):
        assert desk.client.get(f"/api/cases/{value}", headers=desk.headers).status_code == 422
    assert desk.client.get(f"/api/cases/{MAX_ID}", headers=desk.headers).status_code == 404
    assert desk.client.get("/api/cases?offset=1000001", headers=desk.headers).status_code == 422
    stream = desk.client.get(
        "/api/events/stream", headers={**desk.headers, "Last-Event-ID": "²".encode()}
    )
    assert stream.status_code == 200  # not a digit we can use: the header is ignored
