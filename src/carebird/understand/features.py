"""Hashed TF-IDF features (word and character n-grams), vectorised over a whole batch.

`HashedTfidf` stands in for scikit-learn's pair of `TfidfVectorizer` in the text models: no
vocabulary, every n-gram is hashed straight to a column, and a batch is processed with a fixed
number of numpy operations per *chunk* of texts (about 32k codepoints): no Python loop per
character, token or text, so features cost a few microseconds per tweet. A chunk is
``" " + "  ".join(texts) + " "`` as UTF-32 codepoints; text boundaries come from the text
lengths, not from a reserved separator codepoint, so any content (NUL, U+FFFF, lone
surrogates, …) is safe, and a text's row never depends on the rest of the batch.

Features (for texts already normalised by `carebird.understand.text.for_model`):

* character n-grams, n in `char_ngrams`, over ``" " + text + " "`` (scikit-learn's
  ``analyzer="char"`` with the word boundaries at both ends made visible); windows never
  cross from one text into the next;
* word n-grams, n in `word_ngrams`, over tokens = maximal runs of word characters (a
  codepoint below U+30000 that is ``str.isalnum()`` or ``"_"``; anything else, combining
  marks included, separates tokens). One-character tokens are kept;
* an empty text has no features at all (its row is zero).

Hashing is a pure function of the text (no Python `hash()`: same columns in every process
and on every machine; the word table follows the running Python's Unicode database):

* a character window or a token ``c_0 … c_{m-1}`` (codepoints) has the raw polynomial hash
  ``sum c_k * P**(m-1-k) mod 2**64``;
* a word n-gram (n >= 2) of tokens with raw hashes ``t_0 … t_{n-1}`` has the raw hash
  ``sum fmix(t_k) * P**(n-1-k) mod 2**64``;
* every (kind, n) pair (char 2-grams, char 3-grams, …, word 1-grams, word 2-grams, …) has
  its own 64-bit salt, the key is ``fmix(raw ^ salt)`` (fmix = MurmurHash3's 64-bit
  finaliser, a bijection), and the column within a block of `n_features` columns is
  ``((key >> 32) * n_features) >> 32``.

Layout: two blocks. Columns ``[0, n_features)`` hold the word n-grams and
``[n_features, 2 * n_features)`` the character n-grams, so the matrix has
``2 * n_features`` columns (`n_columns_`); words and characters never collide. Each block is
L2-normalised on its own and weighted so that a row with both blocks has unit norm with a
share `word_share` of its squared norm on the words (a row with one block present has that
block at unit norm; an empty row stays zero), like a `FeatureUnion` of two vectorisers.

Weights: ``tf = 1 + ln(count)`` (`sublinear_tf`; else the count) times the smooth IDF learnt
in `fit`, ``idf = ln((1 + n_docs) / (1 + df)) + 1``. Columns whose document frequency in
`fit` is below `min_df` get weight 0 and are dropped; with the default ``min_df=1`` that is
every column never seen in training, as a vocabulary-based vectoriser ignores unseen terms.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["HashedTfidf", "reference_features"]

from carebird.understand.features_hashing import (
    _CHAR,
    _CHUNK_CHARS,
    _P,
    _WORD,
    _WORD_LIMIT,
    _salt,
    reference_features,
)
from carebird.understand.features_kernels import (
    _distinct_counts,
    _drop_crossing_windows,
    _fmix,
    _powers,
    _to_column,
    _word_table,
)


class HashedTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF over hashed word and character n-grams; see the module docstring.

    `transform` returns a float32 CSR matrix of ``2 * n_features`` columns (words, then
    characters) with sorted indices and unit-norm rows (zero rows for empty texts).
    """

    def __init__(
        self,
        n_features: int = 2**18,
        char_ngrams: tuple[int, int] = (2, 5),
        word_ngrams: tuple[int, int] = (1, 2),
        sublinear_tf: bool = True,
        min_df: int = 1,
        word_share: float = 0.5,
    ) -> None:
        self.n_features = n_features
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.sublinear_tf = sublinear_tf
        self.min_df = min_df
        self.word_share = word_share

    # -- scikit-learn API ---------------------------------------------------------------

    def fit(self, texts: Iterable[str], y: Any = None) -> HashedTfidf:
        """Learn the IDF of every column from `texts` (`y` is ignored)."""
        counts = self._counts(texts)
        n_docs = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
        idf[df < self.min_df] = 0.0
        self.idf_ = idf.astype(np.float32)
        self.n_columns_ = counts.shape[1]
        return self

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """TF-IDF rows, float32 CSR, one per text, in order."""
        check_is_fitted(self, "idf_")
        docs = self._docs(texts)
        if self.idf_.shape[0] != 2 * int(self.n_features):
            raise ValueError("n_features changed since fit: refit")
        share = float(self.word_share)
        if not 0.0 < share < 1.0:
            raise ValueError(f"word_share must be in (0, 1), got {share}")
        weights = np.sqrt(np.array([share, 1.0 - share]))
        parts = [self._weigh(n, keys, count, weights) for n, keys, count in self._chunks(docs)]
        return self._assemble(parts, len(docs), np.float32)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    # -- internals ----------------------------------------------------------------------

    def _counts(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Raw n-gram counts: int32 CSR, one row per text, sorted indices, no duplicates."""
        docs = self._docs(texts)
        parts = []
        for n_docs, keys, count in self._chunks(docs):
            indptr, col = self._split(n_docs, keys)
            parts.append((indptr, col, count))
        return self._assemble(parts, len(docs), np.int32)

    def _docs(self, texts: Iterable[str]) -> Sequence[str]:
        if isinstance(texts, str):
            raise TypeError("expected a sequence of texts, got a single string")
        docs = texts if isinstance(texts, list | tuple) else list(texts)
        size = int(self.n_features)
        if not 1 <= size <= 2**30:
            raise ValueError(f"n_features must be in [1, 2**30], got {self.n_features}")
        for name in ("char_ngrams", "word_ngrams"):
            lo, hi = getattr(self, name)
            if not 1 <= lo <= hi:
                raise ValueError(f"{name} must be (lo, hi) with 1 <= lo <= hi, got {(lo, hi)}")
        return docs

    def _key_dtype(self) -> tuple[type[np.unsignedinteger[Any]], int]:
        """Key dtype (row-in-chunk * n_columns + column) and the most texts a chunk holds."""
        n_cols = 2 * int(self.n_features)
        if n_cols <= 2**24:  # 32-bit keys sort twice as fast; the top value is the sentinel
            return np.uint32, (2**32 - 1) // n_cols - 1
        return np.uint64, 2**20

    def _chunks(self, docs: Sequence[str]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(texts in chunk, sorted distinct keys, their counts) for consecutive chunks."""
        _, max_docs = self._key_dtype()
        seg = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs)) + 2
        ends = np.cumsum(seg)
        start, done = 0, 0
        while start < len(docs):
            stop = int(np.searchsorted(ends, done + _CHUNK_CHARS, side="right"))
            stop = min(max(stop, start + 1), start + max_docs)
            keys, count = self._chunk_keys(docs[start:stop], seg[start:stop])
            yield stop - start, keys, count
            done = int(ends[stop - 1])
            start = stop

    def _chunk_keys(self, docs: Sequence[str], seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sorted distinct keys, their counts) of a chunk's word and character n-grams."""
        key_dtype, _ = self._key_dtype()
        sentinel = np.iinfo(key_dtype).max
        size = int(self.n_features)
        # " t0  t1  t2 ": text i, with one padding space each side, is segment i
        joined = (" " + "  ".join(docs) + " ").encode("utf-32-le", "surrogatepass")
        code = np.frombuffer(joined, dtype="<u4")
        length = code.shape[0]
        c64 = code.astype(np.uint64)
        row = np.arange(len(docs), dtype=np.uint64) * np.uint64(2 * size)
        base = np.repeat(row, seg)  # key offset of each position's text
        c_lo, c_hi = self.char_ngrams
        w_lo, w_hi = self.word_ngrams

        # words: token = run of word characters (padding spaces keep them inside a text)
        is_word = _word_table()[np.minimum(code, _WORD_LIMIT)]
        bounds = np.flatnonzero(is_word[1:] != is_word[:-1]) + 1
        t_start, t_end = bounds[0::2], bounds[1::2]
        n_tok = t_start.shape[0]
        n_word = sum(max(n_tok - n + 1, 0) for n in range(w_lo, w_hi + 1))
        keys = np.empty(n_word + length * (c_hi - c_lo + 1), dtype=key_dtype)
        if n_tok:
            self._word_keys(keys[:n_word], c64, t_start, t_end, base, sentinel)
        self._char_keys(keys[n_word:], c64, base)
        _drop_crossing_windows(keys[n_word:], seg, length, self.char_ngrams, sentinel)
        return _distinct_counts(keys, sentinel)

    def _word_keys(
        self,
        out: np.ndarray,
        c64: np.ndarray,
        t_start: np.ndarray,
        t_end: np.ndarray,
        base: np.ndarray,
        sentinel: int,
    ) -> None:
        """Fill `out` with the word n-grams' keys, n by n; those spanning two texts get
        `sentinel`. `c64`: the chunk's codepoints; tokens are c64[t_start:t_end]."""
        size = int(self.n_features)
        w_lo, w_hi = self.word_ngrams
        length = c64.shape[0]
        n_tok = t_start.shape[0]
        # token hash from prefix sums: sum_k c_k P**(e-1-k) = P**(e-1) * sum_k c_k Q**k
        p_pow, q_pow = _powers(1 << length.bit_length())
        prefix = np.empty(length + 1, dtype=np.uint64)
        prefix[0] = 0
        np.multiply(c64, q_pow[:length], out=prefix[1:])
        np.cumsum(prefix[1:], out=prefix[1:])
        tok = prefix[t_end] - prefix[t_start]
        tok *= p_pow[t_end - 1]
        tok_base = base[t_start]
        mixed = tok.copy()
        tmp = np.empty_like(tok)
        _fmix(mixed, tmp)
        acc = mixed.copy()  # for n >= 2: acc[t] = sum_k fmix(tok[t + k]) P**(n-1-k)
        at = 0
        for n in range(1, min(w_hi, n_tok) + 1):
            m = n_tok - n + 1
            if n > 1:
                acc[:m] *= np.uint64(_P)
                acc[:m] += mixed[n - 1 :]
            if n < w_lo:
                continue
            k = tmp[:m]
            np.bitwise_xor(tok if n == 1 else acc[:m], np.uint64(_salt(_WORD, n)), out=k)
            _fmix(k, np.empty_like(k))
            _to_column(k, size)
            k += tok_base[:m]
            window = out[at : at + m]
            window[:] = k
            if n > 1:  # n-grams spanning two texts
                window[tok_base[:m] != tok_base[n - 1 :]] = sentinel
            at += m

    def _char_keys(self, out: np.ndarray, c64: np.ndarray, base: np.ndarray) -> None:
        """Fill `out` with the character n-grams' keys: for each n, one window starting at
        every position of `c64`. `base` (the texts' key offsets) is moved in place to the
        character columns."""
        size = int(self.n_features)
        c_lo, c_hi = self.char_ngrams
        length = c64.shape[0]
        # rolling hash h_n[i] = h_{n-1}[i] * P + c[i + n - 1], in place; the codepoints get
        # c_hi - 1 spaces appended so that every position starts a window
        c64 = np.concatenate([c64, np.full(c_hi, 32, dtype=np.uint64)])
        h = c64[:length].copy()
        k = np.empty(length, dtype=np.uint64)
        tmp = np.empty(length, dtype=np.uint64)
        base += np.uint64(size)
        shift = 65 - size.bit_length() if size > 1 and size & (size - 1) == 0 else 0
        at = 0
        for n in range(1, c_hi + 1):
            if n > 1:
                h *= np.uint64(_P)
                h += c64[n - 1 : n - 1 + length]
            if n < c_lo:
                continue
            np.bitwise_xor(h, np.uint64(_salt(_CHAR, n)), out=k)
            _fmix(k, tmp, top_only=True)
            if shift:  # same as _to_column for a power of two
                k >>= np.uint64(shift)
            else:
                _to_column(k, size)
            np.add(k, base, out=out[at : at + length], casting="unsafe")
            at += length

    def _split(self, n_docs: int, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sorted keys -> (row pointers, columns) of a chunk."""
        row = np.arange(n_docs + 1, dtype=keys.dtype) * keys.dtype.type(2 * int(self.n_features))
        indptr = np.searchsorted(keys, row)
        col = (keys - np.repeat(row[:-1], np.diff(indptr))).astype(np.int32)
        return indptr, col

    def _weigh(
        self, n_docs: int, keys: np.ndarray, count: np.ndarray, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One chunk's counts -> (row pointers, columns, tf-idf values, normalised)."""
        _, col = self._split(n_docs, keys)
        idf = self.idf_[col]
        keep = idf != 0
        if not keep.all():
            keys, col, idf, count = keys[keep], col[keep], idf[keep], count[keep]
        tf = count.astype(np.float32)
        if self.sublinear_tf:
            np.log(tf, out=tf)
            tf += np.float32(1.0)
        tf *= idf
        # block boundaries: row r's words start at key r*n_cols, its characters at +size
        size = int(self.n_features)
        edge = np.arange(2 * n_docs + 1, dtype=np.int64)
        edge = (edge >> 1) * (2 * size) + (edge & 1) * size
        bounds = np.searchsorted(keys, edge.astype(keys.dtype))
        per_block = np.diff(bounds)
        sq = np.zeros(tf.shape[0] + 1)  # the last slot keeps reduceat's indices in range
        np.square(tf, out=sq[:-1])
        norm2 = np.add.reduceat(sq, bounds[:-1])  # (a float cumsum is 20x slower)
        norm2[per_block == 0] = 0.0
        norm2 = norm2.reshape(n_docs, 2)
        present = norm2 > 0
        both = present.all(axis=1)
        scale = np.zeros_like(norm2)
        np.divide(1.0, np.sqrt(norm2), out=scale, where=present)
        scale[both] *= weights  # a lone block keeps unit norm
        tf *= np.repeat(scale.ravel().astype(np.float32), per_block)
        return bounds[0::2], col, tf

    def _assemble(
        self,
        parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
        n_docs: int,
        dtype: type[np.number[Any]],
    ) -> sp.csr_matrix:
        n_cols = 2 * int(self.n_features)
        nnz = sum(p[1].shape[0] for p in parts)
        index = np.int32 if max(nnz, n_cols) < 2**31 else np.int64
        indptr = np.zeros(n_docs + 1, dtype=index)
        at, row = 0, 0
        for ptr, _, _ in parts:
            indptr[row + 1 : row + ptr.shape[0]] = ptr[1:] + at
            row += ptr.shape[0] - 1
            at += int(ptr[-1])
        indices = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, index)
        data = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, dtype)
        out = sp.csr_matrix(
            (data.astype(dtype, copy=False), indices.astype(index, copy=False), indptr),
            shape=(n_docs, n_cols),
        )
        out.has_sorted_indices = True
        out.has_canonical_format = True
        return out
