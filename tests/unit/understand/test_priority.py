"""The triage order and what lifts a case within it."""

from __future__ import annotations

import pytest

from carebird.cases.priority import CaseSignals, describe, score, weights_for

ORDER = ["complaint", "assistance", "question", "suggestion", "praise", "other"]


def test_categories_follow_the_triage_order() -> None:
    scores = [score(CaseSignals(category=c)).score for c in ORDER]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)


def test_a_complaint_outranks_thanks_even_from_a_star() -> None:
    thanks = CaseSignals(
        category="praise",
        sentiment="positive",
        followers=2_000_000,
        verified=True,
        interactions=5000,
    )
    assert score(CaseSignals(category="complaint")).score > score(thanks).score


def test_influence_urgency_virality_and_waiting_raise_a_case() -> None:
    base = score(CaseSignals(category="question")).score
    assert score(CaseSignals(category="question", followers=48_000)).score > base
    assert score(CaseSignals(category="question", cues=frozenset({"outage"}))).score > base
    assert (
        score(CaseSignals(category="question", interactions=300, interactions_at_arrival=10)).score
        > base
    )
    waited = score(CaseSignals(category="question", waiting_seconds=3 * 3600)).score
    assert waited > base
    # A question that has waited long enough overtakes a fresh request for assistance.
    assert (
        score(CaseSignals(category="question", waiting_seconds=10 * 3600)).score
        > score(CaseSignals(category="assistance")).score
    )


def test_noise_stays_at_the_bottom() -> None:
    loud_noise = CaseSignals(
        category="other",
        followers=1_000_000,
        verified=True,
        interactions=10_000,
        waiting_seconds=86_400,
    )
    assert score(loud_noise).score < score(CaseSignals(category="praise")).score


def test_reasons_in_words_in_both_languages() -> None:
    p = score(
        CaseSignals(
            category="complaint",
            followers=48_000,
            waiting_seconds=3 * 3600,
            cues=frozenset({"outage"}),
        )
    )
    assert describe(p.reasons, "en") == "complaint · outage · 48k followers · waiting 3 h"
    assert describe(p.reasons, "fr") == "réclamation · panne · 48k abonnés · attend depuis 3 h"


def test_weights_are_configurable_and_checked() -> None:
    flat = weights_for({"category_step": 0.0})
    assert (
        score(CaseSignals(category="praise"), flat).score
        == score(CaseSignals(category="complaint"), flat).score
    )
    with pytest.raises(ValueError, match="unknown"):
        weights_for({"speed": 1.0})
