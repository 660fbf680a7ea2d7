"""Answer cards: a template or text rendered as a PNG to attach to a reply.

A card says more than a post holds and stays legible where a thread would sprawl: the brand on
a band, a title, then the text wrapped to the width, links and e-mails in blue and underlined,
phone numbers in bold — neither ever broken across two lines unless wider than the card.
Fonts: DejaVu Sans from the Debian fonts package when present, else the font inside Pillow;
nothing is downloaded. 1200 px wide (what X shows uncropped), at least 675 px high (16:9).
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from carebird.understand.pii import EMAIL, PHONE

WIDTH, MIN_HEIGHT, MAX_HEIGHT = 1200, 675, 2400
PAD = 64
BAND = 96  # the brand's band at the top
TITLE_SIZE, BODY_SIZE, BRAND_SIZE = 46, 34, 32
LINE = 1.45  # line height, in font sizes
COLOURS = {
    "band": (16, 76, 129),
    "band_text": (255, 255, 255),
    "background": (255, 255, 255),
    "title": (20, 24, 31),
    "text": (33, 37, 41),
    "link": (10, 88, 202),
    "phone": (20, 24, 31),
}
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
_NON_SPACE = re.compile(r"\S+")
_LINK = re.compile(r"(?i)\b(?:https?://|www\.)\S+[^\s.,;:!?»)\]'\"]")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def font(size: int, *, bold: bool = False) -> Font:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return ImageFont.truetype(str(folder / name), size)
    return ImageFont.load_default(size)  # Pillow's own scalable font: no bold, still legible


_JOINERS = frozenset("\u200d\ufe0e\ufe0f")  # parts of emoji sequences, invisible alone


@cache
def _missing(ch: str) -> bool:
    """Whether the body font lacks `ch` (it would draw the same box as a private-use point)."""
    f = font(BODY_SIZE)
    mask, blank = f.getmask(ch), f.getmask("\U000f0000")
    return mask.size == blank.size and bytes(mask) == bytes(blank)


def drawable(text: str) -> str:
    """`text` without the emoji the font cannot draw (letters it lacks still show as boxes)."""
    return "".join(
        ch
        for ch in text
        if ch not in _JOINERS
        and not (unicodedata.category(ch) in ("So", "Sk") and ord(ch) > 0x2000 and _missing(ch))
    )


@dataclass(frozen=True)
class _Word:
    text: str
    style: str  # text | link | phone
    glued: bool = False  # no space before it ("." after a link)

    @property
    def font(self) -> Font:
        return font(BODY_SIZE, bold=self.style == "phone")

    def width(self) -> float:
        return self.font.getlength(self.text)


def _highlights(paragraph: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for style, pattern in (("link", EMAIL), ("link", _LINK), ("phone", PHONE)):
        for m in pattern.finditer(paragraph):
            if all(m.end() <= s or m.start() >= e for s, e, _ in spans):
                spans.append((m.start(), m.end(), style))
    return sorted(spans)


def _words(paragraph: str) -> list[_Word]:
    """Plain words, and links and phone numbers as single unbreakable words."""
    words: list[_Word] = []

    def add(text: str, style: str, start: int) -> None:
        glued = bool(words) and not paragraph[start - 1].isspace()
        words.append(_Word(text, style, glued))

    at = 0
    for start, end, style in [*_highlights(paragraph), (len(paragraph), len(paragraph), "")]:
        for m in _NON_SPACE.finditer(paragraph, at, start):
            add(m.group(), "text", m.start())
        if style:
            add(paragraph[start:end], style, start)
        at = end
    return words


def _cut(word: _Word, room: float) -> list[_Word]:
    """A word wider than the card, cut into pieces that fit."""
    pieces: list[_Word] = []
    current = ""
    for ch in word.text:
        if current and word.font.getlength(current + ch) > room:
            pieces.append(_Word(current, word.style, word.glued and not pieces))
            current = ""
        current += ch
    return [*pieces, _Word(current, word.style, word.glued and not pieces)]


def _wrap(text: str, room: float) -> list[list[_Word]]:
    space = font(BODY_SIZE).getlength(" ")
    lines: list[list[_Word]] = []
    for paragraph in text.splitlines() or [""]:
        line: list[_Word] = []
        used = 0.0
        for word in _words(paragraph):
            for piece in _cut(word, room) if word.width() > room else [word]:
                gap = 0.0 if piece.glued or not line else space
                if line and used + gap + piece.width() > room:
                    # a glued "." or "»" takes its word along to the next line
                    carry = [line.pop()] if piece.glued and len(line) > 1 else []
                    lines.append(line)
                    line = carry
                    used = _line_width(line, space)
                    gap = 0.0 if piece.glued or not line else space
                used += gap + piece.width()
                line.append(piece)
        lines.append(line)
    return lines


def _line_width(line: list[_Word], space: float) -> float:
    return sum(w.width() + (space if i and not w.glued else 0.0) for i, w in enumerate(line))


def _title_lines(title: str, room: float) -> list[str]:
    big = font(TITLE_SIZE, bold=True)
    lines: list[str] = []
    for word in title.split():
        if lines and big.getlength(f"{lines[-1]} {word}") <= room:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines[:2]


def render_card(text: str, *, title: str, brand: str) -> bytes:
    """The card as PNG bytes: WIDTH wide, MIN_HEIGHT to MAX_HEIGHT high."""
    room = WIDTH - 2 * PAD
    body_line = int(BODY_SIZE * LINE)
    title_line = int(TITLE_SIZE * LINE)
    titles = _title_lines(title, room)
    top = BAND + PAD + len(titles) * title_line + (PAD // 2 if titles else 0)
    lines = _wrap(drawable(text).strip(), room)
    fits = max(1, (MAX_HEIGHT - top - PAD) // body_line)
    height = max(MIN_HEIGHT, top + len(lines) * body_line + PAD)
    if len(lines) > fits:  # longer than any card: end on an ellipsis
        lines = [*lines[: fits - 1], [_Word("…", "text")]]
        height = MAX_HEIGHT

    image = Image.new("RGB", (WIDTH, height), COLOURS["background"])
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, BAND), fill=COLOURS["band"])
    draw.text((PAD, BAND // 2), brand, font=font(BRAND_SIZE, bold=True),
              fill=COLOURS["band_text"], anchor="lm")  # fmt: skip
    y = BAND + PAD
    for line_text in titles:
        draw.text((PAD, y), line_text, font=font(TITLE_SIZE, bold=True), fill=COLOURS["title"])
        y += title_line
    y += PAD // 2 if titles else 0
    space = font(BODY_SIZE).getlength(" ")
    for line in lines:
        x = float(PAD)
        for i, word in enumerate(line):
            x += space if i and not word.glued else 0.0
            colour = COLOURS[word.style] if word.style != "text" else COLOURS["text"]
            draw.text((x, y), word.text, font=word.font, fill=colour)
            w = word.width()
            if word.style == "link":
                underline = y + BODY_SIZE + 4
                draw.line((x, underline, x + w, underline), fill=colour, width=2)
            x += w
        y += body_line
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
