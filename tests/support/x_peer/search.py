"""The recent-search query language, as far as carebird uses it.

Supported: bare words and "quoted phrases" (case-insensitive, whole words), @mention, from:,
to:, conversation_id:, is:retweet / is:reply / is:quote, lang:, a leading - to negate any of
them, and OR between groups of terms. Anything else is refused (400), as X refuses an unknown
operator: a query the peer cannot evaluate must not silently match nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.x_peer.state import Post, XState

Predicate = Callable[["Post"], bool]
_OPERATORS = ("from", "to", "conversation_id", "is", "lang")


class QueryError(ValueError):
    pass


_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')


def compile_query(query: str, state: XState) -> Predicate:
    if query.count('"') % 2:
        raise QueryError("unbalanced quotes in query")
    groups: list[list[Predicate]] = [[]]
    for sign, phrase, bare in _TOKEN.findall(query):
        if bare == "OR":
            groups.append([])
            continue
        if bare:
            negate = bare.startswith("-") and len(bare) > 1
            predicate = _positive(bare[1:] if negate else bare, state, quoted=False)
        else:
            negate, predicate = sign == "-", _positive(phrase, state, quoted=True)
        groups[-1].append(_negated(predicate) if negate else predicate)
    if any(not g for g in groups):
        raise QueryError("empty group around OR")
    return lambda post: any(all(p(post) for p in group) for group in groups)


def _negated(predicate: Predicate) -> Predicate:
    return lambda post: not predicate(post)


def _positive(body: str, state: XState, *, quoted: bool) -> Predicate:
    if not quoted and body.startswith("@") and len(body) > 1:
        name = body[1:].lower()
        return lambda post: name in post.mentioned
    name, sep, value = body.partition(":")
    if sep and not quoted and name in _OPERATORS:
        value_lower = value.lower()
        if name == "from":
            return lambda post: state.users[post.author_id].username.lower() == value_lower
        if name == "to":
            return lambda post: (
                post.in_reply_to_user_id is not None
                and (state.users[post.in_reply_to_user_id].username.lower() == value_lower)
            )
        if name == "conversation_id":
            return lambda post: post.conversation_id == value
        if name == "lang":
            return lambda post: post.lang == value_lower
        kinds = {"retweet": "retweeted", "reply": "replied_to", "quote": "quoted"}
        if value_lower not in kinds:
            raise QueryError(f"unsupported operator is:{value}")
        kind = kinds[value_lower]
        return lambda post: any(t == kind for t, _ in post.refs)
    if sep and not quoted and re.fullmatch(r"[a-z_]+", name):
        raise QueryError(f"unsupported operator {name}:")
    pattern = re.compile(rf"(?<!\w){re.escape(body.lower())}(?!\w)")
    return lambda post: pattern.search(post.text.lower()) is not None
