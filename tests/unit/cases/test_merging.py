"""Merging and splitting cases: content moves, logs stay append-only, times stay derived."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from carebird.auth.models import Agent
from carebird.cases.merging import merge_cases, merged_into, split_case
from carebird.cases.models import Case, CaseEvent, CaseTag
from carebird.cases.notes import CaseNote, add_note
from carebird.cases.service import change_status, set_tags
from carebird.cases.timeline import timeline
from carebird.db.database import Database
from carebird.errors import Conflict, Forbidden, InvalidInput
from carebird.ingest.models import Message
from carebird.insights.metrics import case_times
from tests.factories import BRAND, T0, agent_with_token, case_of, customer, ingest, item

DAY = 24 * 60


def two_cases(db: Database, other: int = 1) -> tuple[int, int]:
    """Case A (customer 1, closed then reopened) and case B (customer `other`), B answered."""
    ingest(db, [item(customer(1), "my parcel is lost", external_id="a1")])
    a = case_of(db, "a1")
    with db.session() as s, s.begin():
        change_status(s, case_id=a, status="closed", actor_id=None)
    ingest(
        db,
        [
            item(customer(other), "still no parcel", minutes=DAY, external_id="b1"),
            item(BRAND, "we are on it", minutes=DAY + 30, in_reply_to_id="b1", external_id="b2"),
        ],
    )
    b = case_of(db, "b1")
    assert b != a
    with db.session() as s, s.begin():
        change_status(s, case_id=a, status="open", actor_id=None)
    return a, b


def agent(db: Database, role: str = "agent") -> Agent:
    return agent_with_token(db, role)[0]


def case(db: Database, case_id: int) -> Case:
    with db.session() as s:
        found = s.get(Case, case_id)
        assert found is not None
        return found


def kinds(db: Database, case_id: int) -> list[str]:
    with db.session() as s:
        stmt = select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        return list(s.scalars(stmt))


def test_merge_moves_content_and_closes_the_other_case(db: Database) -> None:
    a, b = two_cases(db)
    actor = agent(db)
    with db.session() as s, s.begin():
        set_tags(s, case_id=b, add=["parcel", "urgent"], actor_id=None)
        set_tags(s, case_id=a, add=["parcel"], actor_id=None)
        add_note(s, case_id=b, body="depot called", agent_id=actor.id)
    with db.session() as s, s.begin():
        merge_cases(s, case_id=a, other_id=b, actor=actor)
    with db.session() as s:
        assert set(s.scalars(select(Message.external_id).where(Message.case_id == a))) == {
            "a1",
            "b1",
            "b2",
        }
        assert s.scalars(select(CaseNote.case_id)).all() == [a]
        tags = s.execute(select(CaseTag.case_id, CaseTag.tag).order_by(CaseTag.tag)).all()
        assert [tuple(t) for t in tags] == [(a, "parcel"), (a, "urgent")]
        assert merged_into(s, b) == a
    merged, gone = case(db, a), case(db, b)
    assert (merged.message_count, gone.message_count) == (3, 0)
    assert merged.created_at == T0 and merged.last_activity_at == T0 + timedelta(minutes=DAY + 30)
    assert gone.status == "closed"
    # B (opened by our reply) closed through the state machine, after the merge event.
    after = kinds(db, b)[kinds(db, b).index("merged_into") :]
    assert after == ["merged_into", "tag_removed", "tag_removed", "status", "status"]
    with db.session() as s:
        moves = s.execute(
            select(CaseEvent.old, CaseEvent.new)
            .where(CaseEvent.case_id == b, CaseEvent.kind == "status")
            .order_by(CaseEvent.id)
        ).all()
    assert [tuple(m) for m in moves][-2:] == [("open", "resolved"), ("resolved", "closed")]
    assert "merged" in kinds(db, a)


def test_metrics_follow_the_moved_messages(db: Database) -> None:
    a, b = two_cases(db)
    with db.session() as s, s.begin():
        merge_cases(s, case_id=a, other_id=b, actor=agent(db))
    with db.session() as s:
        times = {t.case_id: t for t in case_times(s)}
    # A's first response is now the reply that B's message got; B has nothing left to measure.
    assert times[a].first_inbound_at == T0
    assert times[a].first_response_seconds == (DAY + 30) * 60
    assert times[b].first_inbound_at is None and times[b].first_response_seconds is None
    assert times[b].resolution_seconds is None


def test_a_reply_to_a_moved_message_threads_into_the_merged_case(db: Database) -> None:
    a, b = two_cases(db)
    with db.session() as s, s.begin():
        merge_cases(s, case_id=a, other_id=b, actor=agent(db))
    ingest(db, [item(customer(1), "thanks!", minutes=DAY + 60, in_reply_to_id="b2")])
    with db.session() as s:
        last = s.scalar(select(Message.case_id).order_by(Message.id.desc()).limit(1))
    assert last == a


def test_merging_other_customers_needs_a_supervisor_who_forces_it(db: Database) -> None:
    a, b = two_cases(db, other=2)
    with db.session() as s, s.begin(), pytest.raises(Conflict, match="different customers"):
        merge_cases(s, case_id=a, other_id=b, actor=agent(db))
    with db.session() as s, s.begin(), pytest.raises(Forbidden):
        merge_cases(s, case_id=a, other_id=b, actor=agent(db), force=True)
    assert case(db, b).message_count == 2 and "merged_into" not in kinds(db, b)
    with db.session() as s, s.begin():
        merge_cases(s, case_id=a, other_id=b, actor=agent(db, "supervisor"), force=True)
    assert case(db, a).message_count == 3
    with db.session() as s:
        event = s.scalar(select(CaseEvent).where(CaseEvent.kind == "merged"))
        assert event is not None and event.data["forced"] is True


def test_merge_refusals(db: Database) -> None:
    a, b = two_cases(db)
    ingest(db, [item(customer(1), "toot", network="mastodon", external_id="t1")])
    elsewhere = case_of(db, "t1")
    actor = agent(db, "admin")
    with db.session() as s, s.begin(), pytest.raises(InvalidInput, match="itself"):
        merge_cases(s, case_id=a, other_id=a, actor=actor)
    with db.session() as s, s.begin(), pytest.raises(InvalidInput, match="networks"):
        merge_cases(s, case_id=a, other_id=elsewhere, actor=actor, force=True)
    with db.session() as s, s.begin():
        merge_cases(s, case_id=a, other_id=b, actor=actor)
    for target, other in ((a, b), (b, a)):
        with db.session() as s, s.begin(), pytest.raises(Conflict, match="already merged"):
            merge_cases(s, case_id=target, other_id=other, actor=actor)


def test_timeline_reads_the_merged_case_history_up_to_the_merge(db: Database) -> None:
    a, b = two_cases(db)
    with db.session() as s, s.begin():
        set_tags(s, case_id=b, add=["before"], actor_id=None)
    with db.session() as s, s.begin():
        merge_cases(s, case_id=a, other_id=b, actor=agent(db))
    with db.session() as s:
        items = timeline(s, case_id=a, locale="en")
    from_b = [(i.kind, i.new) for i in items if i.case_id == b]
    assert from_b == [
        ("event.created", "new"),
        ("event.status", "open"),  # our reply, before the merge
        ("event.tag_added", "before"),
    ]  # B's own closing (tags removed, resolved, closed) is not A's history
    merged = next(i for i in items if i.kind == "event.merged")
    assert merged.label == "Case merged here" and merged.new == str(b)
    assert [i.ref_id for i in items if i.source == "message"] == sorted(
        i.ref_id for i in items if i.source == "message"
    )


def split_setup(db: Database) -> int:
    ingest(
        db,
        [
            item(customer(1), "my parcel is lost", external_id="s1"),
            item(BRAND, "sorry, checking", minutes=5, in_reply_to_id="s1", external_id="s2"),
            item(customer(1), "also my invoice is wrong", minutes=10, external_id="s3"),
            item(customer(1), "invoice 2024-11 says 90€", minutes=12, external_id="s4"),
        ],
    )
    return case_of(db, "s1")


def ids_of(db: Database, *external: str) -> list[int]:
    with db.session() as s:
        stmt = select(Message.id).where(Message.external_id.in_(external)).order_by(Message.id)
        return list(s.scalars(stmt))


def test_split_moves_chosen_messages_into_a_new_case_of_the_customer(db: Database) -> None:
    source = split_setup(db)
    actor = agent(db)
    chosen = ids_of(db, "s3", "s4")
    with db.session() as s, s.begin():
        new = split_case(s, case_id=source, message_ids=chosen, actor_id=actor.id).id
    kept, split = case(db, source), case(db, new)
    assert split.customer_id == kept.customer_id and split.network == "x"
    assert split.status == "new"  # nothing of ours among its messages
    assert (kept.message_count, split.message_count) == (2, 2)
    assert split.created_at == T0 + timedelta(minutes=10)
    assert split.last_activity_at == T0 + timedelta(minutes=12)
    assert kept.last_activity_at == T0 + timedelta(minutes=5)
    assert split.subject == "also my invoice is wrong"
    with db.session() as s:
        moved = s.scalars(select(Message.case_id).where(Message.id.in_(chosen))).all()
        times = {t.case_id: t for t in case_times(s)}
    assert set(moved) == {new}
    assert times[source].first_response_seconds == 300
    assert times[new].first_response_seconds is None
    assert kinds(db, new) == ["created", "split_from"]
    assert kinds(db, source)[-1] == "split_into"
    # New messages of the customer now join the newest case (the split one).
    ingest(db, [item(customer(1), "any news on the invoice?", minutes=20, external_id="s5")])
    assert case_of(db, "s5") == new


def test_split_with_our_reply_opens_the_new_case(db: Database) -> None:
    source = split_setup(db)
    with db.session() as s, s.begin():
        new = split_case(s, case_id=source, message_ids=ids_of(db, "s1", "s2"), actor_id=None)
    assert case(db, new.id).status == "open"
    assert case(db, source).created_at == T0 + timedelta(minutes=10)


@pytest.mark.parametrize(
    ("chosen", "match"),
    [
        ((), "at least one message"),
        (("s2",), "customer message"),  # the new case would have no customer message
        (("s1", "s3", "s4"), "customer message"),  # the old one would keep none
    ],
)
def test_split_refusals(db: Database, chosen: tuple[str, ...], match: str) -> None:
    source = split_setup(db)
    with db.session() as s, s.begin(), pytest.raises(InvalidInput, match=match):
        split_case(s, case_id=source, message_ids=ids_of(db, *chosen), actor_id=None)
    assert case(db, source).message_count == 4


def test_split_refuses_messages_of_another_case(db: Database) -> None:
    source = split_setup(db)
    ingest(db, [item(customer(2), "hello", external_id="o1")])
    with db.session() as s, s.begin(), pytest.raises(InvalidInput, match="not in case"):
        split_case(s, case_id=source, message_ids=ids_of(db, "s3", "o1"), actor_id=None)


def test_the_customer_writing_after_a_merge_joins_the_merged_case(db: Database) -> None:
    a, b = two_cases(db)
    with db.session() as s, s.begin():
        merge_cases(s, case_id=a, other_id=b, actor=agent(db))
    # B (the newer, now empty and closed) must not catch the customer's next message.
    ingest(db, [item(customer(1), "any news?", minutes=2 * DAY, external_id="c1")])
    assert case_of(db, "c1") == a
