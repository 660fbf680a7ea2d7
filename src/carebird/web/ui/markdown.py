"""Articles' Markdown to HTML, safely: raw HTML is never passed through (it shows as text),
links and images go only to http(s), mailto or the desk itself (no `javascript:`), and every
link opens without handing the desk's page to the target (rel="nofollow noopener")."""

from __future__ import annotations

import functools
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

SAFE_SCHEMES = ("http://", "https://", "mailto:", "/", "#")


def _safe_link(url: str) -> bool:
    lowered = url.strip().lower()
    return lowered.startswith(SAFE_SCHEMES) and not lowered.startswith("//")


@functools.cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = _safe_link  # type: ignore[method-assign]

    def link_open(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    return md


def render_markdown(text: str) -> Markup:
    """The article's body as HTML, safe to put in a page as it is."""
    return Markup(_parser().render(text or ""))
