"""Mastodon text rules: status HTML to plain text, and the length Mastodon counts.

A status's `content` is HTML rendered by the author's server: paragraphs, `<br>`, links whose
visible text is split into spans (`<span class="invisible">https://</span>…`), mentions and
hashtags as `h-card`/`hashtag` links, and from other servers sometimes lists, quotes and code.
We keep the words a reader sees, line breaks and paragraphs, and a link's full text (the
invisible spans included, so a URL comes out whole).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from mastodon import Mastodon

_BLOCKS = {"p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
_SKIPPED = {"script", "style", "template"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def _break(self, lines: int) -> None:
        """End the current line(s), never adding more breaks than asked at one place."""
        if not self.parts:
            return
        tail = "".join(self.parts[-2:])
        have = len(tail) - len(tail.rstrip("\n"))
        if have < lines:
            self.parts.append("\n" * (lines - have))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self._break(2)
        elif tag == "li":
            self._break(1)
            self.parts.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS:
            self._break(2)
        elif tag == "li":
            self._break(1)

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+\n")
_MANY_BREAKS = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """The plain text of a status's HTML: paragraphs apart by a blank line, `<br>` as a break."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return html.strip()
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    text = "".join(collector.parts).replace("\r\n", "\n")
    text = _TRAILING_SPACE.sub("\n", text)
    return _MANY_BREAKS.sub("\n\n", text).strip()


def count_length(text: str, spoiler_text: str = "") -> int:
    """The length Mastodon checks against `max_characters`, not `len()`.

    Mastodon counts grapheme clusters, every URL as 23 characters whatever its length, and a
    mention `@user@domain` as `@user` only. Mastodon.py implements the same rule with the
    server's URL regex (it needs its optional `grapheme` extra, the `graphemeu` package).
    """
    return Mastodon.get_status_length(text, spoiler_text)
