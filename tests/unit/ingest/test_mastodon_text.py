"""Mastodon status HTML to plain text, and Mastodon's own length rule."""

from __future__ import annotations

import pytest

from carebird.ingest.mastodon.text import count_length, html_to_text

# What Mastodon 4 renders for a post with a mention, a long link, a hashtag and a line break.
MASTODON_HTML = (
    '<p><span class="h-card" translate="no"><a href="https://mastodon.social/@LigneAzur_SAV" '
    'class="u-url mention">@<span>LigneAzur_SAV</span></a></span> mon train 6231 est en '
    "retard &amp; personne ne r&#233;pond<br />voir "
    '<a href="https://www.example.com/status/trains/6231/retards" target="_blank" '
    'rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://www.'
    '</span><span class="ellipsis">example.com/status/trains/62</span><span class="invisible">'
    "31/retards</span></a></p><p>Merci "
    '<a href="https://mastodon.social/tags/SNCF" class="mention hashtag" rel="tag">#<span>SNCF'
    "</span></a></p>"
)


def test_mastodon_html_keeps_words_breaks_and_whole_links() -> None:
    assert html_to_text(MASTODON_HTML) == (
        "@LigneAzur_SAV mon train 6231 est en retard & personne ne répond\n"
        "voir https://www.example.com/status/trains/6231/retards\n\n"
        "Merci #SNCF"
    )


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("", ""),
        ("plain words", "plain words"),
        ("<p>one</p><p>two</p><p>three</p>", "one\n\ntwo\n\nthree"),
        ("<p>a<br>b<br/>c</p>", "a\nb\nc"),
        ("<p>x</p><ul><li>first</li><li>second</li></ul>", "x\n\n- first\n- second"),
        ("<blockquote><p>quoted</p></blockquote><p>answer</p>", "quoted\n\nanswer"),
        ("<p>a &lt;b&gt; &quot;c&quot;</p>", 'a <b> "c"'),
        ("<p>hi</p><script>alert(1)</script>", "hi"),
        ("<p>trailing   <br>next</p>", "trailing\nnext"),
    ],
)
def test_html_shapes(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_count_length_follows_mastodon_not_len() -> None:
    url = "https://www.example.com/" + "x" * 200
    assert count_length(f"see {url}") == len("see ") + 23  # any URL counts 23
    assert count_length("see https://a.fr") == len("see ") + 23  # even a short one
    assert count_length("hi @bob@remote.example") == len("hi @bob")  # domain not counted
    assert count_length("hi @bob") == len("hi @bob")
    assert count_length("👍🏽 e\u0301") == 3  # graphemes, not code points (len() says 5)
    assert count_length("a" * 500) == 500
    assert count_length("body", "cw") == 6  # the content warning counts too
