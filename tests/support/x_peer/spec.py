"""The two X API v2 OpenAPI specs, as validators for the peer's requests and responses.

openapi.json (2.167) is the "post" spelling (`post.fields`, `includes.posts`), latest-openapi.json
(2.159) the "tweet" spelling. Every response the peer sends must validate against BOTH; request
parameters and bodies are checked against the spec of the spelling the peer speaks, and unknown
query parameters are refused as X refuses them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.support.shared import shared_data

SPEC_FILES = {"post": "openapi.json", "tweet": "latest-openapi.json"}


class SpecError(Exception):
    """A request the spec refuses (→ 400), or a response it refuses (→ a peer bug)."""


class Spec:
    def __init__(self, spelling: str, path: Path) -> None:
        self.spelling = spelling
        self.doc: dict[str, Any] = json.loads(path.read_text())
        uri = f"https://x-api.spec.invalid/{spelling}.json"
        self._uri = uri
        resource = Resource.from_contents(self.doc, default_specification=DRAFT4)
        self._registry: Registry = Registry().with_resource(uri, resource)
        self._validators: dict[str, Draft4Validator] = {}

    def operation(self, path: str, method: str) -> dict[str, Any]:
        try:
            return dict(self.doc["paths"][path][method.lower()])
        except KeyError:
            raise SpecError(f"{method} {path} is not in the {self.spelling} spec") from None

    def _deref(self, node: Mapping[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.doc
            for part in str(node["$ref"]).lstrip("#/").split("/"):
                target = target[part]
            node = target
        return dict(node)

    def validator(self, schema: Mapping[str, Any]) -> Draft4Validator:
        key = json.dumps(schema, sort_keys=True)
        found = self._validators.get(key)
        if found is None:
            rooted = _rooted(schema, self._uri)
            found = self._validators[key] = Draft4Validator(rooted, registry=self._registry)
        return found

    # -- requests ---------------------------------------------------------------------------

    def parameters(self, path: str, method: str) -> dict[str, dict[str, Any]]:
        op = self.operation(path, method)
        return {p["name"]: p for p in (self._deref(q) for q in op.get("parameters", []))}

    def check_query(self, path: str, method: str, query: Mapping[str, str]) -> dict[str, Any]:
        """Parsed query values; SpecError names an unknown or invalid parameter."""
        params = {n: p for n, p in self.parameters(path, method).items() if p["in"] == "query"}
        for name in query:
            if name not in params:
                raise SpecError(f"The query parameter [{name}] is not one of [{','.join(params)}]")
        values: dict[str, Any] = {}
        for name, param in params.items():
            if name not in query:
                if param.get("required"):
                    raise SpecError(f"The query parameter [{name}] is required")
                continue
            schema = self._deref(param.get("schema", {}))
            values[name] = _parse(query[name], schema)
            errors = sorted(
                self.validator(param.get("schema", {})).iter_errors(values[name]), key=str
            )
            if errors:
                raise SpecError(
                    f"The `{name}` query parameter value [{query[name]}] is not valid: "
                    f"{errors[0].message}"
                )
        return values

    def check_body(self, path: str, method: str, body: Any) -> None:
        content = self.operation(path, method).get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if schema is None:
            return
        error = next(iter(self.validator(schema).iter_errors(body)), None)
        if error is not None:
            raise SpecError(f"request body refused: {error.message}")

    # -- responses --------------------------------------------------------------------------

    def check_response(self, path: str, method: str, status: int, body: Any) -> None:
        responses = self.operation(path, method)["responses"]
        response = responses.get(str(status)) or responses.get("default")
        if response is None:
            raise SpecError(f"{self.spelling} spec: {method} {path} has no {status} response")
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            raise SpecError(f"{self.spelling} spec: {method} {path} {status} is not JSON")
        try:
            self.validator(schema).validate(body)
        except ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path)
            raise SpecError(
                f"{self.spelling} spec refuses {method} {path} {status} at /{where}: "
                f"{exc.message[:300]}"
            ) from None


def _rooted(node: Any, uri: str) -> Any:
    """The schema with the spec's local refs ("#/components/…") made absolute, so that a schema
    taken out of the spec (a parameter's, a response's) resolves inside it."""
    if isinstance(node, dict):
        return {
            k: f"{uri}{v}" if k == "$ref" and str(v).startswith("#") else _rooted(v, uri)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rooted(v, uri) for v in node]
    return node


def _parse(raw: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "array":
        return raw.split(",") if raw else []
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw  # the validator says why
    if kind == "boolean":
        return raw.lower() == "true"
    return raw


@cache
def specs() -> dict[str, Spec]:
    """Both specs, loaded once per process (they are large)."""
    return {
        spelling: Spec(spelling, shared_data(f"x-api-openapi/{name}"))
        for spelling, name in SPEC_FILES.items()
    }
