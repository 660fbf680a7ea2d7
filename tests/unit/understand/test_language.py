"""Language detection: the word lists when sure, py3langid otherwise; hostile input stays sane."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from carebird.understand import language
from carebird.understand.language import detect, detect_by_words

WRITTEN = Path(__file__).parents[2] / "data" / "languages.csv"


def _written() -> list[tuple[str, str]]:
    with WRITTEN.open(encoding="utf-8", newline="") as fh:
        return [(row["text"], row["lang"]) for row in csv.DictReader(fh)]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("toujours pas reçu mon colis, c'est quoi ce délire 😡", "fr"),
        ("bjr g pa reçu ma cmd", "fr"),
        ("remboursez moi", "fr"),
        ("pire service client", "und"),  # no known word, the model unsure: no guess
        ("ok merci", "fr"),
        ("still no parcel and it's been a week smh", "en"),
        ("worst service ever", "en"),
        ("Horrible customer service! @nationalgridus", "en"),
        ("no puedo entrar en la aplicación desde ayer", "es"),
        ("internet non funziona da tre giorni", "it"),
        ("ik wil mijn abonnement opzeggen", "nl"),
        ("dziękuję za szybką pomoc", "pl"),
        ("internet dünden beri çalışmıyor", "tr"),
        ("Где мой заказ?", "ru"),
        ("注文した商品がまだ届きません", "ja"),
    ],
)
def test_french_english_and_other_languages(text: str, lang: str) -> None:
    assert detect(text) == lang


def test_better_than_the_word_lists_on_the_written_set() -> None:
    rows = _written()
    hybrid = sum(detect(t) == lang for t, lang in rows) / len(rows)
    words = sum(detect_by_words(t) == lang for t, lang in rows) / len(rows)
    assert hybrid >= 0.9
    assert hybrid > words + 0.2


def test_the_word_lists_decide_when_sure() -> None:
    """A clear French or English text never reaches the model (the fast path)."""
    calls: list[str] = []

    class Spy:
        def classify(self, text: str) -> tuple[str, float]:
            calls.append(text)
            return "de", 1.0

    original = language._identifier
    language._identifier = lambda: Spy()  # type: ignore[assignment]
    try:
        assert detect("je n'ai toujours pas reçu ma commande") == "fr"
        assert detect("my order still hasn't arrived, please help") == "en"
        assert detect("Где мой заказ?") == "ru"
        assert calls == []
        assert detect("Paket wurde nicht zugestellt") == "de"
        assert calls == ["Paket wurde nicht zugestellt"]
    finally:
        language._identifier = original  # type: ignore[method-assign]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("", "und"),
        ("   \n\t", "und"),
        ("😡😡😡", "und"),
        ("👍🏼🙏", "und"),
        ("@Brand 😡😡😡 https://t.co/abc #fail", "und"),
        ("12/03 14:45 !!!", "und"),
        ("\u200b\u200c\u200d\u2060\ufeff", "und"),  # zero-width only
        ("\u202e\u2066\u2067\u2069\u200f", "und"),  # bidi controls only
        ("bonjour,\u200b merci pour votre aide\u200f", "fr"),
        ("mer\u200bci beau\u200dcoup pour votre aide", "fr"),
        ("\u202eje n'ai toujours pas reçu mon colis\u202c", "fr"),
        ("\ud800 bonjour merci pour tout", "fr"),  # a lone surrogate
        ("\x00\x07 still no refund \x1b[31m", "en"),
        ("ｍｅｒｃｉ ｂｅａｕｃｏｕｐ", "fr"),  # full-width letters
        ("\u2067مرحبا\u2069", "ar"),
    ],
)
def test_hostile_and_empty_input(text: str, lang: str) -> None:
    assert detect(text) == lang


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("merci beaucoup " * 7000, "fr"),  # ~100 kB
        ("the parcel is late " * 6000, "en"),
        ("x" * 100_000, None),
        ("e\u0301" * 50_000, None),
        ("😡" * 30_000, "und"),
    ],
)
def test_100_kb_texts_are_quick(text: str, lang: str | None) -> None:
    language.warm_up()
    t0 = time.perf_counter()
    got = detect(text)
    assert time.perf_counter() - t0 < 0.5  # only the first 2,000 characters are read
    assert isinstance(got, str) and 2 <= len(got) <= 3
    if lang is not None:
        assert got == lang


@pytest.mark.parametrize("text", ["ok", "lol", "thx", "👍 thx", "mdr", "a", "Hi"])
def test_very_short_texts_give_a_code_or_und(text: str) -> None:
    got = detect(text)
    assert got == "und" or got in language.MODEL_LANGUAGES
