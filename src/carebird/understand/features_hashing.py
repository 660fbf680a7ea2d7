"""The hashing scheme of `carebird.understand.features`, in plain Python.

Constants, the scalar hash helpers and `reference_features`, a slow one-text-at-a-time
implementation that the vectorised `HashedTfidf` must match exactly (the tests check it).
See the docstring of `carebird.understand.features` for the scheme itself.
"""

from __future__ import annotations

import functools
from collections import Counter

_MASK = (1 << 64) - 1
_P = 0x9E3779B97F4A7C15  # odd, hence invertible mod 2**64
_Q = pow(_P, -1, 1 << 64)
_C1 = 0xFF51AFD7ED558CCD
_C2 = 0xC4CEB9FE1A85EC53
_WORD_LIMIT = 0x30000  # codepoints from here on are never word characters
_CHUNK_CHARS = 1 << 15  # a batch is processed in chunks of about this many codepoints
_CHAR, _WORD = 1, 2

# -- hashing, plain Python (reference) -------------------------------------------------------


def _fmix_int(h: int) -> int:
    h ^= h >> 33
    h = (h * _C1) & _MASK
    h ^= h >> 33
    h = (h * _C2) & _MASK
    return h ^ (h >> 33)


@functools.cache
def _salt(kind: int, n: int) -> int:
    return _fmix_int((((kind << 16) | n) * 0xD6E8FEB86659FD93) & _MASK)


def _column(key: int, size: int) -> int:
    return ((key >> 32) * size) >> 32


def _is_word(ch: str) -> bool:
    return ord(ch) < _WORD_LIMIT and (ch.isalnum() or ch == "_")


def reference_features(
    text: str,
    *,
    n_features: int = 2**18,
    char_ngrams: tuple[int, int] = (2, 5),
    word_ngrams: tuple[int, int] = (1, 2),
) -> Counter[int]:
    """Column -> count of one text, computed naively: the specification `HashedTfidf` meets."""
    counts: Counter[int] = Counter()
    if not text:
        return counts
    tokens = _token_hashes(text)
    lo, hi = word_ngrams
    for n in range(lo, hi + 1):
        for i in range(len(tokens) - n + 1):
            raw = _word_ngram_hash(tokens[i : i + n])
            counts[_column(_fmix_int(raw ^ _salt(_WORD, n)), n_features)] += 1
    padded = " " + text + " "
    lo, hi = char_ngrams
    for n in range(lo, hi + 1):
        for i in range(len(padded) - n + 1):
            raw = 0
            for ch in padded[i : i + n]:
                raw = (raw * _P + ord(ch)) & _MASK
            counts[n_features + _column(_fmix_int(raw ^ _salt(_CHAR, n)), n_features)] += 1
    return counts


def _token_hashes(text: str) -> list[int]:
    """The raw hash of each token (run of word characters) of `text`."""
    tokens: list[int] = []
    raw, inside = 0, False
    for ch in text + " ":
        if _is_word(ch):
            raw = ((raw * _P + ord(ch)) & _MASK) if inside else ord(ch)
            inside = True
        elif inside:
            tokens.append(raw)
            inside = False
    return tokens


def _word_ngram_hash(tokens: list[int]) -> int:
    """The raw hash of a word n-gram: a single token's own, else of its tokens mixed."""
    if len(tokens) == 1:
        return tokens[0]
    raw = 0
    for t in tokens:
        raw = (raw * _P + _fmix_int(t)) & _MASK
    return raw


# -- hashing, numpy ------------------------------------------------------------------------
