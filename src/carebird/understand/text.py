"""Text normalisation shared by every model: what varies without changing meaning is folded."""

from __future__ import annotations

import re

# The rules as written; for_model runs the equivalent faster forms below (tests compare them).
_URL = re.compile(r"https?://\S+|www\.\S+", re.I)
_USER = re.compile(r"(?<!\w)@\w{1,50}")
_NUM = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
MAX_MODEL_CHARS = 1_000  # models read the start of a message; long texts cost nothing more

# The same patterns, written so that the regex engine can skip ahead to their first character
# (a leading look-behind or re.I stops it from doing so). On lower-cased text `_URL` can only
# start at an "h" or a "w" ("ſ" is the one non-ASCII letter re.I folds onto "s"), and
# `(?<!\w)@` is `@` not preceded by a word character.
_URL_FAST = re.compile(r"[hw](?:(?<=h)ttp[sſ]?://|(?<=w)ww\.)\S+")
_USER_FAST = re.compile(r"@(?<!\w@)\w{1,50}")


def for_model(text: str) -> str:
    """Lower-case, URLs/handles/digits replaced by placeholders, spaces collapsed."""
    return for_model_lowered(text[:MAX_MODEL_CHARS].lower())


def for_model_lowered(text: str) -> str:
    """`for_model` of a text already cut to MAX_MODEL_CHARS and lower-cased."""
    if "://" in text or "www." in text:  # neither: no URL (cheaper than the search)
        text = _URL_FAST.sub(" _url_ ", text)
    if "@" in text:
        text = _USER_FAST.sub(" _user_ ", text)
    text = _NUM.sub("0", text)
    # str.split() splits on exactly the characters `\s` matches (Unicode whitespace), so this
    # is `_SPACE.sub(" ", text).strip()` without the regex.
    return " ".join(text.split())
