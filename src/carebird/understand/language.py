"""Language of short, informal texts: French and English first, other languages recognised.

Two detectors, combined. Word lists written for carebird score function words and letters
typical of seven languages, and non-Latin scripts are told apart by their Unicode ranges:
a few microseconds a text, sure of most French and English. When they are unsure (a short
text, few known words, another language), py3langid (langid.py's naive-Bayes model over byte
n-grams; its model ships in its package as arrays, nothing is downloaded) decides among
`MODEL_LANGUAGES`. `python -m benchmarks.language` measures each alone and combined.
Handles, URLs, hashtags and emoji are ignored, so "@Brand 😡😡" is undetermined ("und")
rather than a guess.
"""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
from typing import Any

# Handles, hashtags and URLs as written; detect runs _STRIP_FAST, the same (tests compare them).
_STRIP = re.compile(r"https?://\S+|www\.\S+|[@#]\w+", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.U)


def _w(words: str) -> frozenset[str]:
    return frozenset(words.split())


_WORDS: dict[str, frozenset[str]] = {
    "fr": _w(
        "a ai au aucun aucune aujourd'hui aux avec avez avoir bien bonjour bonsoir c'est ca car "
        "ce ces cette chez colis commande comment d'un dans de demain depuis des donc du elle en "
        "encore est et faire fait heure heures hier il ils j'ai jamais je jour jours la le les "
        "leur ma mais merci mes moins mois mon n'est ne non nos notre nous on ou oui panne par "
        "pas peut plus pour pourquoi qu'il quand que qui quoi remboursement retard rien sa sans "
        "se semaine son sont stp suis sur svp ta ton toujours tout train trop très tu un une veux "
        "vos votre vous y ça été êtes être "
    ),
    "en": _w(
        "a about again all an and any are at be because been but can can't could day days delay "
        "delivery did didn't do does doesn't don't for from get got had has have he hello her "
        "here hi his hour hours how i i'm in is isn't it it's just month my never no not nothing "
        "of on or order our out outage please pls refund she should since so still thank thanks "
        "that the their there these they this those to too train up very was we week well were "
        "what when who why will with without won't would yes you your "
    ),
    "es": _w(
        "al ayer con cuando cómo del el es estoy está gracias hace hola hoy la las los muy nada "
        "no nosotros nunca para pedido pero por porque que qué se sin son su tengo todavía todo "
        "tú un una usted y yo "
    ),
    "de": _w(
        "aber alles an auf bestellung bitte danke das der die du ein eine er es für gestern habe "
        "hallo hat heute ich ihr immer in ist kein keine mit nicht nichts nie noch oder ohne sehr "
        "sie sind und von wann warum was weil wer wie wir zu "
    ),
    "it": _w(
        "ancora che chi ciao come con del della e gli grazie ha ho ieri il io la le lei lo loro "
        "lui ma mai molto nel niente noi non o oggi ordine per perché quando senza sono su tu "
        "tutto un una voi è "
    ),
    "pt": _w(
        "a ainda as com como da do e ela ele eu hoje mas muito na nada no nunca não nós o "
        "obrigada obrigado olá ontem os ou para pedido por porque quando que sem são tem tenho "
        "tudo um uma você é "
    ),
    "nl": _w(
        "aan alles alsjeblieft altijd bedankt bestelling de een en geen gisteren hallo heb heeft "
        "heel het hij hoe ik in is je jij jullie maar met niet niets nog nooit of omdat op te van "
        "vandaag voor waarom wanneer wat we wie wij zij zijn zonder "
    ),
}
# Letters that are strong evidence on their own.
_LETTERS = {"fr": "éèêàùçœ", "es": "ñ¿¡", "de": "äöüß", "pt": "ãõ", "it": "ì"}
_SCRIPTS = (
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
)
UNDETERMINED = "und"
_LANGS_OF: dict[str, tuple[str, ...]] = {}
for _lang, _vocab in _WORDS.items():
    for _word in _vocab:
        _LANGS_OF[_word] = (*_LANGS_OF.get(_word, ()), _lang)
_ALPHA = re.compile(r"[^\W\d_]")
_NON_LATIN = re.compile(
    r"[\u0370-\u03ff\u0400-\u04ff\u0590-\u06ff\u0900-\u097f\u0e00-\u0e7f"
    r"\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]"
)


# The same strip, written so that the regex engine can skip ahead to the characters a match
# starts with (re.I stops it from doing so): "ſ" is the one non-ASCII letter re.I folds onto
# an ASCII one ("s") in these patterns.
_STRIP_FAST = re.compile(
    r"[hHwW@#](?:(?<=[hH])[tT][tT][pP][sSſ]?://\S+|(?<=[wW])[wW][wW]\.\S+|(?<=[@#])\w+)"
)
_WORD_ASCII = re.compile(r"[a-z]+(?:'[a-z]+)?")  # _WORD on lower-cased ASCII text
_LANG_ORDER = tuple(_WORDS)
_FR, _EN = _LANG_ORDER.index("fr"), _LANG_ORDER.index("en")
_LANG_INDEX: dict[str, tuple[int, ...]] = {
    w: tuple(_LANG_ORDER.index(lang) for lang in langs) for w, langs in _LANGS_OF.items()
}
_LETTER_INDEX = tuple((_LANG_ORDER.index(lang), chars) for lang, chars in _LETTERS.items())


