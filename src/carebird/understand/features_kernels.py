"""The numpy kernels of `carebird.understand.features.HashedTfidf`: the word table, powers of
the hash multiplier, MurmurHash3's finaliser, window clean-up, counting and column reduction,
each over whole arrays in place (see the features module's docstring for the scheme)."""

from __future__ import annotations

import functools

import numpy as np

from carebird.understand.features_hashing import _C1, _C2, _P, _Q, _WORD_LIMIT


@functools.cache
def _word_table() -> np.ndarray:
    """True for word codepoints; the last slot stands for every codepoint >= U+30000."""
    table = np.zeros(_WORD_LIMIT + 1, dtype=bool)
    table[:_WORD_LIMIT] = [chr(i).isalnum() for i in range(_WORD_LIMIT)]
    table[ord("_")] = True
    return table


@functools.lru_cache(maxsize=4)
def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(P**k, Q**k) mod 2**64 for k < n, with Q = 1/P mod 2**64."""
    p = np.full(n, _P, dtype=np.uint64)
    q = np.full(n, _Q, dtype=np.uint64)
    p[0] = q[0] = 1
    return np.cumprod(p, dtype=np.uint64), np.cumprod(q, dtype=np.uint64)


def _fmix(h: np.ndarray, tmp: np.ndarray, top_only: bool = False) -> None:
    """MurmurHash3 fmix64 in place; `tmp` is scratch of the same shape. With `top_only`
    the last xor-shift, which changes only the low 31 bits, is left out: right when only the
    top 32 bits are used (as by `_to_column`)."""
    for c in (_C1, _C2):
        np.right_shift(h, np.uint64(33), out=tmp)
        h ^= tmp
        h *= np.uint64(c)
    if not top_only:
        np.right_shift(h, np.uint64(33), out=tmp)
        h ^= tmp


def _drop_crossing_windows(
    keys: np.ndarray, seg: np.ndarray, length: int, ngrams: tuple[int, int], sentinel: int
) -> None:
    """Set to `sentinel` the character windows (`keys`, `length` per n) that cross into the
    next text: those starting in the last n - 1 positions of a segment (a window too long
    for its text starts in the previous text's tail, which is also dropped); an empty
    text's segment "  " holds no window at all."""
    c_lo, c_hi = ngrams
    seg_end = np.cumsum(seg)
    tail = np.maximum(seg_end[:, None] - np.arange(1, c_hi)[None, :], 0)
    empty = seg_end[seg == 2]
    bad = []
    at = 0
    for n in range(c_lo, c_hi + 1):
        bad.append(tail[:, : n - 1].ravel() + at)
        if empty.shape[0]:
            bad.append(np.concatenate([empty - 1, empty - 2]) + at)
        at += length
    if bad:
        keys[np.concatenate(bad)] = sentinel


def _distinct_counts(keys: np.ndarray, sentinel: int) -> tuple[np.ndarray, np.ndarray]:
    """Sort `keys` in place; (distinct keys below `sentinel`, how often each occurs)."""
    keys.sort()
    keys = keys[: np.searchsorted(keys, sentinel)]
    if not keys.shape[0]:
        return keys, np.zeros(0, np.int32)
    first = np.empty(keys.shape[0], dtype=bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    where = np.flatnonzero(first)
    count = np.diff(where, append=keys.shape[0]).astype(np.int32)
    return keys[where], count


def _to_column(h: np.ndarray, size: int) -> None:
    """Key -> column in [0, size) in place (multiply-shift range reduction, size < 2**32)."""
    h >>= np.uint64(32)
    h *= np.uint64(size)
    h >>= np.uint64(32)
