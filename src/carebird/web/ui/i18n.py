"""The pages' words through gettext: catalogues in web/locales/<locale>/LC_MESSAGES/messages.po.

The source strings (msgids) are English; `fr` and `en` each have a catalogue, so an English
wording can change without touching the templates. The .po files are compiled in memory the
first time a locale is used (Babel), from the installed package: nothing is fetched at run time
and no build step is needed. Strings of the pages' scripts are in the same catalogues (Babel
extracts `_("…")` from static/*.js); `js_catalogue` hands a page the ones its scripts use.

Dates and times are shown in the agent's time zone with the locale's conventions (French:
`02/03/2026 14:05`; English: `2 Mar 2026, 14:05`); the scripts format with the same patterns.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal

from carebird.i18n import (
    DEFAULT_LOCALE,
    DOMAIN,
    LOCALE_DIR,
    LOCALES,
    catalog,
    gettext,
    po_path,
    translations,
)

# The catalogue plumbing lives in carebird.i18n (services translate too); the pages import it
# from here with the formatting helpers.
__all__ = [
    "DEFAULT_LOCALE",
    "DOMAIN",
    "LOCALES",
    "LOCALE_DIR",
    "catalog",
    "gettext",
    "po_path",
    "translations",
]

# One pattern per locale (CLDR syntax), mirrored by static/common.js.
DATETIME_PATTERN = {"fr": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy, HH:mm"}
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


@functools.cache
def js_catalogue(locale: str) -> dict[str, str]:
    """msgid → translation for every string the pages' scripts use."""
    found: dict[str, str] = {}
    for message in catalog(locale):
        if message.id and any(path.endswith(".js") for path, _ in message.locations):
            found[str(message.id)] = str(message.string or message.id)
    return found


def pick_locale(agent_locale: str | None, accept_language: str | None = None) -> str:
    """The agent's locale when signed in, else the browser's first supported language."""
    if agent_locale in LOCALES:
        return str(agent_locale)
    for part in (accept_language or "").split(","):
        lang = part.split(";")[0].strip().lower()[:2]
        if lang in LOCALES:
            return lang
    return DEFAULT_LOCALE


@functools.cache
def zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def format_when(value: datetime | None, locale: str, zone_name: str | None) -> str:
    """A date and time in the agent's zone and the locale's format."""
    if value is None:
        return ""
    pattern = DATETIME_PATTERN.get(locale, DATETIME_PATTERN[DEFAULT_LOCALE])
    return format_datetime(value, pattern, tzinfo=zone(zone_name), locale=locale)


def format_number(value: float | int, locale: str) -> str:
    """`12 345` in French, `12,345` in English."""
    return format_decimal(value, locale=locale)


def format_duration(seconds: float, locale: str) -> str:
    """A waiting time, coarse on purpose: `< 1 min`, `12 min`, `3 h 05`, `2 j 4 h` (`2 d 4 h`)."""
    t = translations(locale).gettext
    seconds = max(0, int(seconds))
    if seconds < 60:
        return t("< 1 min")
    minutes = seconds // 60
    if minutes < 60:
        return t("%(n)s min") % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return t("%(h)s h %(m)s") % {"h": hours, "m": f"{minutes:02d}"}
    days, hours = divmod(hours, 24)
    return t("%(d)s d %(h)s h") % {"d": days, "h": hours}


def month_names(locale: str) -> list[str]:
    """Abbreviated month names, January first (for the scripts' date format)."""
    months = Locale.parse(locale).months["format"]["abbreviated"]
    return [str(months[i]) for i in range(1, 13)]
