"""Extended grapheme clusters (Unicode UAX #29), which is how Bluesky counts a post's length.

The `regex` package (`\\X`) is not a dependency, and the standard library's `unicodedata` has no
Grapheme_Cluster_Break property, so the break classes are derived here from general categories
plus the explicit code-point lists the rules need. Correct for what people type: combining marks,
emoji with skin tones, ZWJ sequences (families, professions), flags (regional-indicator pairs),
keycaps, tag sequences (subdivision flags), Hangul syllables and jamo, CR LF, Indic conjuncts
(GB9c for the six scripts Unicode 15.1 lists). Approximations: Extended_Pictographic is taken as
whole blocks (it may count an unassigned code point in an emoji block as a pictograph), and the
few Mc characters that are really Grapheme_Extend are treated as SpacingMark, which never changes
where a cluster ends.
"""

from __future__ import annotations

import bisect
import enum
import itertools
import unicodedata
from collections.abc import Iterator


class _B(enum.IntEnum):
    OTHER = 0
    CR = 1
    LF = 2
    CONTROL = 3
    EXTEND = 4
    ZWJ = 5
    RI = 6
    PREPEND = 7
    SPACING = 8
    L = 9
    V = 10
    T = 11
    LV = 12
    LVT = 13
    PICTO = 14


_PREPEND = {0x06DD, 0x070F, 0x08E2, 0x0D4E, 0x110BD, 0x110CD, 0x1193F, 0x11941, 0x11A3A, 0x11D46}
_PREPEND_RANGES = ((0x0600, 0x0605), (0x0890, 0x0891), (0x111C2, 0x111C3), (0x11A84, 0x11A89))
# Extended_Pictographic, by blocks and the scattered symbols emoji presentation applies to.
_PICTO_RANGES = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x2388, 0x2388),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x2605),
    (0x2607, 0x2612),
    (0x2614, 0x2685),
    (0x2690, 0x2705),
    (0x2708, 0x2712),
    (0x2714, 0x2714),
    (0x2716, 0x2716),
    (0x271D, 0x271D),
    (0x2721, 0x2721),
    (0x2728, 0x2728),
    (0x2733, 0x2734),
    (0x2744, 0x2744),
    (0x2747, 0x2747),
    (0x274C, 0x274C),
    (0x274E, 0x274E),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2763, 0x2767),
    (0x2795, 0x2797),
    (0x27A1, 0x27A1),
    (0x27B0, 0x27B0),
    (0x27BF, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F0FF),
    (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F),
    (0x1F16C, 0x1F171),
    (0x1F17E, 0x1F17F),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F1AD, 0x1F1E5),
    (0x1F201, 0x1F20F),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A),
    (0x1F23C, 0x1F23F),
    (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D),
    (0x1F546, 0x1F64F),
    (0x1F680, 0x1F6FF),
    (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF),
    (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F),
    (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)
# GB9c (Indic conjuncts): InCB=Linker viramas and InCB=Consonant letters.
_LINKERS = {0x094D, 0x09CD, 0x0ACD, 0x0B4D, 0x0C4D, 0x0D4D}
_CONSONANT_RANGES = (
    (0x0915, 0x0939),
    (0x0958, 0x095F),
    (0x0978, 0x097F),
    (0x0995, 0x09A8),
    (0x09AA, 0x09B0),
    (0x09B2, 0x09B2),
    (0x09B6, 0x09B9),
    (0x09DC, 0x09DD),
    (0x09DF, 0x09DF),
    (0x09F0, 0x09F1),
    (0x0A95, 0x0AA8),
    (0x0AAA, 0x0AB0),
    (0x0AB2, 0x0AB3),
    (0x0AB5, 0x0AB9),
    (0x0AF9, 0x0AF9),
    (0x0B15, 0x0B28),
    (0x0B2A, 0x0B30),
    (0x0B32, 0x0B33),
    (0x0B35, 0x0B39),
    (0x0B5C, 0x0B5D),
    (0x0B5F, 0x0B5F),
    (0x0B71, 0x0B71),
    (0x0C15, 0x0C28),
    (0x0C2A, 0x0C39),
    (0x0C58, 0x0C5A),
    (0x0D15, 0x0D3A),
)


