"""Personal data in a message: what a public reply must never repeat.

Each finding has a kind and its span, so the composer can mask it or switch to private.
Card numbers are kept only when they pass the Luhn check and IBANs when they pass mod 97, so
ordinary long numbers (tracking codes, timestamps) are not mistaken for them.

A fediverse handle (``@jean@piaille.fr``: an @ at a word start, then user@server) is an
address on a social network, not an e-mail: the Mastodon composer starts every reply to a
customer of another server with one. Invisible format characters (zero-width spaces and
joiners, soft hyphens, bidi controls, BOMs…) are ignored while scanning, so
``06\u200b12\u200b34\u200b56\u200b78`` is still a phone number; findings' spans and values
are those of the text as given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# Not right after an @ that starts a word: "@jean@piaille.fr" is a fediverse handle.
EMAIL = re.compile(
    r"(?<![\w.+-])(?<!(?<![\w.+-])@)[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+(?!\w)"
)
# French (0X XX XX XX XX, +33 X…), UK (07… / +44 7…), North American and other international.
PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+|00)33[\s.-]?[1-9](?:[\s.-]?\d{2}){4}"
    r"|0[1-9](?:[\s.-]?\d{2}){4}"
    r"|(?:\+|00)44[\s.-]?7\d{3}[\s.-]?\d{6}|07\d{3}[\s.-]?\d{6}"
    r"|(?:\+1[\s.-]?)?\(?[2-9]\d{2}\)?[\s.-]\d{3}[\s.-]\d{4}"
    r"|(?:\+|00)[1-9]\d{0,2}(?:[\s.-]?\d{2,4}){3,5}"
    r")(?![\w])"
)
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
# Order, booking, account, customer or case numbers: anchored on the words that introduce them.
_REF_WORDS = (
    "commande|cmd|dossier|réservation|reservation|booking|order|account|compte|client"
    "|contrat|contract|facture|invoice|ticket|référence|reference|ref|pnr|suivi|tracking"
)
REFERENCE = re.compile(
    rf"(?:{_REF_WORDS}|n°\s*client|customer)"
    r"\s*(?:n°|no\.?|num(?:éro|ber)?|#|:|nr\.?|id)?\s*[:#]?\s*"
    r"(?P<ref>[A-Z0-9][A-Z0-9-]{3,24}\d[A-Z0-9-]*|\d{4,})",
    re.I,
)
# REFERENCE is slow to search (re.I defeats the regex engine's quick skip over an alternation
# of words), so its opening words are first looked for, case-sensitively, in the lower-cased
# text: a reference can start no earlier. That is exact unless the text holds one of the three
# letters re.I matches to a letter of those words but str.lower() does not turn into it
# (checked against the whole Unicode range in the tests), or lower-casing changed its length.
_REF_HINT = re.compile(f"{_REF_WORDS}|n°|customer")
_REF_ODD = re.compile("[\u0130\u0131\u017f]")  # İ ı ſ
# Characters that show nothing: every format character (Unicode category Cf: zero-width
# space/joiners, soft hyphen, bidi embeddings, overrides and isolates, word joiner, BOM, tags…),
# plus the combining grapheme joiner, variation selectors and the Hangul fillers.
INVISIBLE = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160"
    "\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\U000e0100-\U000e01ef]"
)
_INVISIBLE_RUN = re.compile(INVISIBLE.pattern + "+")


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # email | phone | iban | card | reference
    start: int
    end: int
    value: str


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(value: str) -> bool:
    s = value.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


_DIGIT = re.compile(r"\d")
_ASCII_DIGIT = re.compile(r"[0-9]")
_NON_DIGIT = re.compile(r"\D")
_IBAN_HINT = re.compile(r"[A-Z]{2}\d{2}")
# A handle has no word character before its @. Written "@ then look behind" rather than
# r"[\w.+-]@[\w-]" so that the search jumps from one @ to the next.
_EMAIL_HINT = re.compile(r"@(?<=[\w.+-]@)[\w-]")


def find_personal_data(text: str) -> list[Finding]:
    text = text[:20_000]
    if INVISIBLE.search(text) is None:
        return _find(text)
    # Scan the text without its invisible characters, then map the spans back onto `text`.
    found = _find(INVISIBLE.sub("", text))
    if not found:
        return found
    kept: list[int] = []  # kept[i]: where the i-th visible character is in `text`
    last = 0
    for run in _INVISIBLE_RUN.finditer(text):
        kept.extend(range(last, run.start()))
        last = run.end()
    kept.extend(range(last, len(text)))
    out = []
    for f in found:
        start, end = kept[f.start], kept[f.end - 1] + 1
        out.append(Finding(f.kind, start, end, text[start:end]))
    return out


def _find(text: str) -> list[Finding]:
    # Cheap tests first: most messages hold no e-mail and too few digits for anything else.
    has_at = "@" in text and _EMAIL_HINT.search(text) is not None
    digits = len(_ASCII_DIGIT.findall(text))  # ASCII digits (str.translate is slow off ASCII)
    if not has_at and digits < 4:
        return []
    spans: list[_Span] = []
    if has_at:
        spans.extend(("email", m.start(), m.end()) for m in EMAIL.finditer(text))
    for least_digits, numbers in _NUMBERS:
        if digits >= least_digits:
            spans.extend(numbers(text))
    return _first_come(text, spans)


_Span = tuple[str, int, int]  # kind, start, end


def _ibans(text: str) -> Iterator[_Span]:
    if _IBAN_HINT.search(text):
        for m in IBAN.finditer(text):
            if _iban_ok(m.group()):
                yield "iban", m.start(), m.end()


def _cards(text: str) -> Iterator[_Span]:
    for m in CARD.finditer(text):
        number = _NON_DIGIT.sub("", m.group())
        if 13 <= len(number) <= 19 and _luhn(number):
            yield "card", m.start(), m.end()


def _phones(text: str) -> Iterator[_Span]:
    for m in PHONE.finditer(text):
        if len(_DIGIT.findall(m.group())) >= 9:
            yield "phone", m.start(), m.end()


def _references(text: str) -> Iterator[_Span]:
    start = _reference_start(text)
    if start is not None:
        for m in REFERENCE.finditer(text, start):
            yield "reference", m.start("ref"), m.end("ref")


# The numbers' finders, most specific first, each with the fewest ASCII digits it can match.
_NUMBERS: tuple[tuple[int, Callable[[str], Iterator[_Span]]], ...] = (
    (4, _ibans),
    (13, _cards),
    (9, _phones),
    (4, _references),
)


def _first_come(text: str, spans: list[_Span]) -> list[Finding]:
    """The findings of `spans` in text order, skipping any overlapping an earlier one (already
    covered by a more specific finding)."""
    found: list[Finding] = []
    taken: list[tuple[int, int]] = []
    for kind, start, end in spans:
        if any(start < e and s < end for s, e in taken):
            continue
        taken.append((start, end))
        found.append(Finding(kind, start, end, text[start:end]))
    return sorted(found, key=lambda f: f.start)


def _reference_start(text: str) -> int | None:
    """Where REFERENCE's first match can start at the earliest, or None if it has none."""
    if _REF_ODD.search(text):
        return 0
    lowered = text.lower()
    hint = _REF_HINT.search(lowered)
    if hint is None:
        return None
    # Positions carry over only when every character lower-cased to exactly one.
    return hint.start() if len(lowered) == len(text) else 0


def mask(text: str, findings: list[Finding]) -> str:
    """The text with every finding replaced by a placeholder of its kind."""
    out, last = [], 0
    for f in sorted(findings, key=lambda f: f.start):
        out.append(text[last : f.start])
        out.append(f"[{f.kind}]")
        last = f.end
    out.append(text[last:])
    return "".join(out)
