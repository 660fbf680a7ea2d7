"""Bursts: many customers writing about one cause within a short window (pure, no database).

A message's *terms* are its distinctive words (folded, stop words out; codes such as "20-ff"
or "503" kept whole). A term *bursts* when, within `window`, at least `min_authors` different
customers used it, far more than its rate over the `baseline` before (the words every day
brings — "internet", "bonjour" — never burst on a day like the others). The messages sharing
the burst's strongest term form a burst; its *signature* is the terms most of them share, and
its title reads them ("chaînes · figées · 20-ff"). A later message joins an open burst when it
holds enough of its signature, while the burst is still active (`join_window` after its last).

The same `Detector` runs at intake (carebird.cases.incidents, fed with the desk's recent
messages) and in the evaluation (carebird.insights.incident_eval), so what is measured is what
runs.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from carebird.cases.search import STOPWORDS, fold

_URL = re.compile(r"https?://\S+|www\.\S+", re.I)
_HANDLE = re.compile(r"(?<!\w)@\w{1,50}")
_TOKEN = re.compile(r"\w+(?:-\w+)*")
_AMOUNT = re.compile(r"\d+(?:[.,]\d+)?(?:h|mn|min|s|j|e|er|eme|ans?|km|go|mo|gb|mb|h\d+)?")
_NAMED = frozenset(
    ["ligne", "line", "rer", "metro", "bus", "tram", "canal", "chaine", "channel", "route"]
)
# Words of customer care in general (folded): they say that something is wrong, not what.
_CARE = """
bonjour bonsoir salut merci svp stp aide help depuis toujours encore plus rien aucun aucune
tout tous toute toutes fait faire peut peux pouvez comment pourquoi quand quoi alors car
deja meme aussi tres bien trop vraiment juste rien chez avoir etes sont suis sommes etait
probleme problemes souci soucis marche fonctionne impossible normal honte service client
clients cela ceci bah ben hein lol mdr oui non idem pareil ici the hi hello thanks please
still again any all just now why when how can cant dont does did doesnt will would could
problem issue working work anyone else today since hours heures minutes min jours jour
matin soir hier aujourd ya faut quelque chose personne autre autres leurs nn
"""
STOP = STOPWORDS | frozenset(_CARE.split())


def _keep(key: str) -> bool:
    if key in STOP:
        return False
    if key.isdigit():
        return len(key) == 3  # 503, 404: error codes, not counts or years
    if any(c.isdigit() for c in key):  # 20-ff, e404, 4g; not times nor amounts (2h, 10mn)
        return len(key) >= 2 and _AMOUNT.fullmatch(key) is None
    return len(key) >= 3


@functools.lru_cache(maxsize=32_768)
def terms_of(text: str) -> dict[str, str]:
    """The message's distinctive terms (folded) -> how the message wrote them (lower case).

    A line, channel or route keeps its short name: "ligne B" is one term. Cached: each batch
    re-reads the recent messages as its baseline (the result is shared: never change it)."""
    plain = _HANDLE.sub(" ", _URL.sub(" ", text)).replace("’", " ").replace("'", " ")
    words = _TOKEN.findall(plain.lower())
    found: dict[str, str] = {}
    for n, word in enumerate(words):
        key = fold(word)[:48]
        if _keep(key):
            found.setdefault(key, word)
        if key in _NAMED and n + 1 < len(words) and len(words[n + 1]) <= 3:
            found.setdefault(f"{key} {fold(words[n + 1])}", f"{word} {words[n + 1]}")
    return found


@dataclass(frozen=True, slots=True)
class Settings:
    window: timedelta = timedelta(minutes=60)  # a burst's customers write within this
    baseline: timedelta = timedelta(days=7)  # the term's ordinary rate, before the window
    min_authors: int = 3  # different customers in the window
    ratio: float = 5.0  # times the term's ordinary rate over a window
    min_share: float = 0.1  # of the window's customers: a burst stands out of the traffic
    alpha: float = 1e-6  # how unlikely the count must be at the term's ordinary rate (Poisson)
    warmup: timedelta = timedelta(hours=6)  # history needed before anything bursts
    common: float = 0.05  # a term in more of the baseline's messages never bursts
    join_window: timedelta = timedelta(hours=2)  # an open burst takes messages until this idle
    share: float = 0.5  # a signature's terms are held by this share of the first members


@dataclass(slots=True)
class Post:
    key: Hashable  # the message (its id)
    author: str
    at: datetime
    text: str
    group: Hashable | None = None  # the burst it already belongs to
    terms: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.terms:
            self.terms = terms_of(self.text)


@dataclass(slots=True)
class Burst:
    key: Hashable  # the incident's id once stored; a new burst's first message before
    signature: list[str]  # folded terms, strongest first
    last_at: datetime
    surface: dict[str, str] = field(default_factory=dict)
    members: list[Hashable] = field(default_factory=list)

    @property
    def title(self) -> str:
        return title_of(self.signature, self.surface)

    def holds(self, post: Post) -> bool:
        """Whether the post speaks of this burst: its strongest term, or two of its terms."""
        if not self.signature:
            return False
        shared = sum(1 for t in self.signature if t in post.terms)
        return self.signature[0] in post.terms or shared >= 2


def surprise(count: int, usual: float) -> float:
    """P(X >= count) for X ~ Poisson(usual): how unlikely so many customers are by chance."""
    if usual <= 0:
        return 0.0
    term, below = math.exp(-usual), 0.0
    for k in range(count):
        below += term
        term *= usual / (k + 1)
    return max(0.0, 1.0 - below)


def title_of(signature: Iterable[str], surface: dict[str, str] | None = None) -> str:
    words = [(surface or {}).get(t, t) for t in list(signature)[:4]]
    return " · ".join(words)[:200]


@dataclass(slots=True)
class Decision:
    post: Post
    burst: Burst
    new: bool  # the post started it (with `joined`: the earlier posts it gathered)
    joined: list[Post] = field(default_factory=list)


class _Tally:
    """Posts in a time span, with how many posts and which customers used each term."""

    def __init__(self) -> None:
        self.posts: deque[Post] = deque()
        self.docs: Counter[str] = Counter()
        self.by_term: dict[str, Counter[str]] = {}
        self.authors: Counter[str] = Counter()

    def add(self, post: Post) -> None:
        self.posts.append(post)
        self._count(post, 1)

    def drop(self, post: Post) -> None:
        self._count(post, -1)

    def _count(self, post: Post, step: int) -> None:
        # The hot loop of every batch (its baseline is re-counted): plain dict operations,
        # no Counter built for a term already seen.
        author, authors, docs, by_term = post.author, self.authors, self.docs, self.by_term
        n = authors[author] + step
        if n > 0:
            authors[author] = n
        else:
            del authors[author]
        for term in post.terms:
            docs[term] += step
            who = by_term.get(term)
            if who is None:
                who = by_term[term] = Counter()
            k = who[author] + step
            if k > 0:
                who[author] = k
            else:
                del who[author]
                if not who:
                    del by_term[term]

    def customers(self, term: str) -> int:
        return len(self.by_term.get(term, ()))


class Detector:
    """Feed posts in time order; each `feed` says which burst the post opened or joined.

    Counts are kept as posts come and go (the window, the baseline before it, the window's
    posts in no burst yet), so each post costs its own terms, not the history's size."""

    def __init__(self, settings: Settings | None = None, bursts: Iterable[Burst] = ()) -> None:
        self.settings = settings or Settings()
        self.bursts = list(bursts)
        self._before = _Tally()  # within the baseline, before the window
        self._window = _Tally()  # within the window
        self._free = _Tally()  # the window's posts in no burst
        self._free_ids: set[int] = set()

    def remember(self, post: Post) -> None:
        """A post seen before (history): counted, never decided on."""
        self._window.add(post)
        if post.group is None:
            self._free.add(post)
            self._free_ids.add(id(post))
        self._forget(post.at)

    def remember_all(self, posts: Iterable[Post]) -> None:
        """`remember` each post (history, in time order), the cheap way: a post already out of
        the window by the last one's time is counted straight into the baseline, as the window
        would have left it, instead of entering and leaving the window's counts."""
        posts = list(posts)
        if not posts:
            return
        last = posts[-1].at
        s = self.settings
        for post in posts:
            if post.at >= last - s.window:
                self.remember(post)
            elif post.at >= last - s.baseline and not self._window.posts:
                self._before.add(post)
            elif post.at >= last - s.baseline:
                self.remember(post)  # behind what the window holds already: the slow way

    def _forget(self, now: datetime) -> None:
        s = self.settings
        window = self._window.posts
        while window and window[0].at < now - s.window:
            old = window.popleft()
            self._window.drop(old)
            self._unfree(old)
            self._before.add(old)
        before = self._before.posts
        while before and before[0].at < now - s.baseline:
            self._before.drop(before.popleft())

    def _unfree(self, post: Post) -> None:
        if id(post) in self._free_ids:
            self._free_ids.discard(id(post))
            self._free.drop(post)

    def _first_at(self) -> datetime | None:
        for posts in (self._before.posts, self._window.posts):
            if posts:
                return posts[0].at
        return None

    def feed(self, post: Post) -> Decision | None:
        self.remember(post)
        if post.group is not None or not post.terms:
            return None
        s = self.settings
        live = [b for b in self.bursts if post.at - b.last_at <= s.join_window]
        for burst in sorted(live, key=lambda b: b.last_at, reverse=True):
            if burst.holds(post):
                return self._join(burst, post)
        strongest = self._bursting(post)
        if strongest is None:
            return None
        members = [p for p in self._window.posts if p.group is None and strongest in p.terms]
        burst = self._open(post, members, strongest)
        others = [p for p in members if p is not post]
        for p in members:
            p.group = burst.key
            burst.members.append(p.key)
            self._unfree(p)
        return Decision(post, burst, new=True, joined=others)

    def _join(self, burst: Burst, post: Post) -> Decision:
        post.group = burst.key
        self._unfree(post)
        burst.members.append(post.key)
        burst.last_at = max(burst.last_at, post.at)
        return Decision(post, burst, new=False)

    def _common(self, term: str) -> bool:
        """Too common to name a cause: the brand's name, "internet" at an ISP."""
        size = len(self._before.posts)
        return size > 0 and self._before.docs[term] > self.settings.common * size

    def _bursting(self, post: Post) -> str | None:
        """The post's term that bursts now (the most surprising, then the most used), if any."""
        s = self.settings
        first = self._first_at()
        if first is None or post.at - first < s.warmup:
            return None  # no ordinary rate known yet: nothing can be told from a burst
        span = max(post.at - s.window - first, s.window) / s.window
        best: tuple[float, int, bool, str] | None = None
        floor = max(s.min_authors, s.min_share * len(self._window.authors))
        for term in post.terms:
            count = self._free.customers(term)
            if count < floor or self._common(term):
                continue
            usual = self._before.customers(term) / span
            chance = surprise(count, usual)
            specific = any(c.isdigit() or c == " " for c in term)  # a code, a named line
            rank = (-chance, count, specific, term)
            if count >= s.ratio * usual and chance < s.alpha and (best is None or rank > best):
                best = rank
        return None if best is None else best[3]

    def _open(self, post: Post, members: list[Post], strongest: str) -> Burst:
        s = self.settings
        counts: Counter[str] = Counter()
        surface: dict[str, str] = {}
        for p in members:
            counts.update(p.terms.keys())
            for k, v in p.terms.items():
                surface.setdefault(k, v)
        need = max(2, s.share * len(members))
        ranked = [t for t, n in counts.most_common() if n >= need]
        others = [t for t in ranked if t != strongest and not self._common(t)]
        signature = [strongest, *others][:4]
        burst = Burst(post.key, signature, post.at, surface)
        self.bursts.append(burst)
        return burst
