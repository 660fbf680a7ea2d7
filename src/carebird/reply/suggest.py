"""Ranking answers for a message: one function (`rank`) for the composer and the evaluation.

Two kinds of evidence, both as bags of words (word 1- and 2-grams of the folded text, hashed:
no vocabulary to fit, French and English alike, on the CPU in well under a millisecond):

- the **history**: past answers of the team (a reply typed by hand, a template or an article
  chosen from the suggestions) beside the customer's message each one answered. A new message
  looks for its nearest past messages (cosine of TF-IDF vectors) and each neighbour votes, by
  its similarity, for the answer it got; answers sent with the same words form one candidate
  ("used 34 times for similar messages this month").
- the **content**: templates and articles read as text, matched to the message directly (a new
  article is suggested before anyone has used it).

A candidate's score is its neighbours' votes, plus its content's similarity, plus a small prior
for answers used often. The index is built once (`SuggestionIndex.build`) and queried for each
case; the desk keeps one per process and rebuilds it when the history changes.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from carebird.cases.search import STOPWORDS

NEIGHBOURS = 25  # past messages that vote
MIN_SIMILARITY = 0.05  # a neighbour sharing less than this is no evidence
CONTENT_WEIGHT = 3.0  # a template or article read as text, against the neighbours' votes
MIN_CONTENT = 0.05  # a template or article covering less of the message is not about it
PER_KIND = 2  # slots one kind may take while another kind has a candidate
PRIOR_WEIGHT = 0.05  # per log-use: a frequent answer wins ties between weak matches
AGREEMENT_WEIGHT = 3.0  # the candidate's word overlap with what similar messages were told
RECENT = timedelta(days=30)  # "this month"

_HANDLE = re.compile(r"(?<![\w@])@\w+")
_URL = re.compile(r"(?i)\bhttps?://\S+|\bwww\.\S+")
# Agents' signatures: "^AB" anywhere; "-Becky", "*HFG", "= JJ", "~Ana" closing the text.
_CARET = re.compile(r"\^\s?[A-Za-z]{1,20}\b")
_CLOSING = re.compile(r"\s(?:[-–—~*=/]\s?[A-Z][\w.]{0,19})(?:\s[A-Z][\w.]{0,19})?\s*$")
_WORD = re.compile(r"\w+")
_VARIABLE = re.compile(r"\{[a-z_]+\}")  # a template's {customer_name} says nothing of it


def fold(text: str) -> str:
    """Lower case without accents: "Délai" and "delai" are one word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def clean(text: str) -> str:
    """`text` without @handles, links and the agent's signature (what an answer says)."""
    text = _URL.sub(" ", _HANDLE.sub(" ", text))
    text = _CARET.sub(" ", text)
    text = _CLOSING.sub(" ", " " + text)
    return " ".join(text.split())


