"""Template rendering (variables, clear errors) and text/tag matching."""

from __future__ import annotations

import pytest

from carebird.errors import InvalidInput
from carebird.reply.templates import (
    DEFAULTS,
    VARIABLES,
    ReplyTemplate,
    default_body,
    fold,
    matches,
    render,
    variables_in,
)

VALUES = {
    "customer_name": "Marie",
    "customer_handle": "@marie",
    "agent_name": "Paul Durand",
    "agent_initials": "PD",
    "case_number": "1234",
    "expected_wait": "2 h",
    "brand": "Ligne Azur",
    "dm_link": "https://twitter.com/messages/compose?recipient_id=42",
}


def test_render_every_variable() -> None:
    body = " ".join("{" + name + "}" for name in VARIABLES)
    assert render(body, VALUES) == " ".join(VALUES[n] for n in VARIABLES)
    assert render("Dossier n°{ case_number }", VALUES) == "Dossier n°1234"


def test_literal_braces_and_values_are_not_expanded_again() -> None:
    assert render("{{brand}} = {brand}", VALUES) == "{brand} = Ligne Azur"
    assert render("Bonjour {customer_name}", {"customer_name": "{brand}"}) == "Bonjour {brand}"


def test_unknown_variables_are_named_in_the_error() -> None:
    with pytest.raises(InvalidInput, match=r"unknown variable \{prenom\}, \{x\.__class__\}"):
        render("Bonjour {prenom} {x.__class__}", VALUES)
    with pytest.raises(InvalidInput, match=r"known: \{customer_name\}"):
        variables_in("{nope}")


def test_missing_values_and_lone_braces() -> None:
    with pytest.raises(InvalidInput, match=r"needs a value for \{expected_wait\}"):
        render("Retour sous {expected_wait}", {**VALUES, "expected_wait": None})
    with pytest.raises(InvalidInput, match=r"needs a value for \{brand\}"):
        render("{brand}", {})
    with pytest.raises(InvalidInput, match=r"lone '\{' at character 9"):
        variables_in("Bonjour {prénom")
    with pytest.raises(InvalidInput, match="lone '}'"):
        variables_in("Bonjour }")


def test_variables_in_order_of_use() -> None:
    assert variables_in("{brand} {customer_name} {brand}") == ["brand", "customer_name"]
    assert variables_in("pas de variable {{ici}}") == []


def test_defaults_render_in_both_languages() -> None:
    keys = {d.key for d in DEFAULTS}
    assert keys == {"delay", "private", "outage", "thanks"}
    for key in keys:
        for lang in ("fr", "en"):
            assert any(d.key == key and d.language == lang for d in DEFAULTS)
            text = render(default_body(key, lang), VALUES)
            assert "{" not in text and "Marie" in text
    assert VALUES["dm_link"] in render(default_body("private", "fr"), VALUES)
    assert default_body("private", "de") == default_body("private", "en")


def test_fold_and_match() -> None:
    assert fold("Délai ÉTÉ") == "delai ete"
    t = ReplyTemplate(name="Accusé de réception", body="Nous revenons sous {expected_wait}",
                      language="fr", tags=["Délai", "accueil"])  # fmt: skip
    assert matches(t)
    assert matches(t, q="accuse")
    assert matches(t, q="RECEPTION revenons")
    assert not matches(t, q="reception colis")
    assert matches(t, q="delai")  # tags are searched too
    assert matches(t, tag="délai") and matches(t, tag="DELAI")
    assert not matches(t, tag="panne")
