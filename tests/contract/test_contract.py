"""The connector contract, the same for every network, against real peers on loopback:
nothing lost, nothing duplicated, our own posts recognised, replies in the right thread,
private data kept private — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from carebird.cases.models import Case
from carebird.db.database import Database
from carebird.errors import ConnectorError, PersonalDataInPublic
from carebird.flows import intake as pipeline
from carebird.flows.intake import poll_once
from carebird.flows.replies import send_pending
from carebird.ingest.base import Connector
from carebird.ingest.models import Message, NetworkAccount
from carebird.reply.outbox import queue_reply
from tests.factories import intake_for
from tests.support.contract import PeerHarness

WINDOW = timedelta(days=7)


def _register(db: Database, peer: PeerHarness) -> None:
    with db.session() as s, s.begin():
        s.add(
            NetworkAccount(
                network=peer.network, handle=peer.brand.handle, external_id=peer.brand.external_id
            )
        )


def _drain(db: Database, connectors: list[Connector], *, max_polls: int = 2000) -> int:
    """Poll every stream until none has more, retrying failures as the desk's poller does."""
    polls = 0
    pending = list(connectors)
    while pending:
        still = []
        for connector in pending:
            polls += 1
            assert polls < max_polls, "draining never ends"
            try:
                _, more = poll_once(db, connector, intake=intake_for(), limit=500)
            except ConnectorError:  # a 429 or 5xx that outlasted the connector's own retries
                more = True
            if more:
                still.append(connector)
        pending = still
    return polls


def _ids(db: Database, peer: PeerHarness) -> list[str]:
    with db.session() as s:
        return list(
            s.scalars(select(Message.external_id).where(Message.network == peer.network)).all()
        )


def _case_of(db: Database, peer: PeerHarness, external_id: str) -> int:
    with db.session() as s:
        case_id = s.scalar(
            select(Message.case_id).where(
                Message.network == peer.network, Message.external_id == external_id
            )
        )
    assert case_id is not None
    return case_id


def _send_all(db: Database, peer: PeerHarness) -> int:
    sender = peer.sender()
    return send_pending(db, {f"{peer.network}:{peer.brand.handle}": sender}, intake=intake_for())


def test_ten_thousand_mentions_over_many_pages_arrive_exactly_once(
    db: Database, peer: PeerHarness
) -> None:
    _register(db, peer)
    posted = peer.post_mentions(10_000, customers=300)
    polls = _drain(db, peer.inbound_connectors())
    stored = _ids(db, peer)
    assert len(stored) == len(set(stored)) == 10_000
    assert set(stored) == set(posted)
    assert polls > 20  # many pages, many batches
    _drain(db, peer.inbound_connectors())  # a second pass finds nothing new
    assert len(_ids(db, peer)) == 10_000


def test_a_crash_between_fetch_and_commit_loses_and_duplicates_nothing(
    db: Database, peer: PeerHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(db, peer)
    posted = peer.post_mentions(1_200, customers=40)
    real = pipeline.process_batch
    calls = {"n": 0}

    def crashing(session: object, items: list[object], **kw: object) -> pipeline.BatchReport:
        if items:
            calls["n"] += 1
            if calls["n"] % 3 == 2:  # every third batch dies after the fetch, before the commit
                raise RuntimeError("killed mid-write")
        return real(session, items, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "process_batch", crashing)
    connectors = peer.inbound_connectors()
    for _ in range(400):
        try:
            _drain(db, connectors)
            break
        except RuntimeError:
            connectors = peer.inbound_connectors()  # a restarted process: fresh connectors
    stored = _ids(db, peer)
    assert calls["n"] >= 3
    assert len(stored) == len(set(stored)) == 1_200 and set(stored) == set(posted)


def test_storms_of_429_and_5xx_delay_but_lose_nothing(db: Database, peer: PeerHarness) -> None:
    _register(db, peer)
    posted = peer.post_mentions(700, customers=30)
    connectors = peer.inbound_connectors()
    peer.fail_next(429, 6, retry_after=0.0)
    poll_once_safely(db, connectors[0])
    peer.fail_next(503, 8)
    poll_once_safely(db, connectors[0])
    peer.fail_next(500, 3)
    _drain(db, connectors)
    stored = _ids(db, peer)
    assert len(stored) == len(set(stored)) == 700 and set(stored) == set(posted)


def poll_once_safely(db: Database, connector: Connector) -> tuple[int, bool]:
    try:
        report, more = poll_once(db, connector, intake=intake_for(), limit=500)
    except ConnectorError:
        return 0, True
    return report.stored, more


def test_our_own_replies_come_back_recognised(db: Database, peer: PeerHarness) -> None:
    _register(db, peer)
    (mention,) = peer.post_mentions(1, text="my parcel is lost, help")
    _drain(db, peer.inbound_connectors())
    case_id = _case_of(db, peer, mention)
    with db.session() as s, s.begin():
        queue_reply(s, case_id=case_id, text="Sorry about that, we are checking. ^AB")
    assert _send_all(db, peer) == 1
    from_app = peer.post_as_brand("Update: your parcel is on its way. ^CD", in_reply_to=mention)
    _drain(db, peer.inbound_connectors())
    with db.session() as s:
        cases = s.scalar(select(func.count()).select_from(Case))
        ours = s.execute(
            select(Message.external_id, Message.direction, Message.case_id).where(
                Message.network == peer.network, Message.external_id != mention
            )
        ).all()
    assert cases == 1  # neither the desk's reply nor the app's post opened a case
    assert {d for _, d, _ in ours} == {"out"}
    assert from_app in {e for e, _, _ in ours}
    assert all(c == case_id for e, _, c in ours if e == from_app)


def test_replies_land_in_the_right_thread(db: Database, peer: PeerHarness) -> None:
    _register(db, peer)
    mentions = peer.post_mentions(3, customers=3)  # three customers, three cases
    _drain(db, peer.inbound_connectors())
    for n, mention in enumerate(mentions):
        with db.session() as s, s.begin():
            queue_reply(s, case_id=_case_of(db, peer, mention), text=f"Answer {n} ^AB")
    assert _send_all(db, peer) == 3
    assert _send_all(db, peer) == 0  # at most once
    for n, mention in enumerate(mentions):
        ours = [r for r in peer.replies_to(mention) if r["author"] == peer.brand.handle]
        assert len(ours) == 1 and f"Answer {n} ^AB" in ours[0]["text"]
        assert ours[0]["root"] == mention


def test_private_data_never_goes_public(db: Database, peer: PeerHarness) -> None:
    _register(db, peer)
    dm = peer.send_private("my order is 123456789, my phone 06 12 34 56 78", customer=2)
    _drain(db, peer.inbound_connectors())
    with db.session() as s:
        row = s.execute(
            select(Message.is_private, Message.kind, Message.case_id).where(
                Message.network == peer.network, Message.external_id == dm
            )
        ).one()
    assert row.is_private and row.kind == "direct"
    secret = "Call us back on 01 23 45 67 89, file 987654321"
    with db.session() as s, s.begin():
        with pytest.raises(PersonalDataInPublic):
            queue_reply(s, case_id=row.case_id, text=secret)
        queue_reply(s, case_id=row.case_id, text=secret, private=True)
    assert _send_all(db, peer) == 1
    assert any(secret in m["text"] for m in peer.private_messages(customer=2))
    assert not any("01 23 45 67 89" in t for t in peer.public_texts())
