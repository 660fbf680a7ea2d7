"""A word-safe thread split: an answer too long for one post becomes parts "1/2", "2/2".

Each part ends with its counter (" 1/3"), which counts in the part's length; the signature
stays on the last part, glued to the last word. Parts break only between words, preferring a
sentence end or a line break in the second half of a part. Never inside a URL; a single word
longer than a whole post is the one thing cut, between two graphemes (never inside an emoji).
French typography is respected: a "!", "?", ":", ";" or "»" after a space never starts a part,
a "«" never ends one, and no-break spaces (U+00A0, U+202F) are not break points.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from twitter_text import extract_urls_with_indices

from carebird.errors import InvalidInput
from carebird.ingest.bluesky.graphemes import iter_graphemes
from carebird.reply.length import counter_for, default_limit, length_of

MAX_PARTS = 25  # beyond this a thread is no answer: send a link or a private message
# Breakable spaces only: U+00A0, U+2007 and U+202F are no-break spaces.
_SPACE = "[ \t\n\r\f\v\u1680\u2000-\u2006\u2008-\u200a\u2028\u2029\u205f\u3000]+"
_SPLIT = re.compile(f"({_SPACE})")
_CLOSING = re.compile(r"^[?!:;»›%)\]}…,.\"”’]+$")  # glued to the word before
_OPENING = re.compile(r"^[«‹(\[“]+$")  # glued to the word after
_SENTENCE_END = re.compile(r"[.!?…:;][\"»”’)\]]*$")
_URL = re.compile(r"(?i)\bhttps?://\S+")
GOOD_BREAK = 0.5  # a sentence end or line break is preferred once a part is this full


@dataclass
class _Token:
    sep: str  # the spaces before the word ("" inside a cut word)
    word: str


def _tokens(text: str) -> list[_Token]:
    pieces = _SPLIT.split(text)
    raw = [_Token(pieces[i - 1] if i else "", pieces[i]) for i in range(0, len(pieces), 2)]
    merged: list[_Token] = []
    for tok in raw:
        if not tok.word:
            continue
        if merged and "\n" not in tok.sep:
            prev = merged[-1]
            if _CLOSING.match(tok.word) or _OPENING.match(prev.word):
                prev.word += tok.sep + tok.word
                continue
        merged.append(tok)
    return merged


def _url_spans(word: str) -> list[tuple[int, int]]:
    spans = [(int(u["indices"][0]), int(u["indices"][1])) for u in extract_urls_with_indices(word)]
    spans += [(m.start(), m.end()) for m in _URL.finditer(word)]
    return sorted(spans)


def _atoms(tok: _Token, count: Callable[[str], int], budget: int) -> list[_Token]:
    """A word too long for any part, cut into URLs (kept whole) and single graphemes."""
    out: list[_Token] = []
    at = 0
    for start, end in _url_spans(tok.word):
        if start < at:
            continue  # overlapping matches of the two URL finders
        out += [_Token("", g) for g in iter_graphemes(tok.word[at:start])]
        url = tok.word[start:end]
        if count(url) > budget:
            raise InvalidInput("a link is longer than a whole post: shorten it")
        out.append(_Token("", url))
        at = end
    out += [_Token("", g) for g in iter_graphemes(tok.word[at:])]
    out[0].sep = tok.sep
    return out


def _good_break(tokens: list[_Token], j: int) -> bool:
    """Whether a part may preferably end before token j."""
    if j >= len(tokens) or not tokens[j].sep:
        return False
    return "\n" in tokens[j].sep or _SENTENCE_END.search(tokens[j - 1].word) is not None


class _Packer:
    def __init__(self, tokens: list[_Token], network: str, limit: int, prefix: str):
        self.tokens, self.network, self.limit, self.prefix = tokens, network, limit, prefix
        self.sep_w = [self.weight(t.sep) for t in tokens]
        self.word_w = [self.weight(t.word) for t in tokens]

    def weight(self, s: str) -> int:
        return length_of(self.network, s) if s else 0

    def render(self, i: int, j: int, idx: int, n: int) -> str:
        body = self.tokens[i].word + "".join(t.sep + t.word for t in self.tokens[i + 1 : j])
        return f"{self.prefix}{body} {idx}/{n}"

    def pack(self, n: int, *, exact: bool) -> list[tuple[int, int]]:
        """Greedy parts for a thread of n parts (n only sets the counters' width).

        A part's length is the sum of its words' and spaces' (whitespace ends every URL and
        emoji); `exact` also measures each part whole and gives words back if that disagrees.
        """
        spans: list[tuple[int, int]] = []
        i, total = 0, len(self.tokens)
        while i < total:
            idx = len(spans) + 1
            if idx > MAX_PARTS:
                raise InvalidInput(f"too long even for a thread of {MAX_PARTS} posts")
            budget = self.limit - self.weight(self.prefix) - self.weight(f" {idx}/{n}")
            used, j, best = self.word_w[i], i + 1, None
            while j < total and used + self.sep_w[j] + self.word_w[j] <= budget:
                used += self.sep_w[j] + self.word_w[j]
                j += 1
                if _good_break(self.tokens, j) and used >= budget * GOOD_BREAK:
                    best = j
            if j < total and best is not None:
                j = best
            while exact and length_of(self.network, self.render(i, j, idx, n)) > self.limit:
                if j == i + 1:
                    raise InvalidInput("a word does not fit in one post")
                j -= 1
            spans.append((i, j))
            i = j
        return spans


def split_thread(
    text: str,
    *,
    network: str,
    limit: int | None = None,
    private: bool = False,
    signature: str = "",
    prefix: str = "",
) -> list[str]:
    """The posts to send for `text` (one when it fits), each within `network`'s limit.

    `signature` (e.g. " ^MC") ends the last part; `prefix` (e.g. Mastodon's "@customer ")
    starts every part and counts in each.
    """
    count = counter_for(network)
    top = limit if limit is not None else default_limit(network, private=private)
    body = text.strip()
    whole = f"{prefix}{body}{signature}"
    if count(whole) <= top or not body:
        return [whole]
    worst = count(prefix) + count(f" {MAX_PARTS}/{MAX_PARTS}") + count(signature)
    budget = top - worst
    if budget <= 0:
        raise InvalidInput(f"a limit of {top} leaves no room for text")
    tokens: list[_Token] = []
    for tok in _tokens(body):
        tokens += _atoms(tok, count, budget) if length_of(network, tok.word) > budget else [tok]
    tokens[-1].word += signature
    packer = _Packer(tokens, network, top, prefix)
    for exact in (False, True):  # by the words' sums first; part by part only if that failed
        n = 2
        while True:
            spans = packer.pack(n, exact=exact)
            if len(spans) <= n:  # fewer parts only narrows the counters: all still fit
                break
            n = len(spans)
        parts = [packer.render(i, j, k, len(spans)) for k, (i, j) in enumerate(spans, 1)]
        if all(length_of(network, part) <= top for part in parts):
            return parts
    raise InvalidInput("this text cannot be split within the limit")  # pragma: no cover
