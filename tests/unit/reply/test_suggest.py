"""The ranking's text rules: what the evaluation compares and what one click inserts."""

from __future__ import annotations

from carebird.reply.suggest import (
    ContentItem,
    HistoryItem,
    SuggestionIndex,
    answer_key,
    clean,
    rank,
    token_f1,
)
from carebird.reply.suggesting import fill, without_mentions


def test_handles_links_and_signatures_are_not_words() -> None:
    assert clean("@115712 Please DM us https://t.co/abc ^AB") == "Please DM us"
    assert clean("@x We are on it. -Becky") == "We are on it."
    assert clean("Sorry about that *HFG") == "Sorry about that"
    assert token_f1("@a Hello there ^JJ", "hello THERE -Becky") == 1.0
    assert token_f1("a b c d", "a b") == 2 * (1.0 * 0.5) / 1.5
    assert token_f1("", "x") == 0.0
    assert answer_key("@1 Sorry! DM us ^AB") == answer_key("@2 sorry, DM us. ^CD")


def test_past_replies_vote_and_content_competes() -> None:
    history = [
        HistoryItem(f"ma box ne marche plus {i}", "Redémarrez la box ^AL", "reply:box", str(i))
        for i in range(3)
    ] + [HistoryItem("where is my parcel", "Track it online", "reply:parcel", "9")]
    content = [
        ContentItem("article:1", "article", "1", "Livraison", "colis livraison suivi", "fr"),
        ContentItem("template:2", "template", "2", "Box", "box panne redémarrage", "en"),
    ]
    index = SuggestionIndex.build(history, content)
    ranked = rank(index, "la box ne marche pas", language="fr")
    assert ranked[0].key == "reply:box" and ranked[0].neighbours == 3 and ranked[0].uses == 3
    assert "template:2" not in [r.key for r in ranked]  # in English: not for a French message
    assert rank(index, "la box ne marche pas")[1].key == "template:2"


def test_one_click_fills_what_is_known_and_leaves_the_rest() -> None:
    assert fill("Hi {customer_name}, {{ok}} {expected_wait}", {"customer_name": "Ana"}) == (
        "Hi Ana, {ok} {expected_wait}"
    )
    assert without_mentions("@bob @ann Sorry for the wait! ^MC") == "Sorry for the wait!"
