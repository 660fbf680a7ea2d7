"""Invisible characters cannot hide personal data; fediverse handles are not e-mails."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from carebird.understand import pii
from carebird.understand.pii import find_personal_data, mask

PHONE = "06\u200b12\u200b34\u200b56\u200b78"


@pytest.mark.parametrize(
    "text",
    [
        PHONE,
        "appelez le 06\u00ad12\u206034\ufeff56\u200d78 svp",
        "06 12 34 56 7\u200c8",
        "06 12\u202e 34 56 78",
        "+33\u20606 12 34 56 78",
    ],
)
def test_invisible_characters_do_not_hide_a_phone(text: str) -> None:
    found = find_personal_data(text)
    assert [f.kind for f in found] == ["phone"]
    # spans and values are those of the text as given, so masking removes every digit
    assert found[0].value == text[found[0].start : found[0].end]
    assert not any(ch.isdigit() for ch in mask(text, found))


def test_invisible_characters_do_not_hide_an_email_or_a_card() -> None:
    text = "jean\u200b@free\u200b.fr et 4970\u200b1000\u200b0000\u200b0063"
    assert [f.kind for f in find_personal_data(text)] == ["email", "card"]
    assert mask(text, find_personal_data(text)) == "[email] et [card]"
    assert find_personal_data("Merci 👍\ufe0f à bientôt 👨\u200d👩\u200d👧") == []


def test_every_format_character_is_invisible_to_the_scanner() -> None:
    missing = [
        f"U+{c:04X}"
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) == "Cf" and not pii.INVISIBLE.fullmatch(chr(c))
    ]
    assert missing == []


@pytest.mark.parametrize(
    "text",
    [
        "@jean@piaille.fr Bonjour, votre colis arrive demain.",
        "Bonjour @jean@mastodon.social et @marie@piaille.example !",
        "(cc @jean.dupont@free.fr)",
    ],
)
def test_a_fediverse_handle_is_not_an_email(text: str) -> None:
    assert find_personal_data(text) == []


def test_a_real_email_is_still_caught() -> None:
    for text, email in [
        ("@jean@piaille.fr écrivez à jean@free.fr", "jean@free.fr"),
        ("jean@free.fr", "jean@free.fr"),
        ("mail : jean.dupont+sav@free.fr merci", "jean.dupont+sav@free.fr"),
    ]:
        assert [(f.kind, f.value) for f in find_personal_data(text)] == [("email", email)]
