"""Make any connector's item safe to store: clean strings, bounded fields, aware UTC times."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC
from typing import Any

from carebird.errors import InvalidInput
from carebird.ingest.base import InboundItem

# NUL is refused by PostgreSQL text columns; other C0 controls (bar tab/newline/CR) are noise.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_TEXT = 200_000  # characters; far above any network's limit, still bounded
MAX_ID = 200


def strip_controls(value: str) -> str:
    """`value` without its C0 control characters (tab, newline and CR are kept)."""
    return _CONTROL.sub("", value)


def clean_text(text: str) -> str:
    """Drop control characters and unpaired surrogates, keep everything else as written."""
    text = _CONTROL.sub("", text)
    # Lone surrogates (from bad JSON escapes) cannot be encoded to UTF-8 by any driver.
    if _SURROGATE.search(text):
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:MAX_TEXT]


def normalize(item: InboundItem) -> InboundItem:
    """Validate and clean one item; raise InvalidInput with the reason when it cannot be kept.

    Every string that reaches the database (ids, handles, names, text, language, metric names,
    and every key and string of `raw`) loses its control characters: PostgreSQL refuses NUL,
    and one such row must not fail the batch it is stored with.
    """
    external_id = clean_text(item.external_id)
    if not external_id or len(external_id) > MAX_ID:
        raise InvalidInput(f"bad external id {item.external_id[:40]!r}")
    author = item.author
    author_id = clean_text(author.external_id)
    if not author_id:
        raise InvalidInput(f"message {external_id}: author has no id")
    if item.created_at.tzinfo is None:
        raise InvalidInput(f"message {external_id}: created_at has no time zone")
    clean_author = replace(
        author,
        external_id=author_id,
        handle=clean_text(author.handle)[:200],
        display_name=clean_text(author.display_name)[:200],
        followers=max(0, int(author.followers)),
    )
    return replace(
        item,
        network=clean_text(item.network),
        external_id=external_id,
        text=clean_text(item.text),
        author=clean_author,
        created_at=item.created_at.astimezone(UTC),
        account_handle=_clean_optional(item.account_handle),
        in_reply_to_id=_clean_optional(item.in_reply_to_id),
        conversation_id=_clean_optional(item.conversation_id),
        language=_clean_optional(item.language),
        metrics=(
            {clean_text(str(k)): v for k, v in item.metrics.items()}
            if any(_dirty(str(k)) for k in item.metrics)
            else item.metrics
        ),
        raw=clean_raw(item.raw),
    )


def _clean_optional(value: str | None) -> str | None:
    return (clean_text(value) or None) if value else None


def _dirty(value: str) -> bool:
    return _CONTROL.search(value) is not None or _SURROGATE.search(value) is not None


# What json.dumps(ensure_ascii=False) writes for a control character or a lone surrogate
# (a backslash typed in the data can match too: that only costs the slow, exact path).
_JSON_DIRTY = re.compile(r"\\u00[01][0-9a-f]|\\[bf]|[\x7f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _raw_dirty(raw: Any) -> bool:
    """Whether `raw` holds a string clean_json would change (one C-speed pass when clean)."""
    if not raw:
        return False
    try:
        dumped = json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError):  # e.g. a circular structure: let the slow path decide
        return True
    return _JSON_DIRTY.search(dumped) is not None


def clean_raw(raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` with clean_json applied, or `raw` itself when it has nothing to clean."""
    return clean_json(raw) if _raw_dirty(raw) else raw


def clean_json(value: Any) -> Any:
    """A JSON-like value with clean_text applied to every string in it, keys included."""
    if isinstance(value, str):
        return clean_text(value) if _dirty(value) else value
    if isinstance(value, dict):
        return {
            (clean_json(k) if isinstance(k, str) else k): clean_json(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value
