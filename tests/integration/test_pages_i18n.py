"""The pages' French and English: gettext catalogues in step with the code, local formats."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from carebird.web.ui import i18n
from carebird.web.ui.catalogues import extract
from carebird.web.ui.render import environment

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def ids(messages: object) -> set[object]:
    return {m.id for m in messages if m.id}  # type: ignore[attr-defined]


def texts(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_string_of_the_pages_is_in_the_catalogue_and_translated(locale: str) -> None:
    code = extract()
    catalog = i18n.catalog(locale)
    assert len(code) > 200
    assert ids(code) == ids(catalog), "run: python -m carebird.web.ui.catalogues"
    for message in catalog:
        if not message.id:
            continue
        strings = texts(message.string)
        assert all(strings), f"{locale}: {message.id!r} is not translated"
        wanted = {p for t in texts(message.id) for p in PLACEHOLDER.findall(t)}
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) == wanted, f"{locale}: {message.id!r} → {s!r}"
            assert not s.startswith(" ") and not s.endswith(" ")


def test_french_and_english_words() -> None:
    assert i18n.gettext("fr", "Send publicly") == "Envoyer en public"
    assert i18n.gettext("en", "Send publicly") == "Send publicly"
    assert i18n.gettext("fr", "an unknown string") == "an unknown string"
    fr = i18n.js_catalogue("fr")
    assert fr["Send publicly"] == "Envoyer en public"  # used by composer.js
    assert "Sign in" not in fr  # only in a template: the scripts do not need it
    page = environment("fr").from_string(
        "{{ ngettext('Too many failed sign-ins. Try again in %(num)d minute.', "
        "'Too many failed sign-ins. Try again in %(num)d minutes.', n) }}"
    )
    assert page.render(n=1) == "Trop d’échecs de connexion. Réessayez dans 1 minute."
    assert page.render(n=3) == "Trop d’échecs de connexion. Réessayez dans 3 minutes."
    assert environment("en").from_string("{{ _('Case %(id)s', id=x) }}").render(x="<b>") == (
        "Case &lt;b&gt;"
    )  # translated strings stay autoescaped


def test_dates_in_the_agents_zone_and_the_locales_format() -> None:
    at = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
    assert i18n.format_when(at, "fr", "Europe/Paris") == "02/03/2026 10:05"
    assert i18n.format_when(at, "en", "Europe/Paris") == "2 Mar 2026, 10:05"
    assert i18n.format_when(at, "fr", "America/Montreal") == "02/03/2026 04:05"
    assert i18n.format_when(at, "fr", "Not/AZone") == "02/03/2026 09:05"  # UTC, no crash
    summer = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)
    assert i18n.format_when(summer, "fr", "Europe/Paris") == "14/07/2026 14:00"
    assert i18n.format_when(None, "fr", "Europe/Paris") == ""
    assert i18n.month_names("en")[8] == "Sep" and i18n.month_names("fr")[0] == "janv."


def test_numbers_and_waiting_times() -> None:
    assert i18n.format_number(48_200, "fr") == "48\u202f200"
    assert i18n.format_number(48_200, "en") == "48,200"
    cases = [
        (30, "< 1 min", "< 1 min"),
        (125, "2 min", "2 min"),
        (3 * 3600 + 300, "3 h 05", "3 h 05"),
    ]
    cases.append((2 * 86400 + 4 * 3600, "2 j 4 h", "2 d 4 h"))
    for seconds, fr, en in cases:
        assert i18n.format_duration(seconds, "fr") == fr
        assert i18n.format_duration(seconds, "en") == en


def test_the_language_is_the_agents_else_the_browsers() -> None:
    assert i18n.pick_locale("en", "fr-FR,fr;q=0.9") == "en"
    assert i18n.pick_locale(None, "de-DE,en;q=0.8,fr;q=0.5") == "en"
    assert i18n.pick_locale(None, "de-DE") == "fr"
    assert i18n.pick_locale("xx", None) == "fr"


def test_the_composers_and_the_timelines_words_come_from_the_catalogues() -> None:
    from carebird.cases import timeline
    from carebird.reply import composer

    sources = {path for m in extract() for path, _ in m.locations}
    assert {"src/carebird/reply/composer.py", "src/carebird/cases/timeline.py"} <= sources
    assert timeline.label("event.created", "fr") == "Cas créé"
    assert timeline.label("event.created", "en") == "Case created"
    assert timeline.label("event.unheard_of", "de") == "Événement"  # French by default
    public = composer._WORDS["public"]
    assert i18n.gettext("fr", public) % {"handle": "@a", "network": "X"} == (
        "Réponse publique à @a sur X"
    )
