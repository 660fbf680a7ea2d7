"""Make any connector's item safe to store: clean text, bounded fields, aware UTC times."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC

from carebird.errors import InvalidInput
from carebird.ingest.base import InboundItem

# NUL is refused by PostgreSQL text columns; other C0 controls (bar tab/newline/CR) are noise.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_TEXT = 200_000  # characters; far above any network's limit, still bounded
MAX_ID = 200


def clean_text(text: str) -> str:
    """Drop control characters and unpaired surrogates, keep everything else as written."""
    text = _CONTROL.sub("", text)
    # Lone surrogates (from bad JSON escapes) cannot be encoded to UTF-8 by any driver.
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:MAX_TEXT]


def normalize(item: InboundItem) -> InboundItem:
    """Validate and clean one item; raise InvalidInput with the reason when it cannot be kept."""
    if not item.external_id or len(item.external_id) > MAX_ID:
        raise InvalidInput(f"bad external id {item.external_id[:40]!r}")
    if not item.author.external_id:
        raise InvalidInput(f"message {item.external_id}: author has no id")
    if item.created_at.tzinfo is None:
        raise InvalidInput(f"message {item.external_id}: created_at has no time zone")
    author = item.author
    clean_author = replace(
        author,
        handle=clean_text(author.handle)[:200],
        display_name=clean_text(author.display_name)[:200],
        followers=max(0, int(author.followers)),
    )
    return replace(
        item,
        text=clean_text(item.text),
        author=clean_author,
        created_at=item.created_at.astimezone(UTC),
        in_reply_to_id=(item.in_reply_to_id or None),
        conversation_id=(item.conversation_id or None),
    )
