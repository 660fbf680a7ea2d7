"""Case mutations (each logged with its actor) and the read side, on both engines."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from carebird.auth.models import Team
from carebird.cases import queries
from carebird.cases.models import Case, CaseEvent
from carebird.cases.service import assign, change_status, set_tags, update_case
from carebird.db.database import Database
from carebird.errors import InvalidInput, InvalidTransition, NotFound
from tests.factories import BRAND, agent_with_token, case_of, customer, ingest, item, private


def events(db: Database, case_id: int, kind: str | None = None) -> list[CaseEvent]:
    with db.session() as s:
        stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        rows = list(s.scalars(stmt))
    return [e for e in rows if kind is None or e.kind == kind]


def one_case(db: Database) -> int:
    ingest(db, [item(customer(1), "my parcel is lost", external_id="a1")])
    return case_of(db, "a1")


def get_case(db: Database, case_id: int) -> Case:
    with db.session() as s:
        case = s.get(Case, case_id)
        assert case is not None
        return case


def test_status_changes_are_logged_with_their_actor(db: Database) -> None:
    case_id = one_case(db)
    agent, _ = agent_with_token(db)
    with db.session() as s, s.begin():
        change_status(s, case_id=case_id, status="open", actor_id=agent.id)
        change_status(s, case_id=case_id, status="resolved", actor_id=agent.id)
    resolved = get_case(db, case_id)
    assert resolved.status == "resolved" and resolved.resolved_at is not None
    with db.session() as s, s.begin():
        change_status(s, case_id=case_id, status="closed", actor_id=agent.id)
    closed = get_case(db, case_id)
    assert closed.closed_at is not None and closed.resolved_at == resolved.resolved_at
    with db.session() as s, s.begin():
        change_status(s, case_id=case_id, status="open", actor_id=None)
    reopened = get_case(db, case_id)
    assert reopened.resolved_at is None and reopened.closed_at is None
    log = [(e.old, e.new, e.actor_id) for e in events(db, case_id, "status")]
    assert log == [
        ("new", "open", agent.id),
        ("open", "resolved", agent.id),
        ("resolved", "closed", agent.id),
        ("closed", "open", None),
    ]
    assert events(db, case_id, "status")[-1].data == {"reason": "reopened"}


@pytest.mark.parametrize("target", ["new", "closed", "nonsense"])
def test_forbidden_transition_changes_nothing(db: Database, target: str) -> None:
    case_id = one_case(db)
    with db.session() as s, s.begin():
        change_status(s, case_id=case_id, status="open", actor_id=None)
    before = len(events(db, case_id))
    with db.session() as s, s.begin(), pytest.raises(InvalidTransition):
        change_status(s, case_id=case_id, status=target, actor_id=None)
    assert get_case(db, case_id).status == "open"
    assert len(events(db, case_id)) == before


def test_unknown_case(db: Database) -> None:
    with db.session() as s, s.begin(), pytest.raises(NotFound):
        change_status(s, case_id=999, status="open", actor_id=None)


def test_assign_logs_only_what_changed(db: Database) -> None:
    case_id = one_case(db)
    agent, _ = agent_with_token(db)
    with db.session() as s, s.begin():
        team = Team(name="Billing")
        s.add(team)
        s.flush()
        team_id = team.id
    with db.session() as s, s.begin():
        assign(s, case_id=case_id, agent_id=agent.id, team_id=team_id, actor_id=agent.id)
        assign(s, case_id=case_id, agent_id=agent.id, team_id=None, actor_id=agent.id)
    case = get_case(db, case_id)
    assert (case.assignee_id, case.team_id) == (agent.id, None)
    assert [(e.kind, e.old, e.new) for e in events(db, case_id) if e.kind != "created"] == [
        ("assigned", None, str(agent.id)),
        ("team", None, str(team_id)),
        ("team", str(team_id), None),
    ]
    with db.session() as s, s.begin(), pytest.raises(InvalidInput):
        assign(s, case_id=case_id, agent_id=4242, team_id=None, actor_id=None)


def test_tags_are_normalised_and_logged(db: Database) -> None:
    case_id = one_case(db)
    with db.session() as s, s.begin():
        tags = set_tags(s, case_id=case_id, add=[" Refund ", "refund", "ÉTÉ"], actor_id=None)
        assert tags == ["refund", "été"]
        tags = set_tags(s, case_id=case_id, add=["refund"], remove=["été", "absent"], actor_id=None)
        assert tags == ["refund"]
    kinds = [(e.kind, e.old, e.new) for e in events(db, case_id) if e.kind.startswith("tag")]
    assert kinds == [
        ("tag_added", None, "refund"),
        ("tag_added", None, "été"),
        ("tag_removed", "été", None),
    ]
    for bad in ["", "   ", "x" * 65, "bad\ttag", "nul\x00"]:
        with db.session() as s, s.begin(), pytest.raises(InvalidInput):
            set_tags(s, case_id=case_id, add=[bad], actor_id=None)
    with db.session() as s, s.begin(), pytest.raises(InvalidInput):
        set_tags(s, case_id=case_id, add=["a"], remove=["A"], actor_id=None)


def test_update_case_is_partial_and_atomic(db: Database) -> None:
    case_id = one_case(db)
    agent, _ = agent_with_token(db)
    with db.session() as s, s.begin():
        update_case(s, case_id=case_id, changes={"assignee_id": agent.id}, actor_id=agent.id)
        update_case(s, case_id=case_id, changes={"tags_add": ["vip"]}, actor_id=agent.id)
    assert get_case(db, case_id).assignee_id == agent.id  # untouched by the second update
    before = len(events(db, case_id))
    with db.session() as s, pytest.raises(InvalidTransition), s.begin():
        changes = {"tags_add": ["late"], "status": "new"}
        update_case(s, case_id=case_id, changes=changes, actor_id=agent.id)
    assert len(events(db, case_id)) == before


def test_list_cases_filters_sorts_and_pages(db: Database) -> None:
    ingest(
        db,
        [
            item(customer(n), f"problem {n} 100%_done", minutes=n, external_id=f"c{n}")
            for n in range(1, 8)
        ],
    )
    ids = [case_of(db, f"c{n}") for n in range(1, 8)]
    with db.session() as s, s.begin():
        set_tags(s, case_id=ids[2], add=["vip"], actor_id=None)
        change_status(s, case_id=ids[0], status="open", actor_id=None)
    with db.session() as s:
        page = queries.list_cases(s, sort="activity", limit=3)
        assert [c.id for c in page.items] == ids[::-1][:3] and page.total == 7
        seen = [c.id for c in page.items]
        while page.next:
            page = queries.list_cases(s, sort="activity", limit=3, cursor=page.next)
            seen += [c.id for c in page.items]
        assert seen == ids[::-1]
        assert [c.id for c in queries.list_cases(s, sort="created", offset=5).items] == ids[1::-1]
        assert [c.id for c in queries.list_cases(s, tag="VIP").items] == [ids[2]]
        assert queries.list_cases(s, tag="vip").items[0].tags == ["vip"]
        assert [c.id for c in queries.list_cases(s, status=["open"]).items] == [ids[0]]
        assert queries.list_cases(s, status=["new", "open"]).total == 7
        assert [c.id for c in queries.list_cases(s, q="PROBLEM 4").items] == [ids[3]]
        assert queries.list_cases(s, q="%").total == 7  # a literal percent sign, not a wildcard
        assert queries.list_cases(s, q="0%_d").total == 7
        assert queries.list_cases(s, q="x%").total == 0
        assert queries.list_cases(s, network="mastodon").total == 0
        assert queries.list_cases(s, limit=1000).items[0].customer_handle == "customer7"
        with pytest.raises(InvalidInput):
            queries.list_cases(s, sort="priority", cursor=page.next or "garbage")
        activity = queries.list_cases(s, limit=2).next
        assert activity is not None
        with pytest.raises(InvalidInput):
            queries.list_cases(s, sort="created", cursor=activity)


def test_case_detail_and_messages(db: Database) -> None:
    alice = customer(1, followers=1234, verified=True)
    ingest(db, [item(alice, "first", minutes=0, external_id="d1")])
    ingest(
        db,
        [
            item(BRAND, "@customer1 sorry", minutes=5, external_id="d2", in_reply_to_id="d1"),
            private(alice, "my order is 42", minutes=9, external_id="d3"),
        ],
    )
    case_id = case_of(db, "d1")
    with db.session() as s:
        detail = queries.case_detail(s, case_id=case_id)
        msgs = [
            (m.external_id, m.direction, m.is_private, m.author_handle) for m in detail.messages
        ]
        assert msgs == [
            ("d1", "in", False, "customer1"),
            ("d2", "out", False, "Brand_SAV"),
            ("d3", "in", True, "customer1"),
        ]
        assert (detail.customer.followers, detail.customer.verified) == (1234, True)
        assert detail.events[0].kind == "created"
        assert detail.case.message_count == 3
        with pytest.raises(NotFound):
            queries.case_detail(s, case_id=999)
        page = queries.list_messages(s, limit=2)
        assert [m.external_id for m in page.items] == ["d3", "d2"] and page.next == "2"
        assert [m.external_id for m in queries.list_messages(s, offset=2).items] == ["d1"]
        assert queries.list_messages(s, direction="out").total == 1
        assert queries.list_messages(s, case_id=case_id).items[0].external_id == "d1"
        total = s.scalar(select(func.count()).select_from(CaseEvent))
        assert total == len(detail.events)
