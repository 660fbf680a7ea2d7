"""The label sets and the triage order they imply."""

from __future__ import annotations

CATEGORIES: tuple[str, ...] = (
    "complaint",
    "assistance",
    "question",
    "suggestion",
    "praise",
    "other",
)
SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
TASKS: dict[str, tuple[str, ...]] = {
    "category": CATEGORIES,
    "sentiment": SENTIMENTS,
    "complaint": ("0", "1"),
}
# Triage order: complaints first, then assistance, questions, suggestions, praise; noise last.
TRIAGE_RANK = {c: i for i, c in enumerate(CATEGORIES)}
