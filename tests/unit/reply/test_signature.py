"""The agent's signature per the account's policy, never twice."""

from __future__ import annotations

from carebird.auth.models import Agent
from carebird.reply.signature import initials_for, is_signed, sign, signature_for


def agent(name: str, initials: str = "") -> Agent:
    return Agent(name=name, initials=initials, email="a@example.test", role="agent")


def test_initials_stored_or_derived_from_the_name() -> None:
    assert initials_for(agent("Marie Curie", "MC")) == "MC"
    assert initials_for(agent("Marie Curie")) == "MC"
    assert initials_for(agent("Jean-Paul Sartre")) == "JS"
    assert initials_for(agent("Cher")) == "CH"
    assert initials_for(agent("Marie Curie", " M C^")) == "MC"  # one word, no caret


def test_policy_initials_by_default_or_none() -> None:
    marie = agent("Marie Curie")
    assert signature_for(agent=marie, options={}) == " ^MC"
    assert signature_for(agent=marie, options=None) == " ^MC"
    assert signature_for(agent=marie, options={"signature": "initials"}) == " ^MC"
    assert signature_for(agent=marie, options={"signature": "none"}) == ""
    assert signature_for(agent=marie, options={"signature": "whatever"}) == " ^MC"


def test_signed_once() -> None:
    assert sign("Bonjour", " ^MC") == "Bonjour ^MC"
    assert sign("Bonjour ^MC", " ^MC") == "Bonjour ^MC"
    assert sign("Bonjour ^MC\n", " ^MC") == "Bonjour ^MC"
    assert sign("Bonjour ^MCX", " ^MC") == "Bonjour ^MCX ^MC"  # another agent's mark
    assert sign("Merci ! ^MC 🙏", " ^MC") == "Merci ! ^MC 🙏"
    assert sign("Bonjour", "") == "Bonjour"
    assert is_signed("x", "") and not is_signed("a^MC", " ^MC")
