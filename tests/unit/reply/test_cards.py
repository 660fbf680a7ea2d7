"""Answer cards render as valid PNGs of the expected size, legibly."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from carebird.reply import cards
from carebird.reply.cards import MAX_HEIGHT, MIN_HEIGHT, WIDTH, drawable, render_card

TEXT = (
    "Bonjour Marie,\nPour un renvoi gratuit, appelez le 01 23 45 67 89 ou écrivez à "
    "aide@ligne-azur.example.\nSuivi : https://suivi.example.com/colis/ABCDEF?lang=fr\n"
    "Merci de votre patience ! ^MC 🙏"
)


def open_png(data: bytes) -> Image.Image:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data))
    image.load()  # decodes every chunk: a truncated or corrupt file fails here
    assert image.format == "PNG"
    return image


def test_a_short_card_is_16_by_9() -> None:
    image = open_png(render_card(TEXT, title="Retard de livraison", brand="Ligne Azur"))
    assert image.size == (WIDTH, MIN_HEIGHT) == (1200, 675)
    # the band carries the brand colour; the body is mostly white with dark text on it
    assert image.getpixel((5, 5)) == cards.COLOURS["band"]
    colours = {c for _, c in image.getcolors(maxcolors=1 << 16) or []}
    assert cards.COLOURS["link"] in colours  # links drawn in their own colour


def test_a_long_card_grows_then_stops() -> None:
    taller = open_png(render_card(TEXT * 4, title="Titre", brand="B"))
    assert taller.size[0] == WIDTH and MIN_HEIGHT < taller.size[1] < MAX_HEIGHT
    huge = open_png(render_card("mot " * 5000, title="Titre", brand="B"))
    assert huge.size == (WIDTH, MAX_HEIGHT)


def test_phones_and_links_are_unbreakable_words() -> None:
    words = cards._words("Appelez le 01 23 45 67 89 ou https://example.com/a.")
    assert [(w.text, w.style) for w in words if w.style != "text"] == [
        ("01 23 45 67 89", "phone"),
        ("https://example.com/a", "link"),
    ]
    assert words[-1].text == "." and words[-1].glued  # the full stop stays with its link
    lines = cards._wrap("x " * 40 + "01 23 45 67 89", WIDTH - 2 * cards.PAD)
    assert any(w.text == "01 23 45 67 89" for line in lines for w in line)


def test_emoji_the_font_lacks_are_dropped() -> None:
    assert drawable("Merci 🙏🏽 !") == "Merci  !"
    assert drawable("☎ 01 23") == "☎ 01 23"  # a symbol the font has stays


def test_pillow_font_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the DejaVu fonts the card still renders, in the font inside Pillow."""
    monkeypatch.setattr(cards, "FONT_DIRS", ())
    cards.font.cache_clear()
    cards._missing.cache_clear()
    try:
        assert "DejaVu" not in str(getattr(cards.font(20), "path", ""))
        image = open_png(render_card("Bonjour 01 23 45 67 89", title="T", brand="B"))
        assert image.size == (WIDTH, MIN_HEIGHT)
    finally:
        cards.font.cache_clear()
        cards._missing.cache_clear()
