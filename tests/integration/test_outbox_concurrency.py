"""At-most-once sending under real concurrency: several senders on one database claim each reply
once; the echo of a sent reply racing the sender's own record of it is one message, never an
error; a reply whose outcome is unknown on a network that cannot be asked is marked unsure."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.flows.intake import process_batch
from carebird.flows.replies import after_send, send_pending
from carebird.ingest.base import (
    AuthorInfo,
    Direction,
    InboundItem,
    MessageKind,
    OutboundReply,
    SentReceipt,
)
from carebird.ingest.models import Message
from carebird.reply import sending
from carebird.reply.models import OutboxItem
from carebird.reply.outbox import queue_reply
from tests.factories import BRAND, case_of, customer, ingest, intake_for, item
from tests.support.scripted import T0


@dataclass
class CountingNetwork:
    """A network that takes a while to answer and counts every post it receives."""

    network: str = "x"
    delay: float = 0.01
    posts: dict[str, int] = field(default_factory=dict)  # idempotency key -> times posted
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, reply: OutboundReply) -> SentReceipt:
        threading.Event().wait(self.delay)
        with self.lock:
            self.posts[reply.idempotency_key] = self.posts.get(reply.idempotency_key, 0) + 1
            n = sum(self.posts.values())
        return SentReceipt(f"sent-{reply.idempotency_key}-{n}", T0 + timedelta(hours=1))

    def find_sent(self, reply: OutboundReply) -> SentReceipt | None:
        return None


def _cases(db: Database, n: int) -> list[int]:
    firsts = [item(customer(100 + k), f"parcel {k} never arrived") for k in range(n)]
    ingest(db, firsts)
    return [case_of(db, f.external_id) for f in firsts]


def test_concurrent_senders_post_each_reply_once(db: Database) -> None:
    cases = _cases(db, 40)
    with db.session() as s, s.begin():
        for case_id in cases:
            queue_reply(s, case_id=case_id, text=f"On it, case {case_id}")
    net = CountingNetwork()
    start = threading.Barrier(4)
    sent: list[int] = []

    def sender() -> None:
        start.wait()
        sent.append(send_pending(db, {"x": net}, intake=intake_for()))

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sum(sent) == 40
    assert len(net.posts) == 40 and set(net.posts.values()) == {1}
    with db.session() as s:
        statuses = s.scalars(select(OutboxItem.status)).all()
    assert statuses == ["sent"] * 40


def test_the_echo_racing_the_senders_record_is_one_message(db: Database) -> None:
    (case_id,) = _cases(db, 1)
    with db.session() as s, s.begin():
        row = queue_reply(s, case_id=case_id, text="Sorry, we are on it")
        item_id, in_reply_to = row.id, row.in_reply_to_id
    receipt = SentReceipt("echo-1", T0 + timedelta(hours=1))
    echo = InboundItem(
        network="x",
        external_id="echo-1",
        author=AuthorInfo(BRAND.external_id, BRAND.handle, BRAND.display_name),
        text="Sorry, we are on it",
        created_at=receipt.created_at,
        kind=MessageKind.REPLY,
        direction=Direction.OUT,
        account_handle=BRAND.handle,
        in_reply_to_id=in_reply_to,
    )
    # The poller stores the echo and has not committed when the sender records its post.
    poller = db.session()
    poller.begin()
    process_batch(poller, [echo], intake=intake_for())
    failures: list[BaseException] = []

    def record() -> None:
        try:
            sending._sent(db, item_id, receipt, after=after_send(intake_for()))
        except BaseException as exc:
            failures.append(exc)

    recorder = threading.Thread(target=record)
    recorder.start()
    recorder.join(timeout=1.0)  # it waits for the poller's transaction
    poller.commit()
    poller.close()
    recorder.join(timeout=60)
    assert failures == []
    with db.session() as s:
        row = s.get(OutboxItem, item_id)
        assert row is not None and row.status == "sent" and row.external_id == "echo-1"
        stored = s.scalars(select(Message).where(Message.external_id == "echo-1")).all()
        assert len(stored) == 1 and stored[0].case_id == case_id
        assert s.scalar(select(func.count()).select_from(Message)) == 2


@dataclass
class Unaskable:
    """A network that cannot be asked what was posted, and dies after its first post."""

    network: str = "x"
    posted: int = 0

    def send(self, reply: OutboundReply) -> SentReceipt:
        self.posted += 1
        if self.posted == 1:
            raise SystemExit("killed after the network accepted the post")
        return SentReceipt(f"u{self.posted}", T0)


def test_an_unknown_outcome_that_cannot_be_checked_is_unsure_not_reposted(db: Database) -> None:
    (case_id,) = _cases(db, 1)
    with db.session() as s, s.begin():
        item_id = queue_reply(s, case_id=case_id, text="We are on it").id
    net = Unaskable()
    with contextlib.suppress(SystemExit):
        send_pending(db, {"x": net}, intake=intake_for())
    after_lease = utcnow() + sending.SEND_LEASE + timedelta(seconds=1)
    assert send_pending(db, {"x": net}, intake=intake_for(), now=lambda: after_lease) == 0
    assert net.posted == 1
    with db.session() as s:
        row = s.get(OutboxItem, item_id)
        assert row is not None and row.status == "unsure"
    assert send_pending(db, {"x": net}, intake=intake_for(), now=lambda: after_lease) == 0
    assert net.posted == 1  # a person decides (System page: retry once confirmed, or cancel)