def detect(text: str) -> str:
    """An ISO 639-1 code, or "und" when the text carries no language evidence.

    The word lists decide when they are sure (two words' worth of evidence, at least twice
    the runner-up's) or the text is a non-Latin script; otherwise py3langid's model, limited
    to `MODEL_LANGUAGES`, decides, unless it is unsure and the word lists had a verdict.
    """
    text = _STRIP_FAST.sub(" ", text[:2000])
    if not _ALPHA.search(text):
        return UNDETERMINED
    verdict, top, second = _by_words(text)
    if verdict != UNDETERMINED and (top < 0 or (top >= SURE and top >= 2 * second)):
        return verdict
    # NFKC: "ｍｅｒｃｉ" and "𝐦𝐞𝐫𝐜𝐢" (styled letters) are "merci" to the model
    lang, confidence = _identifier().classify(unicodedata.normalize("NFKC", text))
    if verdict != UNDETERMINED and confidence < TRUST_MODEL:
        return verdict
    if verdict == UNDETERMINED and confidence < TRUST_MODEL_ALONE:
        return UNDETERMINED
    return str(lang)


# Languages py3langid may answer: those of the word lists and the most used on the networks
# in Europe and beyond (its 140 include many that short texts are mistaken for: "lol no" is
# not Fulah).
MODEL_LANGUAGES: tuple[str, ...] = (
    *_LANG_ORDER,
    *sorted(_w("pl tr sv da no fi ro cs sk hu el ru uk bg ar he fa hi zh ja ko th vi id ms ca")),
)
SURE = 4  # half points: two words, or a word and a letter
TRUST_MODEL = 0.7  # the model overrules the word lists when at least this sure
TRUST_MODEL_ALONE = 0.3  # ... and speaks alone (no word-list verdict) from this


def warm_up() -> None:
    """Load py3langid's model now (about a second) rather than in the first unsure text."""
    _identifier()


def detect_by_model(text: str) -> str:
    """py3langid's guess among `MODEL_LANGUAGES` (its model ships in its package), "und"
    when the text has no letters once handles, hashtags and URLs are removed."""
    text = _STRIP_FAST.sub(" ", text[:2000])
    if not _ALPHA.search(text):
        return UNDETERMINED
    return str(_identifier().classify(unicodedata.normalize("NFKC", text))[0])


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(MODEL_LANGUAGES)
    # Its 140 languages' table (28 MB) is kept to undo `set_languages`, never done here.
    with contextlib.suppress(AttributeError):
        identifier._full_model = (identifier.nb_ptc, identifier.nb_pc, identifier.nb_classes)
    return identifier


def detect_by_words(text: str) -> str:
    """The word lists' verdict alone."""
    text = _STRIP_FAST.sub(" ", text[:2000])
    if not _ALPHA.search(text):
        return UNDETERMINED
    return _by_words(text)[0]


def _by_words(text: str) -> tuple[str, int, int]:
    """(verdict, best score, runner-up's score) of the word lists on a stripped text with
    letters; a non-Latin script's verdict has the score -1."""
    ascii_only = text.isascii()  # no other script, no accented letter: skip those tests
    if not ascii_only and _NON_LATIN.search(text):
        script = _script_of(text)
        if script is not None:
            return script, -1, 0
    lowered = text.lower()
    scores = _word_scores(lowered, ascii_only)
    french_letter = False if ascii_only else _add_letter_scores(scores, lowered)
    top = max(scores)
    if top == 0:
        return UNDETERMINED, 0, 0
    winner = _winner(scores, top, french_letter)
    ordered = sorted(scores)
    return winner, top, ordered[-2]


def _script_of(text: str) -> str | None:
    """The language of a non-Latin script holding at least half the letters, if any."""
    letters = len(_ALPHA.findall(text))
    for code, script in _SCRIPTS:
        if len(script.findall(text)) * 2 >= letters:
            return code
    return None


def _word_scores(lowered: str, ascii_only: bool) -> list[int]:
    """Each language's score from its function words, in half points (a word 1, a letter
    1.5): integers, so sums and ties are exact. In `_LANG_ORDER`."""
    scores = [0] * len(_LANG_ORDER)
    get = _LANG_INDEX.get
    for w in (_WORD_ASCII if ascii_only else _WORD).findall(lowered):
        langs = get(w)
        if langs:
            for i in langs:
                scores[i] += 2
    return scores


def _add_letter_scores(scores: list[int], lowered: str) -> bool:
    """Add the typical letters' points to `scores`; whether a French letter was seen."""
    french_letter = False
    for i, chars in _LETTER_INDEX:
        for ch in chars:
            if ch in lowered:
                scores[i] += 3 * lowered.count(ch)
                if i == _FR:
                    french_letter = True
    return french_letter


def _winner(scores: list[int], top: int, french_letter: bool) -> str:
    """The best-scoring language (`top` > 0 is the best score)."""
    # Ties between French and English (short texts) go to French, the desk's first language,
    # only when a French-specific letter is present; otherwise to English.
    if scores.count(top) > 1:
        if scores[_FR] == top and french_letter:
            return "fr"
        if scores[_EN] == top:
            return "en"
    return _LANG_ORDER[scores.index(top)]
