"""Auto-assignment inside a team (round robin, least loaded, the cap, availability), the cases
an agent hands back going away, and the ones handed out when someone is free again, on both
engines; and two processes' worth of concurrent assignments on PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter

import pytest
from sqlalchemy import select

from carebird.auth.models import Agent, Team
from carebird.cases import teams
from carebird.cases.models import Case, CaseEvent
from carebird.cases.routing import RoutingSetup, Rule, parse_rule
from carebird.cases.service import assign
from carebird.db.database import Database
from carebird.errors import Forbidden
from carebird.flows.casework import bulk_apply, update_case
from carebird.flows.teams import set_status
from carebird.live.events import events_after, latest_event_id
from tests.factories import BRAND, agent_with_token, case_of, customer, ingest, intake_for, item

_n = iter(range(1, 10_000))


def new_cases(db: Database, count: int) -> list[int]:
    report = ingest(
        db, [item(customer(next(_n)), f"my parcel {i} is lost", minutes=i) for i in range(count)]
    )
    return sorted(report.new_cases)


def team_of(db: Database, mode: str, size: int, cap: int | None = None) -> tuple[int, list[int]]:
    members = [agent_with_token(db)[0].id for _ in range(size)]
    with db.session() as s, s.begin():
        team = teams.create_team(s, name=f"Team {next(_n)}")
        for agent_id in members:
            teams.add_member(s, team.id, agent_id)
        teams.update_team(s, team.id, {"assignment": mode, "max_open_per_agent": cap})
        return team.id, members


def move(db: Database, case_ids: list[int], team_id: int) -> None:
    for case_id in case_ids:  # one transaction each, as agents do it
        with db.session() as s, s.begin():
            assign(s, case_id=case_id, agent_id=None, team_id=team_id, actor_id=None)


def assignees(db: Database, case_ids: list[int]) -> list[int | None]:
    with db.session() as s:
        got = dict(s.execute(select(Case.id, Case.assignee_id).where(Case.id.in_(case_ids))).all())
    return [got[c] for c in case_ids]


def status(db: Database, actor: Agent, agent_id: int, value: str) -> list[int]:
    with db.session() as s, s.begin():
        return set_status(s, actor=actor, agent_id=agent_id, status=value)


def test_round_robin_takes_turns_and_skips_who_is_away(db: Database) -> None:
    team_id, (a, b, c) = team_of(db, "round_robin", 3)
    with db.session() as s, s.begin():
        teams.set_status(s, actor=s.get_one(Agent, b), agent_id=b, status="away")
    cases = new_cases(db, 5)
    move(db, cases, team_id)
    assert assignees(db, cases) == [a, c, a, c, a]
    with db.session() as s:
        auto = list(s.scalars(select(CaseEvent).where(CaseEvent.kind == "assigned")))
    assert [(e.case_id, e.new, e.actor_id, e.data) for e in auto] == [
        (case_id, str(agent), None, {"auto": "round_robin"})
        for case_id, agent in zip(cases, [a, c, a, c, a], strict=True)
    ]


def test_least_loaded_counts_active_cases_and_breaks_ties_by_id(db: Database) -> None:
    team_id, (a, b) = team_of(db, "least_loaded", 2)
    busy = new_cases(db, 2)
    with db.session() as s, s.begin():  # a already holds two cases (one of them resolved)
        for case_id in busy:
            assign(s, case_id=case_id, agent_id=a, team_id=None, actor_id=None)
    with db.session() as s, s.begin():
        update_case(
            s, case_id=busy[1], changes={"status": "resolved"}, actor_id=None,
            weights={}, routing=RoutingSetup(),
        )  # fmt: skip
    cases = new_cases(db, 3)
    move(db, cases, team_id)
    assert assignees(db, cases) == [b, a, b]  # 0 < 1, then 1 = 1 (a first), then 2 > 1


def test_the_cap_leaves_cases_with_the_team_until_someone_is_free(db: Database) -> None:
    team_id, (a, b) = team_of(db, "round_robin", 2, cap=1)
    cases = new_cases(db, 3)
    move(db, cases, team_id)
    assert assignees(db, cases) == [a, b, None]
    with db.session() as s:
        assert s.scalar(select(Case.team_id).where(Case.id == cases[2])) == team_id
    with db.session() as s, s.begin():  # a resolves their case: the waiting one is theirs
        update_case(
            s, case_id=cases[0], changes={"status": "resolved"}, actor_id=a,
            weights={}, routing=RoutingSetup(),
        )  # fmt: skip
    assert assignees(db, cases) == [a, b, a]


def test_nobody_available_then_a_member_comes_back(db: Database) -> None:
    team_id, (a, b) = team_of(db, "least_loaded", 2)
    lead, _ = agent_with_token(db, "supervisor")
    with db.session() as s:
        peer = s.get_one(Agent, a)
    with pytest.raises(Forbidden):  # an agent sets their own status only
        status(db, peer, b, "away")
    status(db, lead, a, "offline")
    status(db, lead, b, "away")
    cases = new_cases(db, 2)
    move(db, cases, team_id)
    assert assignees(db, cases) == [None, None]
    assert status(db, lead, b, "available") == cases
    assert assignees(db, cases) == [b, b]


def test_an_agent_going_away_hands_back_the_cases_awaiting_an_answer(db: Database) -> None:
    team_id, (a, b) = team_of(db, "round_robin", 2)
    with db.session() as s:
        me = s.get_one(Agent, a)
    ingest(db, [item(customer(501), "my parcel is lost", external_id="w1")])
    ingest(db, [item(customer(502), "my parcel is late", external_id="a1")])
    ingest(db, [item(BRAND, "@customer502 on it", minutes=5, in_reply_to_id="a1")])
    waiting, answered = case_of(db, "w1"), case_of(db, "a1")
    with db.session() as s, s.begin():
        for case_id in (waiting, answered):
            assign(s, case_id=case_id, agent_id=a, team_id=team_id, actor_id=a)
    with db.session() as s:
        after = latest_event_id(s)
    assert status(db, me, a, "away") == [waiting]
    assert assignees(db, [waiting, answered]) == [b, a]
    with db.session() as s:
        live = [(e.kind, e.case_id, e.payload) for e in events_after(s, after)]
        logged = list(
            s.scalars(
                select(CaseEvent.data)
                .where(CaseEvent.case_id == waiting, CaseEvent.kind == "assigned")
                .order_by(CaseEvent.id)
            )
        )
    assert logged[-2:] == [{"auto": "away"}, {"auto": "round_robin"}]
    assert [(k, c) for k, c, _ in live] == [("case.updated", waiting), ("agent.status", None)]
    assert live[0][2]["assignee_id"] == b
    assert {k: live[1][2][k] for k in ("agent_id", "status", "cases")} == {
        "agent_id": a, "status": "away", "cases": [waiting],
    }  # fmt: skip
    assert status(db, me, a, "away") == []  # unchanged: nothing announced
    with db.session() as s:
        assert latest_event_id(s) == after + 2


def test_someone_deactivated_hands_back_every_active_case(db: Database) -> None:
    """Leaving the desk is not going away for lunch: even an answered case (the customer may
    write again) goes back to the team, to someone who can still answer it."""
    from carebird.flows.teams import set_active

    team_id, (a, b) = team_of(db, "round_robin", 2)
    agent_with_token(db, "admin")  # the desk keeps an admin whoever leaves
    ingest(db, [item(customer(601), "my parcel is lost", external_id="d1")])
    ingest(db, [item(customer(602), "my parcel is late", external_id="d2")])
    ingest(db, [item(BRAND, "@customer602 on it", minutes=5, in_reply_to_id="d2")])
    waiting, answered = case_of(db, "d1"), case_of(db, "d2")
    with db.session() as s, s.begin():
        for case_id in (waiting, answered):
            assign(s, case_id=case_id, agent_id=a, team_id=team_id, actor_id=a)
    with db.session() as s, s.begin():
        assert set_active(s, agent_id=a, active=False).active is False
    assert assignees(db, [waiting, answered]) == [b, b]
    with db.session() as s:
        reasons = s.scalars(
            select(CaseEvent.data).where(CaseEvent.kind == "assigned", CaseEvent.old == str(a))
        ).all()
    assert list(reasons) == [{"auto": "deactivated"}] * 2


def test_a_routed_case_is_assigned_when_it_opens(db: Database) -> None:
    team_id, (a, _b) = team_of(db, "round_robin", 2)
    with db.session() as s:
        name = s.get_one(Team, team_id).name
    rule = Rule(parse_rule({"name": "all", "then": {"team": name}}), "file")
    intake = dataclasses.replace(intake_for(), routing=RoutingSetup(rules=(rule,)))
    report = ingest(db, [item(customer(999), "my parcel is lost")], intake=intake)
    assert assignees(db, report.new_cases) == [a]
    with db.session() as s:
        kinds = list(
            s.scalars(
                select(CaseEvent.kind)
                .where(CaseEvent.case_id == report.new_cases[0])
                .order_by(CaseEvent.id)
            )
        )
    assert kinds[-3:] == ["team", "assigned", "routed"]


@pytest.mark.parametrize("engine_name", ["postgresql", "sqlite"])
@pytest.mark.parametrize(("mode", "cap"), [("round_robin", None), ("least_loaded", 2)])
def test_concurrent_assignments_keep_turns_and_the_cap(
    db: Database, engine_name: str, mode: str, cap: int | None
) -> None:
    team_id, members = team_of(db, mode, 3)
    with db.session() as s, s.begin():
        teams.update_team(s, team_id, {"max_open_per_agent": cap})
    cases = new_cases(db, 9 if cap is None else 8)
    start = threading.Barrier(len(cases))
    errors: list[BaseException] = []

    def work(case_id: int) -> None:
        try:
            with db.session() as s, s.begin():
                s.get_one(Case, case_id)
                start.wait(timeout=30)
                assign(s, case_id=case_id, agent_id=None, team_id=team_id, actor_id=None)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    got = Counter(assignees(db, cases))
    if cap is None:  # nine turns: three each, never the same turn twice
        assert got == {m: 3 for m in members}
    else:  # eight cases, room for six: two each, two wait with the team
        assert got == {**{m: 2 for m in members}, None: 2}


@pytest.mark.parametrize("engine_name", ["postgresql"])
def test_transactions_assigning_in_two_teams_in_opposite_orders_never_deadlock(
    db: Database, engine_name: str
) -> None:
    first, _ = team_of(db, "round_robin", 1)
    second, _ = team_of(db, "round_robin", 1)
    rounds = 5
    cases = new_cases(db, 4 * rounds)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(pairs: list[tuple[int, int]]) -> None:
        try:
            for case_a, team_a, case_b, team_b in pairs:
                start.wait(timeout=30)
                with db.session() as s, s.begin():
                    assign(s, case_id=case_a, agent_id=None, team_id=team_a, actor_id=None)
                    assign(s, case_id=case_b, agent_id=None, team_id=team_b, actor_id=None)
        except BaseException as exc:  # reported below
            errors.append(exc)

    chunks = [cases[i : i + 4] for i in range(0, len(cases), 4)]
    one = [(c[0], second, c[1], first) for c in chunks]  # the higher team first
    two = [(c[2], first, c[3], second) for c in chunks]
    threads = [threading.Thread(target=work, args=(p,)) for p in (one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert None not in assignees(db, cases)


def test_resolving_in_bulk_hands_out_the_teams_waiting_cases(db: Database) -> None:
    team_id, (a,) = team_of(db, "least_loaded", 1, cap=2)
    cases = new_cases(db, 4)
    move(db, cases, team_id)
    assert assignees(db, cases) == [a, a, None, None]
    with db.session() as s:
        after = latest_event_id(s)
    with db.session() as s, s.begin():
        bulk_apply(s, case_ids=cases[:2], action="resolve", actor_id=a, weights={})
    assert assignees(db, cases) == [a, a, a, a]
    with db.session() as s:
        told = sorted(e.case_id for e in events_after(s, after) if e.kind == "case.updated")
    assert told == sorted(cases)
