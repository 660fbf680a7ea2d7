"""A first contact versus a real answer: the desk's own invitations to continue in private and
typical "DM us" replies are contacts; anything that says something about the problem is an
answer; an acknowledgement never is."""

from __future__ import annotations

import numpy as np
import pytest

from carebird.insights.contact import is_answer, is_dm_request
from carebird.insights.stats import median, p90, percentile, share
from carebird.reply.templates import default_body

DM_REQUESTS = [
    "@115712 Please send us a Private Message so that we can further assist you. ^JD",
    "@117054 Can you DM us so we can look into this for you?",
    "Hi there! Please send me a DM! ^RA",
    "We're so sorry your order is late, Kris! Please DM us your contact info. Thank you!",
    "Bonjour, merci de nous écrire en MP. Bonne journée",
    "Désolés pour ce souci ! Envoyez-nous un message privé avec votre numéro de commande.",
    "DM us",
]
ANSWERS = [
    "Your parcel left this morning, tracking number by e-mail.",
    "Restart your router. If that does not work, DM us.",
    "Bonjour, votre remboursement part aujourd'hui.",
    "We have replied to your DM with more information.",
    "The outage is fixed since 10:00, sorry for the trouble!",
    "",
]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_desks_own_invitation_is_a_dm_request(language: str) -> None:
    text = default_body("private", language).format(
        customer_name="Léa", dm_link="https://twitter.com/messages/compose?recipient_id=1"
    )
    assert is_dm_request(text)
    assert not is_answer("reply", text)


@pytest.mark.parametrize("text", DM_REQUESTS)
def test_dm_requests(text: str) -> None:
    assert is_dm_request(text)


@pytest.mark.parametrize("text", ANSWERS)
def test_answers(text: str) -> None:
    assert not is_dm_request(text)
    assert is_answer("reply", text)


def test_an_acknowledgement_is_never_an_answer() -> None:
    assert not is_answer("acknowledgement", "Your parcel left this morning.")
    assert is_answer("direct", "Your parcel left this morning.")


@pytest.mark.parametrize("values", [[5.0], [1.0, 2.0], [3.0, 1.0, 2.0, 10.0], list(range(97))])
def test_percentiles_are_numpys(values: list[float]) -> None:
    assert median(values) == pytest.approx(np.median(values))
    assert p90(values) == pytest.approx(np.percentile(values, 90))
    assert percentile(values, 25) == pytest.approx(np.percentile(values, 25))


def test_nothing_gives_none() -> None:
    assert median([]) is None and p90([]) is None and share(0, 0) is None
    assert share(1, 4) == 0.25