def _in(cp: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def _fixed_classes() -> tuple[list[int], list[tuple[int, int, _B]]]:
    """The code points whose break class does not follow from their general category, as
    disjoint (first, last, class) ranges sorted by first (for bisect), and their firsts."""
    ranges = [
        (0x200D, 0x200D, _B.ZWJ),
        (0x1F1E6, 0x1F1FF, _B.RI),
        # skin-tone modifiers, tag characters, ZWNJ, halfwidth voiced marks
        (0x1F3FB, 0x1F3FF, _B.EXTEND),
        (0xE0020, 0xE007F, _B.EXTEND),
        (0x200C, 0x200C, _B.EXTEND),
        (0xFF9E, 0xFF9F, _B.EXTEND),
        *((cp, cp, _B.PREPEND) for cp in _PREPEND),
        *((lo, hi, _B.PREPEND) for lo, hi in _PREPEND_RANGES),
        # Hangul jamo (leading, vowel, trailing) and syllables (LV every 28th, else LVT)
        (0x1100, 0x115F, _B.L),
        (0x1160, 0x11A7, _B.V),
        (0x11A8, 0x11FF, _B.T),
        (0xA960, 0xA97C, _B.L),
        (0xD7B0, 0xD7C6, _B.V),
        (0xD7CB, 0xD7FB, _B.T),
        (0xAC00, 0xD7A3, _B.LV),
        *((lo, hi, _B.PICTO) for lo, hi in _PICTO_RANGES),
        (0x0E33, 0x0E33, _B.SPACING),  # Thai and Lao sara am
        (0x0EB3, 0x0EB3, _B.SPACING),
    ]
    ranges.sort()
    for (_, last, _), (first, _, _) in itertools.pairwise(ranges):
        if first <= last:
            raise AssertionError(f"overlapping break-class ranges at U+{first:04X}")
    return [first for first, _, _ in ranges], ranges


_FIXED_FIRSTS, _FIXED = _fixed_classes()
_BY_CATEGORY = {
    "Mn": _B.EXTEND,
    "Me": _B.EXTEND,
    "Mc": _B.SPACING,
    "Cc": _B.CONTROL,
    "Zl": _B.CONTROL,
    "Zp": _B.CONTROL,
    "Cf": _B.CONTROL,
}


def _break_class(ch: str) -> _B:
    cp = ord(ch)
    if cp < 0x7F:  # ASCII fast path
        return _B.CR if cp == 13 else _B.LF if cp == 10 else _B.CONTROL if cp < 32 else _B.OTHER
    i = bisect.bisect_right(_FIXED_FIRSTS, cp) - 1
    if i >= 0:
        _, last, cls = _FIXED[i]
        if cp <= last:
            if cls is _B.LV:
                return _B.LV if (cp - 0xAC00) % 28 == 0 else _B.LVT
            return cls
    return _BY_CATEGORY.get(unicodedata.category(ch), _B.OTHER)


_HANGUL_JOINS = {
    (_B.L, _B.L), (_B.L, _B.V), (_B.L, _B.LV), (_B.L, _B.LVT),
    (_B.LV, _B.V), (_B.V, _B.V), (_B.LV, _B.T), (_B.V, _B.T),
    (_B.LVT, _B.T), (_B.T, _B.T),
}  # fmt: skip


def iter_graphemes(text: str) -> Iterator[str]:
    """The extended grapheme clusters of `text`, in order."""
    start, prev = 0, None
    ri_run = 0  # regional indicators since the last non-RI (GB12/GB13 pair them)
    picto = False  # inside ExtPict Extend* (GB11)
    picto_zwj = False  # ... followed by a ZWJ
    conjunct = 0  # GB9c: 0 none, 1 after a consonant, 2 after consonant ... linker
    for i, ch in enumerate(text):
        cur = _break_class(ch)
        cp = ord(ch)
        if prev is not None and _boundary(prev, cur, ri_run, picto_zwj, conjunct, cp):
            yield text[start:i]
            start = i
        # update the running state used by GB9c, GB11 and GB12/13
        ri_run = ri_run + 1 if cur is _B.RI else 0
        if cur is _B.PICTO:
            picto, picto_zwj = True, False
        elif cur is _B.EXTEND and picto and not picto_zwj:
            pass
        elif cur is _B.ZWJ and picto and not picto_zwj:
            picto_zwj = True
        else:
            picto = picto_zwj = False
        if _in(cp, _CONSONANT_RANGES):
            conjunct = 1
        elif cp in _LINKERS and conjunct:
            conjunct = 2
        elif not (cur in (_B.EXTEND, _B.ZWJ) and conjunct):
            conjunct = 0
        prev = cur
    if start < len(text):
        yield text[start:]


def _boundary(prev: _B, cur: _B, ri_run: int, picto_zwj: bool, conjunct: int, cp: int) -> bool:
    if prev is _B.CR and cur is _B.LF:  # GB3
        return False
    if prev in (_B.CONTROL, _B.CR, _B.LF) or cur in (_B.CONTROL, _B.CR, _B.LF):  # GB4, GB5
        return True
    if (prev, cur) in _HANGUL_JOINS:  # GB6-8
        return False
    if cur in (_B.EXTEND, _B.ZWJ, _B.SPACING) or prev is _B.PREPEND:  # GB9, GB9a, GB9b
        return False
    if conjunct == 2 and _in(cp, _CONSONANT_RANGES):  # GB9c
        return False
    if prev is _B.ZWJ and cur is _B.PICTO and picto_zwj:  # GB11
        return False
    if prev is _B.RI and cur is _B.RI:  # GB12, GB13: pairs
        return ri_run % 2 == 0
    return True  # GB999


def grapheme_count(text: str) -> int:
    """How many user-perceived characters `text` has (what Bluesky's 300 limit counts)."""
    if text.isascii():
        # ASCII clusters are single characters except CR LF pairs
        return len(text) - text.count("\r\n")
    return sum(1 for _ in iter_graphemes(text))