def without_signature(text: str) -> str:
    """`text` without the agent's signature ("^AB", a closing "-Becky")."""
    return " ".join(_CLOSING.sub(" ", " " + _CARET.sub(" ", text)).split())


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens of the cleaned text (the evaluation's unit)."""
    return _WORD.findall(clean(text).lower())


def token_f1(a: str, b: str) -> float:
    """F1 of the two texts' word tokens (as multisets)."""
    ta, tb = Counter(tokens(a)), Counter(tokens(b))
    common = sum((ta & tb).values())
    if not common:
        return 0.0
    precision, recall = common / sum(ta.values()), common / sum(tb.values())
    return 2 * precision * recall / (precision + recall)


def answer_key(text: str) -> str:
    """Answers sent with the same words (handles, links, signature and case aside) are one."""
    return " ".join(_WORD.findall(fold(clean(text))))[:500]


FEATURES = 2**18
_VECTORIZER = HashingVectorizer(
    n_features=FEATURES,
    preprocessor=lambda t: fold(clean(t)),
    token_pattern=r"(?u)\b\w+\b",
    ngram_range=(1, 2),
    alternate_sign=False,
    norm=None,
)


@functools.cache
def _stop_columns() -> np.ndarray:
    """The hashed columns of the words found in nearly every message (never a match alone)."""
    return np.unique(vectorize(sorted(STOPWORDS)).indices)


def vectorize(texts: Sequence[str]) -> sp.csr_matrix:
    """Word counts (hashed) of each text, one row each."""
    if not texts:
        return sp.csr_matrix((0, FEATURES), dtype=np.float64)
    return _VECTORIZER.transform(list(texts)).tocsr()


@dataclass(frozen=True)
class HistoryItem:
    """One past answer: the customer's message it answered (may be empty) and the answer."""

    context: str
    answer: str
    key: str  # the candidate it counts for: "reply:<words>", "template:3", "article:5"
    ref: str  # the answer's own id (a message id, a template id…)
    at: datetime | None = None
    weight: float = 1.0  # an answer sent after heavy edits counts less


@dataclass(frozen=True)
class ContentItem:
    """A template or an article, matched on its own words."""

    key: str  # "template:3" | "article:5"
    kind: str
    ref: str
    title: str
    text: str
    language: str | None = None


@dataclass
class Ranked:
    key: str
    kind: str  # reply | template | article
    ref: str
    title: str
    text: str  # the answer to insert (before variables)
    score: float
    uses: int = 0  # in the whole history
    uses_recent: int = 0  # in the last 30 days
    neighbours: int = 0  # similar past messages that got it
    similar: str = ""  # the most similar past message that got it
    content_similarity: float = 0.0


@dataclass
class SuggestionIndex:
    history: list[HistoryItem] = field(default_factory=list)
    content: list[ContentItem] = field(default_factory=list)
    idf: np.ndarray | None = None
    h_matrix: sp.csr_matrix | None = None
    c_matrix: sp.csr_matrix | None = None
    uses: Counter[str] = field(default_factory=Counter)
    latest: dict[str, int] = field(default_factory=dict)  # key -> index of its newest answer
    times: dict[str, list[datetime]] = field(default_factory=dict)  # key -> its uses, sorted

    @classmethod
    def build(
        cls,
        history: Sequence[HistoryItem],
        content: Sequence[ContentItem] = (),
        *,
        history_rows: sp.csr_matrix | None = None,
    ) -> SuggestionIndex:
        """The index of `history` and `content` (`history_rows`: their contexts, vectorized
        beforehand — the evaluation reuses them as the history grows)."""
        h = history_rows if history_rows is not None else vectorize([i.context for i in history])
        c = vectorize([_VARIABLE.sub(" ", f"{i.title} {i.text}") for i in content])
        docs = sp.vstack([h, c]).tocsr() if content else h
        n = max(docs.shape[0], 1)
        df = np.bincount(docs.indices, minlength=docs.shape[1]) if docs.nnz else np.zeros(1)
        if df.shape[0] != docs.shape[1]:
            df = np.zeros(docs.shape[1])
        idf = np.log((1 + n) / (1 + df)) + 1.0
        present = c.copy()
        present.data[:] = 1.0  # a template or article covers a word or not
        index = cls(list(history), list(content), idf, weigh(h, idf), present.tocsr())
        for i, item in enumerate(history):
            index.uses[item.key] += 1
            index.latest[item.key] = i
            if item.at is not None:
                index.times.setdefault(item.key, []).append(item.at)
        for times in index.times.values():
            times.sort()
        return index

    def query(self, text: str) -> sp.csr_matrix:
        assert self.idf is not None
        return weigh(vectorize([text]), self.idf)


def tfidf(texts: Sequence[str]) -> sp.csr_matrix:
    """The texts' TF-IDF rows (IDF from the texts themselves), each of unit length."""
    rows = vectorize(texts)
    df = np.bincount(rows.indices, minlength=rows.shape[1])
    return weigh(rows, np.log((1 + rows.shape[0]) / (1 + df)) + 1.0)


def weigh(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sub-linear TF × IDF, rows of unit length."""
    m = counts.astype(np.float64).tocsr()
    if m.nnz:
        m.data = 1.0 + np.log(m.data)
        m.data *= idf[m.indices]
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ m)


def _kind(key: str) -> str:
    return key.split(":", 1)[0]


def rank(
    index: SuggestionIndex,
    message: str,
    *,
    k: int = 3,
    language: str | None = None,
    now: datetime | None = None,
) -> list[Ranked]:
    """The `k` best answers to `message`, best first (content in another `language` aside)."""
    q = index.query(message)
    found: dict[str, Ranked] = {}
    neighbours: list[tuple[float, HistoryItem]] = []
    if index.h_matrix is not None and index.h_matrix.shape[0]:
        neighbours = _vote(index, q, found, now)
    if index.c_matrix is not None and index.c_matrix.shape[0]:
        _read(index, q, found, language)
    for r in found.values():
        r.score += PRIOR_WEIGHT * math.log1p(index.uses.get(r.key, 0))
    _agree(found, neighbours)
    best = sorted(found.values(), key=lambda r: (-r.score, -index.latest.get(r.key, -1)))
    return _diverse(best, k)


def _diverse(best: list[Ranked], k: int) -> list[Ranked]:
    """The `k` best, no kind taking more than `PER_KIND` while another kind has a candidate
    (the evaluation has past replies only: it is the plain top k there)."""
    chosen: list[Ranked] = []
    taken: Counter[str] = Counter()
    for r in best:
        if len(chosen) < k and taken[r.kind] < PER_KIND:
            chosen.append(r)
            taken[r.kind] += 1
    for r in best:
        if len(chosen) >= k:
            break
        if r not in chosen:
            chosen.append(r)
    order = {id(r): i for i, r in enumerate(best)}
    return sorted(chosen, key=lambda r: order[id(r)])


def _agree(found: dict[str, Ranked], neighbours: list[tuple[float, HistoryItem]]) -> None:
    """Favour the answer that says most of what the similar messages were told: each
    candidate gains its word overlap with every neighbour's answer, by that neighbour's
    similarity (answers are rarely word for word the same, often nearly)."""
    total = sum(sim for sim, _ in neighbours)
    if not total:
        return
    bags = [(sim, _bag(item.answer)) for sim, item in neighbours]
    for r in found.values():
        mine = _bag(r.text)
        if not mine[1]:
            continue
        agreement = sum(sim * _f1(mine, bag) for sim, bag in bags) / total
        r.score += AGREEMENT_WEIGHT * agreement


@functools.lru_cache(maxsize=50_000)
def _bag(text: str) -> tuple[dict[str, int], int]:
    """The answer's word tokens counted, and their number (the same text, the same bag)."""
    counts = Counter(tokens(text))
    return dict(counts), sum(counts.values())


def _f1(mine: tuple[dict[str, int], int], theirs: tuple[dict[str, int], int]) -> float:
    """`token_f1` of two bags (the same figure, without building a Counter per pair)."""
    (a, size_a), (b, size_b) = mine, theirs
    if size_a > size_b:
        a, b = b, a
    common = sum(min(n, b[t]) for t, n in a.items() if t in b)
    return 2 * common / (size_a + size_b) if common else 0.0


def _vote(
    index: SuggestionIndex, q: sp.csr_matrix, found: dict[str, Ranked], now: datetime | None
) -> list[tuple[float, HistoryItem]]:
    assert index.h_matrix is not None
    sims = np.asarray((index.h_matrix @ q.T).todense()).ravel()
    if sims.shape[0] > NEIGHBOURS:
        part = np.argpartition(-sims, NEIGHBOURS)[:NEIGHBOURS]
        top = part[np.argsort(-sims[part])]
    else:
        top = np.argsort(-sims)
    neighbours = []
    for i in top:
        sim = float(sims[i])
        if sim < MIN_SIMILARITY:
            break
        item = index.history[int(i)]
        neighbours.append((sim, item))
        r = found.get(item.key)
        if r is None:
            newest = index.history[index.latest[item.key]]
            r = found[item.key] = Ranked(
                item.key, _kind(item.key), newest.ref, "", newest.answer, 0.0, similar=item.context
            )
            r.uses = index.uses[item.key]
            r.uses_recent = _recent(index, item.key, now)
        r.score += sim * item.weight
        r.neighbours += 1
    return neighbours


def _recent(index: SuggestionIndex, key: str, now: datetime | None) -> int:
    times = index.times.get(key)
    if now is None or not times:
        return 0
    return len(times) - bisect.bisect_left(times, now - RECENT)


def _read(
    index: SuggestionIndex, q: sp.csr_matrix, found: dict[str, Ranked], language: str | None
) -> None:
    assert index.c_matrix is not None
    # the share of the message's weight (its unit vector's squares) that the text covers,
    # among the words the desk knows (a word no text holds matches nothing, whatever its IDF)
    squares = q.multiply(q).tocsr()
    squares.data[np.isin(squares.indices, _stop_columns())] = 0.0  # "en", "est", "the"…
    assert index.idf is not None
    known = float(squares.data[index.idf[squares.indices] < index.idf.max()].sum())
    if known <= 0:
        return
    sims = np.asarray((index.c_matrix @ squares.T).todense()).ravel() / known
    for i, item in enumerate(index.content):
        sim = float(sims[i])
        if sim < MIN_CONTENT or (language and item.language and item.language != language):
            continue
        r = found.get(item.key)
        if r is None:
            r = found[item.key] = Ranked(item.key, item.kind, item.ref, item.title, item.text, 0.0)
        r.title, r.text = item.title, item.text  # the template's body, not one rendering of it
        r.content_similarity = sim
        r.score += CONTENT_WEIGHT * sim


def shared_words(a: str, b: str, *, limit: int = 4) -> list[str]:
    """Words (of 4 letters or more) the two texts share, in `a`'s order: why they match."""
    theirs = set(_WORD.findall(fold(clean(b))))
    mine: Iterable[str] = _WORD.findall(fold(clean(a)))
    words = [w for w in dict.fromkeys(mine) if len(w) >= 4 and w in theirs]
    return words[:limit]
