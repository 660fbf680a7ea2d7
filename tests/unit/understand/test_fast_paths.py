"""The understanding step's shortcuts give exactly what the plain reading of its rules gives.

Language, cues, personal data, normalisation and scores skip work they can prove useless
(a regex the text cannot match, a lower-casing done twice, a per-row loop numpy can do).
Each plain version is written out here and compared with the fast one on ordinary and on
hostile text; the Unicode facts the shortcuts rely on are checked over every code point.
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Sequence
from functools import cache

import numpy as np
import pytest

from carebird.cases.priority import DEFAULT_WEIGHTS, CaseSignals, score
from carebird.understand import classifier as classifier_module
from carebird.understand import cues, language, pii, text
from carebird.understand.classifier import TextScores, score_columns, scores_from
from carebird.understand.labels import CATEGORIES, SENTIMENTS
from carebird.understand.service import Understander

# -- the plain versions ----------------------------------------------------------------------


def plain_for_model(t: str) -> str:
    t = t[: text.MAX_MODEL_CHARS].lower()
    t = text._URL.sub(" _url_ ", t)
    t = text._USER.sub(" _user_ ", t)
    t = text._NUM.sub("0", t)
    return text._SPACE.sub(" ", t).strip()


def plain_detect(t: str) -> str:
    t = language._STRIP.sub(" ", t[:2000])
    if not language._ALPHA.search(t):
        return "und"
    if language._NON_LATIN.search(t):
        letters = len(language._ALPHA.findall(t))
        for code, script in language._SCRIPTS:
            if len(script.findall(t)) * 2 >= letters:
                return code
    lowered = t.lower()
    scores = dict.fromkeys(language._WORDS, 0.0)
    for w in language._WORD.findall(lowered):
        for lang in language._LANGS_OF.get(w, ()):
            scores[lang] += 1.0
    for lang, chars in language._LETTERS.items():
        for ch in chars:
            if ch in lowered:
                scores[lang] += 1.5 * lowered.count(ch)
    best = max(scores, key=scores.__getitem__)
    if scores[best] == 0:
        return "und"
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] == ranked[1]:
        if scores["fr"] == ranked[0] and any(ch in lowered for ch in language._LETTERS["fr"]):
            return "fr"
        if scores["en"] == ranked[0]:
            return "en"
    return best


def plain_cues(t: str) -> list[str]:
    lowered = t[:5000].lower()
    return [name for name, rx in cues.CUES.items() if rx.search(lowered)]


def plain_personal_data(t: str) -> list[tuple[str, int, int, str]]:
    """The scan of the text without its invisible characters, spans mapped back onto it."""
    t = t[:20_000]
    kept = [i for i, ch in enumerate(t) if not pii.INVISIBLE.fullmatch(ch)]
    found = plain_visible_personal_data("".join(t[i] for i in kept))
    return [
        (kind, kept[s], kept[e - 1] + 1, t[kept[s] : kept[e - 1] + 1]) for kind, s, e, _ in found
    ]


def plain_visible_personal_data(t: str) -> list[tuple[str, int, int, str]]:
    has_at = "@" in t and re.search(r"[\w.+-]@[\w-]", t) is not None
    digits = len(t) - len(t.translate(str.maketrans("", "", "0123456789")))
    if not has_at and digits < 4:
        return []
    found: list[tuple[str, int, int, str]] = []

    def add(kind: str, start: int, end: int) -> None:
        if not any(start < e and s < end for _, s, e, _ in found):
            found.append((kind, start, end, t[start:end]))

    if has_at:
        for m in pii.EMAIL.finditer(t):
            add("email", m.start(), m.end())
    if digits >= 4 and re.search(r"[A-Z]{2}\d{2}", t):
        for m in pii.IBAN.finditer(t):
            if pii._iban_ok(m.group()):
                add("iban", m.start(), m.end())
    if digits >= 13:
        for m in pii.CARD.finditer(t):
            number = re.sub(r"\D", "", m.group())
            if 13 <= len(number) <= 19 and pii._luhn(number):
                add("card", m.start(), m.end())
    if digits >= 9:
        for m in pii.PHONE.finditer(t):
            if len(re.findall(r"\d", m.group())) >= 9:
                add("phone", m.start(), m.end())
    if digits >= 4:
        for m in pii.REFERENCE.finditer(t):
            add("reference", m.start("ref"), m.end("ref"))
    return sorted(found, key=lambda f: f[1])


# -- texts -----------------------------------------------------------------------------------


def words(pieces: str) -> list[str]:
    return pieces.split(" ")


PIECES = [
    *words("http:// https://x.y HTTPS://X hTtP://a httpſ://b HTTPſ://le/la www. WWW.x wWw. ://"),
    *words("https://x.fr/le/la/les http://the/and WWW.le-la.fr/et www.the.com #the #le @le"),
    *words("@ @@ a@b @user @İx é@x _@x # #tag x.y+z@ex-ample.fr @-x"),
    *words("1 12 1234 0612345678 ٣٣٣٣ ² ½ Ⅻ 06 39 98 73 30 +33 6 12 34 56 78"),
    *("FR76 3000 6000 0112 3456 7890 189", "4111 1111 1111 1111", "(415) 555-2671"),
    *("order #A12345", "commande n° 123456", "N°  CLIENT 12345", "Ref: AB-1234", "İnvoice 9999"),
    *("ınvoice 1234", "ſuivi 12345", "booKing 1234", "RÉFÉRENCE 123456", "cmd#4567", "pnr 1234"),
    *words("panne en rade coupé hs down outage not working doesn't work doesnt no signal"),
    *words("urgent asap immédiatement depuis since for 3 jours days hier yesterday le 12"),
    *words("toujours rien still no no answer relance 2e 3ème 4th fois time résilier"),
    *("switch to", "cancelling my", "never again", "60 millions", "ufc", "danger", "blessées"),
    *words("gas leak fumée feu fire accident porter plainte plus de réseau ne marche pas"),
    *words("le la les et the and you is el der und il een de a e o y j'ai aujourd'hui"),
    *words("é è ê à ù ç œ ñ ¿ ¡ ä ö ü ß ã õ ì É À Ñ Ü ẞ İ ı ſ K ǅ ﬁ"),
    *words("Привет мир 你好 こんにちは 안녕 שלום مرحبا Γειά สวัสดี नमस्ते"),
    *words("😀 😡 👏 \u0301 \u200b \ufeff \u202e \x00 \x1c \x85 \u2028 \u00a0"),
    *(" ", "  ", "\t", "\n", "'", "''", ",", ".", "!", "?", "-", "_", ":", "/", "x", "h", "w"),
]


@cache
def corpus() -> tuple[str, ...]:
    rnd = random.Random(20_000)
    texts = [
        "",
        " ",
        "a" * 3000,
        "İ" * 1500 + " panne urgent order 12345",
        "x" * 999 + "@user 1234 panne",
        "x" * 1001 + " @user 1234 panne",
        "ß" * 2500 + " merci",
        "1234 " * 500,
        "@Brand 😡😡 https://t.co/abc",
    ]
    for _ in range(4000):
        n = rnd.randint(0, 25)
        texts.append(
            "".join(rnd.choice(PIECES) + rnd.choice(["", " ", " ", "  "]) for _ in range(n))
        )
    return tuple(texts)


# -- the rules -------------------------------------------------------------------------------


def test_normalisation_is_the_plain_one() -> None:
    assert [text.for_model(t) for t in corpus()] == [plain_for_model(t) for t in corpus()]


def test_language_is_the_plain_one() -> None:
    assert [language.detect_by_words(t) for t in corpus()] == [plain_detect(t) for t in corpus()]


def test_cues_are_the_plain_ones() -> None:
    assert [cues.find_cues(t) for t in corpus()] == [plain_cues(t) for t in corpus()]


def test_personal_data_is_the_plain_one() -> None:
    fast = [
        [(f.kind, f.start, f.end, f.value) for f in pii.find_personal_data(t)] for t in corpus()
    ]
    assert fast == [plain_personal_data(t) for t in corpus()]


def test_references_are_found_from_where_they_can_start() -> None:
    for t in corpus():
        start = pii._reference_start(t)
        every = [(m.start(), m.group()) for m in pii.REFERENCE.finditer(t)]
        assert every == (
            []
            if start is None
            else [(m.start(), m.group()) for m in pii.REFERENCE.finditer(t, start)]
        )


# -- the Unicode facts the shortcuts rely on --------------------------------------------------


@cache
def every_character() -> str:
    return "".join(map(chr, range(sys.maxunicode + 1)))


def folds_onto(letters: str) -> dict[str, set[str]]:
    """For each letter, the characters re.I matches to it."""
    return {
        letter: set(re.findall(re.escape(letter), every_character(), re.I))
        for letter in set(letters)
    }


def test_whitespace_of_the_regex_is_the_whitespace_of_split() -> None:
    chars = every_character()
    assert set(re.findall(r"\s", chars)) == {c for c in chars if c.isspace()}


def test_the_url_and_handle_patterns_start_only_where_the_fast_ones_look() -> None:
    # re.I folds onto h, t, p, s, w only their capitals and "ſ" (onto s): the fast patterns
    # spell exactly those out.
    for letter, chars in folds_onto("htpsw").items():
        assert chars - {letter, letter.upper()} == ({"ſ"} if letter == "s" else set())


def test_reference_words_lower_case_to_themselves_but_for_three_letters() -> None:
    words = "".join(re.findall(r"[^\W\d_]|°", pii._REF_WORDS + "n°customer"))
    odd = set(pii._REF_ODD.findall(every_character()))
    assert odd == {"\u0130", "\u0131", "\u017f"}
    for letter, chars in folds_onto(words).items():
        assert {c for c in chars if c.lower() != letter} <= odd


# -- scores ----------------------------------------------------------------------------------


def by_row(
    cat_labels: Sequence[str],
    cat: np.ndarray,
    sent_labels: Sequence[str],
    sent: np.ndarray,
    comp: np.ndarray,
) -> list[tuple[object, ...]]:
    return [
        (
            s.category,
            repr(s.category_scores),
            s.sentiment,
            repr(s.sentiment_scores),
            repr(s.complaint),
        )
        for s in classifier_module._scores_by_row(cat_labels, cat, sent_labels, sent, comp)
    ]


def as_rows(scores: list[TextScores]) -> list[tuple[object, ...]]:
    return [
        (
            s.category,
            repr(s.category_scores),
            s.sentiment,
            repr(s.sentiment_scores),
            repr(s.complaint),
        )
        for s in scores
    ]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rows", [0, 1, 257])
def test_scores_by_column_are_the_scores_by_row(dtype: type, rows: int) -> None:
    rng = np.random.default_rng(rows)
    cat: np.ndarray = rng.random((rows, len(CATEGORIES))).astype(dtype)
    sent: np.ndarray = rng.random((rows, len(SENTIMENTS))).astype(dtype)
    comp: np.ndarray = rng.random(rows).astype(dtype)
    cat[: rows // 3] = 0.25  # ties: the first label in the model's order wins
    sent[: rows // 4, 1:] = 0.5
    for cat_labels, sent_labels in (
        (sorted(CATEGORIES), sorted(SENTIMENTS)),
        (list(CATEGORIES), list(reversed(SENTIMENTS))),
    ):
        assert score_columns(cat_labels, cat, sent_labels, sent, comp) is not None
        fast = scores_from(cat_labels, cat, sent_labels, sent, comp)
        assert as_rows(fast) == by_row(cat_labels, cat, sent_labels, sent, comp)


def test_unusual_scores_take_the_row_by_row_way() -> None:
    cat = np.full((2, len(CATEGORIES)), 0.1)
    sent = np.full((2, len(SENTIMENTS)), 0.2)
    comp = np.array([0.3, 0.4])
    missing = sorted(CATEGORIES)[:-1]
    assert score_columns(missing, cat[:, :-1], SENTIMENTS, sent, comp) is None
    assert as_rows(scores_from(missing, cat[:, :-1], SENTIMENTS, sent, comp)) == by_row(
        missing, cat[:, :-1], SENTIMENTS, sent, comp
    )
    nan = cat.copy()
    nan[0, 2] = np.nan
    assert score_columns(CATEGORIES, nan, SENTIMENTS, sent, comp) is None
    with pytest.raises(ValueError):
        scores_from(CATEGORIES, cat, SENTIMENTS, sent[:1], comp)


class PlainClassifier:
    """The built-in classifier seen through the plugin interface only (no shortcuts)."""

    name = "plain"

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def classify(self, texts: Sequence[str]) -> list[TextScores]:
        return self.inner.classify(texts)  # type: ignore[attr-defined,no-any-return]


def test_the_builtin_shortcut_understands_as_any_classifier_would() -> None:
    fast = Understander()
    plain = Understander(PlainClassifier(fast.classifier))  # type: ignore[arg-type]
    texts = list(corpus()[:1500])
    assert [u.as_dict() for u in fast.analyse(texts)] == [u.as_dict() for u in plain.analyse(texts)]
    assert fast.analyse([]) == plain.analyse([]) == []


def test_the_builtin_shortcut_falls_back_to_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    understander = Understander()
    texts = list(corpus()[:300])
    want = [u.as_dict() for u in understander.analyse(texts)]
    monkeypatch.setattr("carebird.understand.service.score_columns", lambda *a, **kw: None)
    assert [u.as_dict() for u in understander.analyse(texts)] == want


# -- priority --------------------------------------------------------------------------------


def test_priority_without_cues_is_the_same_whatever_the_weights() -> None:
    odd = [
        DEFAULT_WEIGHTS,
        {**DEFAULT_WEIGHTS, "cues_cap": -1.0},
        {**DEFAULT_WEIGHTS, "severe_cue": float("inf")},
        {**DEFAULT_WEIGHTS, "other_cue": float("nan")},
    ]
    for weights in odd:
        empties: tuple[frozenset[str], set[str]] = (frozenset(), set())
        for empty in empties:
            got = score(CaseSignals(category="complaint", cues=empty), weights)  # type: ignore[arg-type]
            cue_lift = min(
                weights["cues_cap"], 0 * weights["severe_cue"] + 0 * weights["other_cue"]
            )
            assert (got.reasons[-1] == {"code": "cues", "value": []}) == bool(cue_lift)
    with pytest.raises(TypeError):
        score(CaseSignals(category="complaint", cues=[]))  # type: ignore[arg-type]
