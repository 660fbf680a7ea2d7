"""Replies go out at most once: a crash after the network took a post, failures with backoff
shown on the case, and the personal-data guard on public replies."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from carebird.cases.models import CaseEvent
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.errors import PersonalDataInPublic, TransientNetworkError
from carebird.flows.replies import send_pending
from carebird.reply.models import OutboxItem
from carebird.reply.outbox import queue_reply, queue_thread
from tests.factories import BRAND_HANDLE, case_of, customer, ingest, intake_for, item
from tests.support.scripted import ScriptedNetwork


def _case(db: Database) -> int:
    first = item(customer(1), "my order never arrived")
    ingest(db, [first])
    return case_of(db, first.external_id)


def _queue(db: Database, case_id: int, text: str, **kw: object) -> int:
    with db.session() as s, s.begin():
        return queue_reply(s, case_id=case_id, text=text, **kw).id  # type: ignore[arg-type]


def test_a_crash_after_posting_never_posts_twice(db: Database) -> None:
    case_id = _case(db)
    item_id = _queue(db, case_id, "Sorry! We are on it ^AB")
    net = ScriptedNetwork(crash_after_send=True)
    with pytest.raises(SystemExit):
        send_pending(db, {"x": net}, intake=intake_for())
    with db.session() as s:
        assert s.get(OutboxItem, item_id).status == "sending"  # type: ignore[union-attr]
    # Restarted, before the lease ends: nothing happens; after it, the network is asked first.
    assert send_pending(db, {"x": net}, intake=intake_for()) == 0

    def later() -> datetime:
        return utcnow() + timedelta(minutes=5)

    assert send_pending(db, {"x": net}, intake=intake_for(), now=later) == 1
    assert len(net.sent) == 1 and net.lookups == 1
    with db.session() as s:
        row = s.get(OutboxItem, item_id)
        assert row is not None and row.status == "sent" and row.external_id == "out1"


def test_failures_retry_with_backoff_and_show_on_the_case(db: Database) -> None:
    case_id = _case(db)
    item_id = _queue(db, case_id, "On it")
    net = ScriptedNetwork()
    net.send_errors.extend([TransientNetworkError("503"), TransientNetworkError("timeout")])
    key = f"x:{BRAND_HANDLE}"
    assert send_pending(db, {key: net}, intake=intake_for()) == 0
    assert send_pending(db, {key: net}, intake=intake_for()) == 0  # not due yet
    with db.session() as s:
        row = s.get(OutboxItem, item_id)
        assert row is not None and row.status == "pending" and "503" in (row.last_error or "")
        due = row.next_attempt_at
    assert due is not None
    assert send_pending(db, {key: net}, intake=intake_for(), now=lambda: due) == 0  # timeout
    with db.session() as s:
        due = s.get(OutboxItem, item_id).next_attempt_at  # type: ignore[union-attr]
    assert send_pending(db, {key: net}, intake=intake_for(), now=lambda: due) == 1
    assert len(net.sent) == 1 and net.lookups == 2  # looked before each retry
    with db.session() as s:
        kinds = s.scalars(
            select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        ).all()
    assert kinds.count("reply_error") == 2 and kinds[-1] == "reply_sent"


def test_public_reply_with_personal_data_is_refused(db: Database) -> None:
    case_id = _case(db)
    with pytest.raises(PersonalDataInPublic, match="phone"):
        _queue(db, case_id, "Call me back on 06 12 34 56 78")
    with pytest.raises(PersonalDataInPublic, match="email"):
        _queue(db, case_id, "Write to jean.dupont@example.com")
    private_id = _queue(db, case_id, "Call me back on 06 12 34 56 78", private=True)
    net = ScriptedNetwork()
    assert send_pending(db, {"x": net}, intake=intake_for()) == 1
    assert net.sent[0].private and net.sent[0].recipient_id == "u1"
    with db.session() as s:
        assert s.get(OutboxItem, private_id).cost == pytest.approx(0.015)  # type: ignore[union-attr]


def test_a_split_answer_goes_out_as_a_thread_in_order(db: Database) -> None:
    case_id = _case(db)
    with db.session() as s, s.begin():
        items = queue_thread(
            s, case_id=case_id, parts=["One 1/3", "Two 2/3", "Three 3/3"], idempotency_key="k" * 16
        )
        ids = [i.id for i in items]
    with db.session() as s, s.begin():  # the same request again queues nothing more
        again = queue_thread(
            s, case_id=case_id, parts=["One 1/3", "Two 2/3", "Three 3/3"], idempotency_key="k" * 16
        )
        assert [i.id for i in again] == ids
    net = ScriptedNetwork()
    net.send_errors.append(TransientNetworkError("503"))  # the first part fails once
    assert send_pending(db, {"x": net}, intake=intake_for()) == 0  # later parts wait for it
    assert net.sent == []
    with db.session() as s:
        due = s.get(OutboxItem, ids[0]).next_attempt_at  # type: ignore[union-attr]
    assert send_pending(db, {"x": net}, intake=intake_for(), now=lambda: due) == 3
    assert [r.text for r in net.sent] == ["One 1/3", "Two 2/3", "Three 3/3"]
    # Each part answers the one before it: out1 ← out2 ← out3, the first the customer's post.
    assert [r.in_reply_to_id for r in net.sent][1:] == ["out1", "out2"]
    assert net.sent[0].in_reply_to_id is not None and net.sent[0].in_reply_to_id.startswith("m")
