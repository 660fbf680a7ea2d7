"""Threading rules: one customer × one problem, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from carebird.cases.models import Case, CaseEvent
from carebird.cases.service import change_status
from carebird.db.database import Database
from carebird.flows.intake import process_batch
from carebird.ingest.base import AuthorInfo, Direction, InboundItem, MessageKind
from carebird.ingest.models import Message, NetworkAccount
from tests.factories import intake_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(days=7)
BRAND = AuthorInfo("b1", "Brand_SAV", "Brand support")
ALICE = AuthorInfo("u1", "alice", "Alice")
BOB = AuthorInfo("u2", "bob", "Bob")


def msg(
    ext: str, author: AuthorInfo, minutes: float, text: str = "hello", **kw: object
) -> InboundItem:
    direction = Direction.OUT if author is BRAND else Direction.IN
    kw.setdefault("direction", direction)
    kw.setdefault("account_handle", "Brand_SAV")
    return InboundItem(
        network="x",
        external_id=ext,
        author=author,
        text=text,
        created_at=T0 + timedelta(minutes=minutes),
        **kw,
    )  # type: ignore[arg-type]


def ingest(db: Database, *items: InboundItem) -> None:
    with db.session() as s, s.begin():
        if s.scalar(select(func.count()).select_from(NetworkAccount)) == 0:
            s.add(NetworkAccount(network="x", handle="Brand_SAV", external_id="b1"))
            s.flush()
        process_batch(s, list(items), intake=intake_for())


def case_of(db: Database, ext: str) -> int | None:
    with db.session() as s:
        return s.scalar(select(Message.case_id).where(Message.external_id == ext))


def count(db: Database, model: type) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_reply_chain_and_private_messages_join_one_case(db: Database) -> None:
    ingest(db, msg("1", ALICE, 0, "@Brand_SAV my order never came"))
    ingest(
        db,
        msg(
            "2",
            BRAND,
            10,
            "@alice sorry! can you DM us?",
            kind=MessageKind.REPLY,
            in_reply_to_id="1",
            conversation_id="1",
        ),
    )
    ingest(
        db,
        msg(
            "3", ALICE, 15, "done", kind=MessageKind.REPLY, in_reply_to_id="2", conversation_id="1"
        ),
    )
    ingest(db, msg("4", ALICE, 16, "order 123", kind=MessageKind.DIRECT))
    cases = {case_of(db, e) for e in "1234"}
    assert len(cases) == 1 and None not in cases
    with db.session() as s:
        rows = s.execute(
            select(Message.external_id, Message.is_private, Message.direction).order_by(
                Message.created_at
            )
        ).all()
        case = s.get(Case, cases.pop())
    assert [(r.is_private, r.direction) for r in rows] == [
        (False, "in"),
        (False, "out"),
        (False, "in"),
        (True, "in"),
    ]
    assert case is not None and case.message_count == 4 and case.status == "open"


def test_redelivery_stores_nothing_twice(db: Database) -> None:
    items = [msg("1", ALICE, 0), msg("2", BOB, 1), msg("1", ALICE, 0)]
    ingest(db, *items)
    ingest(db, *items)
    assert count(db, Message) == 2
    assert count(db, Case) == 2


def test_our_echo_and_own_posts_never_open_a_case(db: Database) -> None:
    # The connector calls it inbound, but the author is our own account: it is ours.
    ingest(db, msg("10", BRAND, 0, "New timetable tomorrow!", direction=Direction.IN))
    with db.session() as s:
        m = s.scalar(select(Message).where(Message.external_id == "10"))
    assert m is not None and m.direction == "out" and m.kind == "own_post" and m.case_id is None
    assert count(db, Case) == 0


def test_another_customer_in_the_thread_gets_their_own_case(db: Database) -> None:
    ingest(db, msg("1", ALICE, 0, "@Brand_SAV wifi down"))
    ingest(
        db,
        msg(
            "2",
            BOB,
            3,
            "@alice same here",
            kind=MessageKind.REPLY,
            in_reply_to_id="1",
            conversation_id="1",
        ),
    )
    assert case_of(db, "1") != case_of(db, "2")
    # …and our answer to Bob lands in Bob's case.
    ingest(
        db,
        msg(
            "3",
            BRAND,
            9,
            "@bob looking into it",
            kind=MessageKind.REPLY,
            in_reply_to_id="2",
            conversation_id="1",
        ),
    )
    assert case_of(db, "3") == case_of(db, "2")


def test_writing_again_reopens_recent_and_starts_new_after_window(db: Database) -> None:
    ingest(db, msg("1", ALICE, 0, "@Brand_SAV refund?"))
    first = case_of(db, "1")
    assert first is not None
    with db.session() as s, s.begin():
        change_status(s, case_id=first, status="open", actor_id=None)
        change_status(s, case_id=first, status="resolved", actor_id=None)
    with db.session() as s:
        resolved_at = s.get(Case, first).resolved_at  # type: ignore[union-attr]
    assert resolved_at is not None
    minutes_after = (resolved_at - T0).total_seconds() / 60
    ingest(db, msg("2", ALICE, minutes_after + 60 * 24, "@Brand_SAV still nothing"))
    assert case_of(db, "2") == first
    with db.session() as s:
        assert s.get(Case, first).status == "open"  # type: ignore[union-attr]
        kinds = s.scalars(select(CaseEvent.data).where(CaseEvent.case_id == first)).all()
    assert {"reason": "reopened"} in kinds
    with db.session() as s, s.begin():
        change_status(s, case_id=first, status="resolved", actor_id=None)
        resolved_at = s.get(Case, first).resolved_at  # type: ignore[union-attr]
    assert resolved_at is not None
    later = (resolved_at - T0).total_seconds() / 60 + 60 * 24 * 8
    ingest(db, msg("3", ALICE, later, "@Brand_SAV new problem"))
    assert case_of(db, "3") not in (None, first)


def test_customer_answer_brings_a_waiting_case_back_to_open(db: Database) -> None:
    ingest(db, msg("1", ALICE, 0))
    case_id = case_of(db, "1")
    assert case_id is not None
    with db.session() as s, s.begin():
        change_status(s, case_id=case_id, status="waiting_customer", actor_id=None)
    ingest(db, msg("2", ALICE, 5, "here is the info", kind=MessageKind.DIRECT))
    with db.session() as s:
        assert s.get(Case, case_id).status == "open"  # type: ignore[union-attr]


def test_hostile_text_is_kept_and_bad_items_are_reported(db: Database) -> None:
    hostile = "<script>alert(1)</script>\x00\x07 zalgo ḩ̷̛ e\u202e 🇫🇷 " + "x" * 100_000 + "\ud800"
    good = msg("1", ALICE, 0, hostile)
    naive = InboundItem(
        network="x", external_id="2", author=BOB, text="hi", created_at=datetime(2026, 1, 1)
    )
    no_id = msg("", BOB, 1)
    with db.session() as s, s.begin():
        s.add(NetworkAccount(network="x", handle="Brand_SAV", external_id="b1"))
        s.flush()
        report = process_batch(s, [good, naive, no_id], intake=intake_for())
    assert report.stored == 1
    assert {why.split(":")[-1].strip() for _, why in report.rejected} >= {
        "created_at has no time zone"
    }
    assert len(report.rejected) == 2
    with db.session() as s:
        stored = s.scalar(select(Message.text).where(Message.external_id == "1"))
    assert stored is not None
    assert stored.startswith("<script>alert(1)</script> zalgo")  # controls dropped, rest verbatim
    assert "\x00" not in stored and len(stored) > 100_000
