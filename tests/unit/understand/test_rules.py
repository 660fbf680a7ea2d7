"""Language, urgency cues and personal data: rules written for carebird, tested on tricky text."""

from __future__ import annotations

import pytest

from carebird.understand.cues import find_cues
from carebird.understand.language import detect
from carebird.understand.pii import find_personal_data, mask


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("toujours pas reçu mon colis, c'est quoi ce délire 😡", "fr"),
        ("@AzurRail_SAV train supprimé encore une fois", "fr"),
        ("mrc pr votre aide, c bon ça marche", "fr"),
        ("still no parcel and it's been a week smh", "en"),
        ("@NovaMobile pls help, can't log in", "en"),
        ("¿Dónde está mi pedido? Llevo una semana esperando", "es"),
        ("Wo ist meine Bestellung? Ich warte seit einer Woche", "de"),
        ("Где мой заказ?", "ru"),
        ("我的订单在哪里", "zh"),
        ("@Brand 😡😡😡 https://t.co/abc", "und"),
        ("", "und"),
    ],
)
def test_language(text: str, lang: str) -> None:
    assert detect(text) == lang


def test_cues_in_both_languages() -> None:
    assert find_cues("internet coupé depuis 3 jours, toujours rien !") == [
        "outage",
        "duration",
        "no_answer",
    ]
    assert find_cues("App down since yesterday, URGENT") == ["outage", "urgent", "duration"]
    assert find_cues("je vais résilier et porter plainte") == ["churn"]
    assert find_cues("gas leak near the meter, smell of gas") == ["safety"]
    assert find_cues("Merci, tout est parfait") == []


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("rappelez-moi au 06 39 98 73 30 svp", ["phone"]),
        ("mon numéro : +33 6 39 98 73 30", ["phone"]),
        ("call me on 07700 900123 or +44 7700 900124", ["phone", "phone"]),
        ("(415) 555-2671 is my cell", ["phone"]),
        ("écrivez à jean.dupont+sav@example.fr merci", ["email"]),
        ("order #A12345 never came", ["reference"]),
        ("commande n° 123456789 bloquée", ["reference"]),
        ("dossier: AB-7781-X", ["reference"]),
        ("IBAN FR76 3000 6000 0112 3456 7890 189 svp", ["iban"]),
        ("card 4111 1111 1111 1111 was charged twice", ["card"]),
        # Look-alikes that are not personal data.
        ("train de 10:45 le 12/03/2026, 300 €, voie 12", []),
        ("I waited 2 hours for 3 trains", []),
        ("IBAN FR76 3000 6000 0112 3456 7890 188", []),  # fails mod 97
        ("1234 5678 9012 3456", []),  # fails Luhn
        ("version 10.2.33.4 of the app", []),
    ],
)
def test_personal_data(text: str, kinds: list[str]) -> None:
    assert [f.kind for f in find_personal_data(text)] == kinds


def test_masking_keeps_the_rest_of_the_text() -> None:
    text = "Mon tel 06 39 98 73 30, mail a@example.fr"
    assert mask(text, find_personal_data(text)) == "Mon tel [phone], mail [email]"


@pytest.mark.parametrize(
    "hostile",
    [
        "",
        "\x00\x01\x02",
        "a" * 100_000,
        "<script>alert(1)</script>",
        "ḩ̷̛ͅe̵l̸p̶ " * 500,
        "مرحبا hello 你好 привет",
        "\u202e\u200b\ufeff",
        "🙂" * 10_000,
        "0" * 50_000,
    ],
)
def test_hostile_text_never_raises(hostile: str) -> None:
    detect(hostile)
    find_cues(hostile)
    find_personal_data(hostile)
