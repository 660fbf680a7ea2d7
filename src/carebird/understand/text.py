"""Text normalisation shared by every model: what varies without changing meaning is folded."""

from __future__ import annotations

import re

_URL = re.compile(r"https?://\S+|www\.\S+", re.I)
_USER = re.compile(r"(?<!\w)@\w{1,50}")
_NUM = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
MAX_MODEL_CHARS = 1_000  # models read the start of a message; long texts cost nothing more


def for_model(text: str) -> str:
    """Lower-case, URLs/handles/digits replaced by placeholders, spaces collapsed."""
    text = text[:MAX_MODEL_CHARS].lower()
    text = _URL.sub(" _url_ ", text)
    text = _USER.sub(" _user_ ", text)
    text = _NUM.sub("0", text)
    return _SPACE.sub(" ", text).strip()
