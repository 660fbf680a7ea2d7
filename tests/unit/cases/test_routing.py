"""Routing rules: every condition and action, first match and all matches, validation, the
dry run, and the rules applied when a case opens (through the intake), on both engines."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import select

from carebird.auth.models import Team
from carebird.cases import routing
from carebird.cases.models import Case, CaseEvent
from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.cases.service import set_tags
from carebird.db.database import Database
from carebird.errors import InvalidInput
from tests.factories import T0, agent_with_token, case_of, customer, ingest, intake_for, item

COMPLAINT_EN = "@Brand_SAV my parcel never arrived, this is a disgrace, I want a refund now"
QUESTION_FR = "@Brand_SAV bonjour, quels sont vos horaires d'ouverture le samedi ?"


def spec(when: dict[str, Any], then: dict[str, Any] | None = None, **kw: Any) -> routing.RuleSpec:
    return routing.parse_rule({"name": "r", "when": when, "then": then or {"tags": ["x"]}, **kw})


def facts(db: Database, external_id: str) -> routing.Facts:
    case_id = case_of(db, external_id)
    with db.session() as s:
        return routing.facts_of(s, [case_id])[case_id]


@pytest.fixture
def two_cases(db: Database) -> tuple[routing.Facts, routing.Facts]:
    ingest(
        db,
        [
            item(customer(1, followers=50_000, verified=True), COMPLAINT_EN, external_id="en"),
            item(customer(2), QUESTION_FR, minutes=1, external_id="fr"),
        ],
    )
    with db.session() as s, s.begin():
        set_tags(s, case_id=case_of(db, "fr"), add=["vip"], remove=(), actor_id=None)
    return facts(db, "en"), facts(db, "fr")


@pytest.mark.parametrize(
    ("when", "en", "fr"),
    [
        ({"category": "complaint"}, True, False),
        ({"category": ["question", "assistance"]}, False, True),
        ({"language": "en"}, True, False),
        ({"language": ["fr", "de"]}, False, True),
        ({"network": "x"}, True, True),
        ({"network": "mastodon"}, False, False),
        ({"account": "Brand_SAV"}, True, True),
        ({"account": "@brand_sav"}, True, True),  # as written with an @, any case
        ({"account": "Other"}, False, False),
        ({"keywords": ["refund"]}, True, False),
        ({"keywords": ["REFUND now"]}, True, False),  # every word of a keyword, any case
        ({"keywords": ["horaires", "train"]}, False, True),
        ({"keywords": ["fund"]}, False, False),  # whole words only
        ({"regex": r"ref(und|und)"}, True, False),
        ({"regex": r"samedi\s*\?"}, False, True),
        ({"min_followers": 10_000}, True, False),
        ({"min_followers": 0}, True, True),
        ({"verified": True}, True, False),
        ({"verified": False}, False, True),
        ({"tags": "vip"}, False, True),
        ({"category": "complaint", "language": "fr"}, False, False),  # every condition holds
        ({}, True, True),  # no condition: every case
    ],
)
def test_each_condition(
    two_cases: tuple[routing.Facts, routing.Facts], when: dict[str, Any], en: bool, fr: bool
) -> None:
    rule = spec(when)
    assert routing.matches(rule.when, two_cases[0]) is en
    assert routing.matches(rule.when, two_cases[1]) is fr


def test_urgency_cues_condition(db: Database) -> None:
    ingest(db, [item(customer(3), "@Brand_SAV panne totale depuis 3 jours !", external_id="c")])
    f = facts(db, "c")
    assert f.cues, "the text carries urgency cues"
    assert routing.matches(spec({"cues": sorted(f.cues)[:1]}).when, f)
    assert not routing.matches(spec({"cues": ["safety"]}).when, dataclasses.replace(f, cues=set()))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "r", "when": {"category": "rant"}, "then": {}}, "unknown category"),
        ({"name": "r", "when": {"regex": "(unclosed"}, "then": {}}, "does not compile"),
        ({"name": "r", "when": {"colour": "red"}, "then": {}}, "colour"),
        ({"name": "r", "then": {"team": ""}}, "team"),
        ({"name": "", "then": {}}, "name"),
        ({"name": "r", "when": {"min_followers": -1}, "then": {}}, "min_followers"),
    ],
)
def test_a_bad_rule_is_a_clear_error(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        routing.parse_rule(raw)


def test_teams_need_names() -> None:
    with pytest.raises(InvalidInput, match=r"teams\[1\]"):
        routing.RoutingSetup.from_config({}, [{"name": "A"}, {"label": "B"}])


def _setup(*rules: routing.RuleSpec, teams: tuple[str, ...] = ()) -> routing.RoutingSetup:
    return routing.RoutingSetup(tuple(routing.Rule(r, "file") for r in rules), teams)


def test_actions_team_agent_tags_and_not_support(db: Database) -> None:
    agent, _ = agent_with_token(db, "agent", email="lea@sav.test")
    ingest(db, [item(customer(1), COMPLAINT_EN, external_id="a")])
    case_id = case_of(db, "a")
    rules = _setup(
        spec({"language": "en"}, {"team": "Escalations", "agent": "LEA@sav.test"}, stop=False),
        spec({}, {"tags": ["routed", "en"], "not_support": True}),
        teams=("Escalations",),
    )
    with db.session() as s, s.begin():
        done = routing.route(s, [case_id], rules, weights=DEFAULT_WEIGHTS)
    assert done == {case_id: ["r", "r"]}
    with db.session() as s:
        case = s.get_one(Case, case_id)
        team = s.scalar(select(Team.name).where(Team.id == case.team_id))
        kinds = s.scalars(
            select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        ).all()
    assert team == "Escalations" and case.assignee_id == agent.id
    assert case.category == "other" and case.category_source == "agent"
    assert kinds.count("routed") == 2 and "assigned" in kinds and "category" in kinds


def test_first_match_stops_and_all_matches_go_on(db: Database) -> None:
    ingest(db, [item(customer(1), COMPLAINT_EN, external_id="a")])
    case_id = case_of(db, "a")
    first = spec({}, {"tags": ["one"]})  # stop = true by default
    second = spec({}, {"tags": ["two"]})
    with db.session() as s, s.begin():
        routing.route(s, [case_id], _setup(first, second), weights=DEFAULT_WEIGHTS)
        assert sorted(routing.service.case_tags(s, case_id)) == ["one"]
    go_on = spec({}, {"tags": ["three"]}, stop=False)
    with db.session() as s, s.begin():
        routing.route(s, [case_id], _setup(go_on, second), weights=DEFAULT_WEIGHTS)
        assert sorted(routing.service.case_tags(s, case_id)) == ["one", "three", "two"]
    off = spec({}, {"tags": ["four"]}, enabled=False)
    with db.session() as s, s.begin():
        routing.route(s, [case_id], _setup(off), weights=DEFAULT_WEIGHTS)
        assert "four" not in routing.service.case_tags(s, case_id)


def test_an_unknown_team_or_agent_is_refused(db: Database) -> None:
    ingest(db, [item(customer(1), COMPLAINT_EN, external_id="a")])
    case_id = case_of(db, "a")
    for then in ({"team": "Nobody"}, {"agent": "ghost@sav.test"}):
        with db.session() as s, s.begin(), pytest.raises(InvalidInput, match="routing: no"):
            routing.route(s, [case_id], _setup(spec({}, then)), weights=DEFAULT_WEIGHTS)


def test_rules_apply_when_a_case_opens_through_the_intake(db: Database) -> None:
    setup = _setup(
        spec({"category": "complaint", "language": "en"}, {"team": "Escalations"}),
        teams=("Escalations",),
    )
    intake = dataclasses.replace(intake_for(), routing=setup)
    from carebird.flows.intake import process_batch

    with db.session() as s, s.begin():
        process_batch(
            s,
            [
                item(customer(1), COMPLAINT_EN, external_id="en"),
                item(customer(2), QUESTION_FR, external_id="fr"),
            ],
            intake=intake,
        )
    with db.session() as s:
        rows = s.execute(select(Case.id, Team.name).outerjoin(Team, Team.id == Case.team_id))
        teams = {case_id: name for case_id, name in rows}
    assert teams == {case_of(db, "en"): "Escalations", case_of(db, "fr"): None}


def test_rules_apply_again_when_a_later_message_changes_the_category(db: Database) -> None:
    """A question that a later message turns into a complaint is routed then, unless an agent
    moved the case by hand meanwhile (their choice stands)."""
    setup = _setup(spec({"category": "complaint"}, {"team": "Escalations"}), teams=("Escalations",))
    intake = dataclasses.replace(intake_for(), routing=setup)
    from carebird.cases.service import assign
    from carebird.flows.intake import process_batch

    def batch(*items: Any) -> None:
        with db.session() as s, s.begin():
            process_batch(s, list(items), intake=intake)

    question = "@Brand_SAV hi, what are your opening hours on Saturday?"
    batch(item(customer(1), question, external_id="q1"), item(customer(2), question,
          external_id="q2"))  # fmt: skip
    first, second = case_of(db, "q1"), case_of(db, "q2")
    boss, _ = agent_with_token(db, "supervisor")
    with db.session() as s, s.begin():
        routing.ensure_teams(s, ["Support"])
        support = s.scalar(select(Team.id).where(Team.name == "Support"))
        assign(s, case_id=second, agent_id=None, team_id=support, actor_id=boss.id)
    batch(
        item(customer(1), COMPLAINT_EN, minutes=5, external_id="c1"),
        item(customer(2), COMPLAINT_EN, minutes=5, external_id="c2"),
    )
    assert case_of(db, "c1") == first and case_of(db, "c2") == second
    with db.session() as s:
        rows = s.execute(
            select(Case.id, Case.category, Team.name).outerjoin(Team, Team.id == Case.team_id)
        )
        got = {case_id: (category, team) for case_id, category, team in rows}
        routed = s.scalars(select(CaseEvent.case_id).where(CaseEvent.kind == "routed")).all()
    assert got == {first: ("complaint", "Escalations"), second: ("complaint", "Support")}
    assert routed == [first]


def test_the_dry_run_shows_what_a_rule_would_match_and_changes_nothing(db: Database) -> None:
    ingest(
        db,
        [
            item(customer(1), COMPLAINT_EN, external_id="en"),
            item(customer(2), QUESTION_FR, external_id="fr"),
        ],
    )
    rule = spec({"language": "en"}, {"team": "Escalations"})
    with db.session() as s:
        matched, shown = routing.dry_run(s, rule, days=7, now=T0)
        assert s.scalar(select(Case.team_id).where(Case.id == case_of(db, "en"))) is None
    assert matched == 1 and [m.case_id for m in shown] == [case_of(db, "en")]
    assert shown[0].language == "en" and shown[0].category == "complaint"
    with db.session() as s:
        assert routing.dry_run(s, rule, days=7, now=T0.replace(year=2027))[0] == 0  # too old


def test_a_priority_boost_is_kept_through_rescoring_and_said_in_words(db: Database) -> None:
    from carebird.cases.priority import describe
    from carebird.cases.scoring import score_cases

    ingest(db, [item(customer(1, followers=5), COMPLAINT_EN, external_id="a")])
    case_id = case_of(db, "a")
    with db.session() as s:
        before = s.get_one(Case, case_id).priority
    rules = _setup(spec({"keywords": ["refund"]}, {"priority_boost": 25}))
    with db.session() as s, s.begin():
        assert routing.route(s, [case_id], rules, weights=DEFAULT_WEIGHTS) == {case_id: ["r"]}
    with db.session() as s, s.begin():
        score_cases(s, [case_id], weights=DEFAULT_WEIGHTS)  # a later re-score keeps it
    with db.session() as s:
        case = s.get_one(Case, case_id)
        kinds = s.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)).all()
    assert case.priority_boost == 25 and case.priority == pytest.approx(before + 25, abs=1)
    assert {"code": "boost", "value": 25} in case.priority_reasons
    assert "règle +25" in describe(case.priority_reasons, "fr")
    assert "rule +25" in describe(case.priority_reasons, "en")
    assert "priority_boost" in kinds
    with pytest.raises(InvalidInput, match="priority_boost"):
        routing.parse_rule({"name": "r", "then": {"priority_boost": 1000}})
