"""A small Lexicon validator: what the peer checks every request and response against.

Covers the schema types the connector's endpoints use: query/procedure params, input and output,
object (required, nullable, open to extra fields), ref, union (by `$type`; closed unions refuse
unknown types), record, string (formats, maxLength in UTF-8 bytes, maxGraphemes, enum, const,
knownValues are open), integer (minimum, maximum, enum, const), boolean, array (minLength,
maxLength), unknown (an object; validated as its record type when that lexicon is known), blob,
cid-link, bytes. Lexicons come from the official set in ../shared/data/bluesky-lexicons, plus
the few the peer also serves that the set lacks (./lexicons, written after the official ones).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from carebird.ingest.bluesky.graphemes import grapheme_count

HERE = Path(__file__).resolve().parent
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DID = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")
_HANDLE = re.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
_NSID = re.compile(r"^[a-zA-Z]([a-zA-Z0-9-]{0,62})?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})?)+$")
_RKEY = re.compile(r"^[A-Za-z0-9._:~-]{1,512}$")
_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_CID = re.compile(r"^(b[a-z2-7]{50,}|Qm[1-9A-HJ-NP-Za-km-z]{44})$")
_URI = re.compile(r"^[a-z][a-z0-9+.-]*:\S+$")
_LANGUAGE = re.compile(r"^([a-z]{2,3}|i)(-[A-Za-z0-9]{1,8})*$")


def _at_uri(value: str) -> bool:
    if not value.startswith("at://") or len(value) > 8192:
        return False
    parts = value[5:].split("/")
    authority = parts[0]
    if not (_DID.match(authority) or _HANDLE.match(authority)):
        return False
    if len(parts) > 1 and not _NSID.match(parts[1]):
        return False
    return len(parts) <= 3 and all(parts[1:])


FORMATS = {
    "datetime": lambda v: bool(_DATETIME.match(v)),
    "did": lambda v: bool(_DID.match(v)) and len(v) <= 2048,
    "handle": lambda v: bool(_HANDLE.match(v)) and len(v) <= 253,
    "nsid": lambda v: bool(_NSID.match(v)),
    "at-identifier": lambda v: bool(_DID.match(v) or _HANDLE.match(v)),
    "at-uri": _at_uri,
    "record-key": lambda v: bool(_RKEY.match(v)) and v not in (".", ".."),
    "tid": lambda v: bool(_TID.match(v)),
    "cid": lambda v: bool(_CID.match(v)),
    "uri": lambda v: bool(_URI.match(v)),
    "language": lambda v: bool(_LANGUAGE.match(v)),
}


class LexiconError(ValueError):
    pass


class Lexicons:
    def __init__(self, roots: Iterable[Path]) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        for root in roots:
            for path in sorted(root.rglob("*.json")):
                doc = json.loads(path.read_text())
                if isinstance(doc, dict) and "id" in doc and "defs" in doc:
                    self.docs.setdefault(doc["id"], doc)

    def method(self, nsid: str) -> dict[str, Any] | None:
        main = self.docs.get(nsid, {}).get("defs", {}).get("main")
        return main if main and main.get("type") in ("query", "procedure") else None

    def _resolve(self, ref: str, context: str) -> tuple[str, dict[str, Any]]:
        nsid, _, name = ref.partition("#")
        nsid = nsid or context
        doc = self.docs.get(nsid)
        if doc is None or (name or "main") not in doc["defs"]:
            raise LexiconError(f"unknown lexicon reference {ref!r} (from {context})")
        return nsid, doc["defs"][name or "main"]

    @staticmethod
    def _full(ref: str, context: str) -> str:
        nsid, _, name = ref.partition("#")
        nsid = nsid or context
        return nsid if name in ("", "main") else f"{nsid}#{name}"

    # -- entry points ---------------------------------------------------------------------

    def check(self, schema: dict[str, Any], value: Any, context: str, path: str = "$") -> list[str]:
        errors: list[str] = []
        self._check(schema, value, context, path, errors)
        return errors

    def check_ref(self, ref: str, value: Any, context: str = "", path: str = "$") -> list[str]:
        nsid, schema = self._resolve(ref, context)
        return self.check(schema, value, nsid, path)

    def check_record(self, value: Any, path: str = "$") -> list[str]:
        kind = value.get("$type") if isinstance(value, dict) else None
        if not isinstance(kind, str) or kind not in self.docs:
            return [f"{path}: a record needs a known $type, got {kind!r}"]
        return self.check_ref(kind, value, kind, path)

    # -- the types ------------------------------------------------------------------------

    def _check(
        self, schema: dict[str, Any], value: Any, ctx: str, path: str, errors: list[str]
    ) -> None:
        kind = schema.get("type")
        if kind == "ref":
            try:
                nsid, target = self._resolve(schema["ref"], ctx)
            except LexiconError as exc:
                errors.append(f"{path}: {exc}")
                return
            self._check(target, value, nsid, path, errors)
        elif kind == "record":
            self._check(schema["record"], value, ctx, path, errors)
        elif kind in ("object", "params"):
            self._object(schema, value, ctx, path, errors)
        elif kind == "union":
            self._union(schema, value, ctx, path, errors)
        elif kind == "string":
            self._string(schema, value, path, errors)
        elif kind == "integer":
            self._integer(schema, value, path, errors)
        elif kind == "boolean":
            if not isinstance(value, bool):
                errors.append(f"{path}: expected a boolean")
            elif "const" in schema and value != schema["const"]:
                errors.append(f"{path}: must be {schema['const']!r}")
        elif kind == "array":
            self._array(schema, value, ctx, path, errors)
        elif kind == "unknown":
            if not isinstance(value, dict):
                errors.append(f"{path}: expected an object")
            elif isinstance(value.get("$type"), str) and value["$type"] in self.docs:
                errors.extend(self.check_record(value, path))
        elif kind == "blob":
            ok = isinstance(value, dict) and value.get("$type") == "blob"
            ok = ok and isinstance(value.get("ref"), dict) and "$link" in value["ref"]
            if not (
                ok and isinstance(value.get("mimeType"), str) and isinstance(value.get("size"), int)
            ):
                errors.append(f"{path}: expected a blob reference")
        elif kind == "cid-link":
            if not (isinstance(value, dict) and FORMATS["cid"](str(value.get("$link")))):
                errors.append(f"{path}: expected a CID link")
        elif kind == "bytes":
            if not (isinstance(value, dict) and isinstance(value.get("$bytes"), str)):
                errors.append(f"{path}: expected bytes")
        elif kind == "token":
            errors.append(f"{path}: a token is not a value type")
        else:
            errors.append(f"{path}: unsupported schema type {kind!r}")

    def _object(
        self, schema: dict[str, Any], value: Any, ctx: str, path: str, errors: list[str]
    ) -> None:
        if not isinstance(value, dict):
            errors.append(f"{path}: expected an object")
            return
        nullable = set(schema.get("nullable", []))
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path}.{name}: required")
        for name, prop in schema.get("properties", {}).items():
            if name not in value:
                continue
            if value[name] is None:
                if name not in nullable:
                    errors.append(f"{path}.{name}: null is not allowed")
                continue
            self._check(prop, value[name], ctx, f"{path}.{name}", errors)

    def _union(
        self, schema: dict[str, Any], value: Any, ctx: str, path: str, errors: list[str]
    ) -> None:
        if not isinstance(value, dict) or not isinstance(value.get("$type"), str):
            errors.append(f"{path}: a union member needs a $type")
            return
        kind = value["$type"]
        for ref in schema.get("refs", []):
            if self._full(ref, ctx) == self._full(kind, ""):
                try:
                    nsid, target = self._resolve(ref, ctx)
                except LexiconError as exc:
                    errors.append(f"{path}: {exc}")
                    return
                self._check(target, value, nsid, path, errors)
                return
        if schema.get("closed"):
            errors.append(f"{path}: $type {kind!r} not allowed in a closed union")

    def _string(self, schema: dict[str, Any], value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, str):
            errors.append(f"{path}: expected a string")
            return
        size = len(value.encode())
        if "maxLength" in schema and size > schema["maxLength"]:
            errors.append(f"{path}: {size} bytes > maxLength {schema['maxLength']}")
        if "minLength" in schema and size < schema["minLength"]:
            errors.append(f"{path}: {size} bytes < minLength {schema['minLength']}")
        if "maxGraphemes" in schema or "minGraphemes" in schema:
            count = grapheme_count(value)
            if count > schema.get("maxGraphemes", count):
                errors.append(f"{path}: {count} graphemes > maxGraphemes {schema['maxGraphemes']}")
            if count < schema.get("minGraphemes", 0):
                errors.append(f"{path}: {count} graphemes < minGraphemes {schema['minGraphemes']}")
        if "enum" in schema and value not in schema["enum"]:
            errors.append(f"{path}: {value!r} not in {schema['enum']}")
        if "const" in schema and value != schema["const"]:
            errors.append(f"{path}: must be {schema['const']!r}")
        fmt = schema.get("format")
        if fmt is not None and not FORMATS.get(fmt, lambda v: True)(value):
            errors.append(f"{path}: {value!r} is not a valid {fmt}")

    def _integer(self, schema: dict[str, Any], value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{path}: expected an integer")
            return
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} < minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} > maximum {schema['maximum']}")
        if "enum" in schema and value not in schema["enum"]:
            errors.append(f"{path}: {value} not in {schema['enum']}")
        if "const" in schema and value != schema["const"]:
            errors.append(f"{path}: must be {schema['const']!r}")

    def _array(
        self, schema: dict[str, Any], value: Any, ctx: str, path: str, errors: list[str]
    ) -> None:
        if not isinstance(value, list):
            errors.append(f"{path}: expected an array")
            return
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: {len(value)} items > maxLength {schema['maxLength']}")
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(f"{path}: {len(value)} items < minLength {schema['minLength']}")
        for i, item in enumerate(value):
            self._check(schema["items"], item, ctx, f"{path}[{i}]", errors)

    # -- query strings --------------------------------------------------------------------

    def parse_params(
        self, schema: dict[str, Any] | None, query: dict[str, list[str]]
    ) -> tuple[dict[str, Any], list[str]]:
        """Query-string values typed by the params schema, and the errors found."""
        if schema is None:
            return {}, []
        params: dict[str, Any] = {}
        errors: list[str] = []
        for name, prop in schema.get("properties", {}).items():
            raw = query.get(name)
            if not raw:
                if "default" in prop:
                    params[name] = prop["default"]
                continue
            try:
                params[name] = _coerce(prop, raw)
            except ValueError:
                errors.append(f"params.{name}: cannot read {raw!r} as {prop.get('type')}")
        errors.extend(self.check({**schema, "type": "object"}, params, "", "params"))
        return params, errors


def _coerce(prop: dict[str, Any], raw: list[str]) -> Any:
    kind = prop.get("type")
    if kind == "array":
        return [_coerce(prop["items"], [v]) for v in raw]
    value = raw[-1]
    if kind == "integer":
        return int(value)
    if kind == "boolean":
        if value not in ("true", "false"):
            raise ValueError(value)
        return value == "true"
    return value
