"""Translations shared by every stage: the FR/EN gettext catalogues (Babel), by locale.

The catalogues live with the web assets (web/locales/<locale>/LC_MESSAGES/messages.po) and are
compiled in memory the first time a locale is used; services that word things for people (the
composer, the timeline) translate through here without depending on the web layer.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"
LOCALE_DIR = Path(__file__).resolve().parent / "web" / "locales"
DOMAIN = "messages"


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def catalog(locale: str) -> Catalog:
    with po_path(locale).open("rb") as f:
        return read_po(f, locale=locale, domain=DOMAIN)


@functools.cache
def translations(locale: str) -> Translations:
    """The compiled catalogue of `locale` (compiled once per process, in memory)."""
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    buffer = io.BytesIO()
    write_mo(buffer, catalog(locale))
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def gettext(locale: str, message: str) -> str:
    return translations(locale).gettext(message)


def N_(message: str) -> str:  # gettext's conventional name for "mark for extraction"
    """Mark a string for the catalogues; translated later, where the locale is known."""
    return message
