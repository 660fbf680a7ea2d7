"""Keeping the gettext catalogues in step with the code: `python -m carebird.web.ui.catalogues`.

Extracts every marked string from the page code (`_()`, `N_()`, `gettext`, `ngettext` in
web/ui/*.py and the OTHER_SOURCES modules; `{{ _() }}` in templates; `_()` in static/*.js)
into locales/messages.pot, then merges it into each locale's messages.po: new strings arrive
untranslated (English copies its msgid, French is left for a translator), strings gone from the
code are dropped. The tests check that every extracted string has its French and English
translation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po, write_po

from carebird import __version__
from carebird.web.ui.i18n import DOMAIN, LOCALE_DIR, LOCALES, po_path

WEB = Path(__file__).resolve().parents[1]
PROJECT_ROOT = WEB.parents[2]  # so locations read src/carebird/web/…
METHODS = [
    ("ui/**.py", "python"),
    ("templates/**.html", "jinja2.ext:babel_extract"),
    ("static/**.js", "javascript"),
]
OPTIONS = {
    "templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"},
}
# Modules outside web/ whose words an agent reads (marked with `N_`, translated per locale).
PACKAGE = WEB.parent
OTHER_SOURCES = (
    "reply/composer.py",
    "reply/suggesting.py",
    "cases/timeline.py",
    "cases/priority.py",
    "auth/invitations.py",
)
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def extract() -> Catalog:
    """Every string the pages use, from the source tree."""
    catalog = Catalog(domain=DOMAIN, project="carebird", version=__version__, charset="utf-8")
    found = [
        (WEB / filename, lineno, message, comments, context)
        for filename, lineno, message, comments, context in extract_from_dir(
            str(WEB), METHODS, options_map=OPTIONS, keywords=KEYWORDS
        )
        if not filename.startswith("ui/catalogues")
    ]
    for source in OTHER_SOURCES:
        for lineno, message, comments, context in extract_from_file(
            "python", PACKAGE / source, keywords=KEYWORDS
        ):
            found.append((PACKAGE / source, lineno, message, comments, context))
    for file, lineno, message, comments, context in found:
        path = file.relative_to(PROJECT_ROOT).as_posix()
        catalog.add(
            message,
            None,
            [(path, lineno)],
            auto_comments=comments,
            context=context,
            flags=("python-format",) if _formats(message) else (),
        )
    return catalog


def _formats(message: str | tuple[str, ...]) -> bool:
    texts = message if isinstance(message, tuple) else (message,)
    return any("%(" in t for t in texts)


def update() -> dict[str, int]:
    """Write messages.pot and merge it into every locale; returns untranslated counts."""
    template = extract()
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("wb") as f:
        write_po(f, template, width=100, omit_header=False)
    missing: dict[str, int] = {}
    for locale in LOCALES:
        path = po_path(locale)
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=locale, domain=DOMAIN)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, domain=DOMAIN, project="carebird")
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        catalog.fuzzy = False  # the header: a fuzzy one would hide the plural rule
        catalog.project, catalog.version = "carebird", __version__
        catalog.copyright_holder = "the carebird contributors"
        for message in catalog:
            if message.id and locale == "en" and not _translated(message.string):
                message.string = message.id  # English is the source language
        with path.open("wb") as f:
            write_po(f, catalog, width=100, sort_output=False)
        missing[locale] = len([m for m in catalog if m.id and not _translated(m.string)])
    return missing


def _translated(string: str | tuple[str, ...] | list[str] | None) -> bool:
    if isinstance(string, tuple | list):
        return all(string)
    return bool(string)


if __name__ == "__main__":
    for locale, count in update().items():
        sys.stdout.write(f"{locale}: {count} untranslated\n")
