"""Acknowledging a new case automatically, with guardrails.

When a customer's message opens a case, the intake (flows/intake.process_batch) asks
`acknowledge_new_cases` to queue one "message bien reçu" through the outbox, like a reply:
purpose "acknowledgement", idempotency key `ack:<case id>` (at most one per case, sent at most
once), in the customer's language (French or English), stating the expected wait
(`{expected_wait}`: the account's live estimate when the desk's setup gives one —
carebird.insights.wait_store, refreshed every few minutes —, else the median first response
time of the last answered cases, in business hours) and, when the desk is closed, its next
opening time. It goes where a reply would (reply/target.py: public reply or private
message, the channel the customer used), only if the account enables that channel
(reply/acknowledgement.py), and it must fit the network's length rule.

Guardrails, each a reason logged and recorded as a case event `acknowledgement_skipped` (but
`stale`, logged only):
`own_account` (the author is one of our accounts), `stale` (taken in long after it was
written: a backlog, an import), `automated` (an author posting more than N times within M
minutes of the message), `answered` (an agent answered or queued an answer), `conversation`
(the conversation already has an acknowledgement), `reply_to_acknowledgement` (the message
answers one of ours: no bot loops), `too_long`, `hourly_cap` (the account's acknowledgements
in the last hour, counted under a lock of the account's row, so several intake processes
never exceed it). An acknowledgement still waiting when an agent answers is cancelled by the
sender (reply/sending.py), with the reason `answered`.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from carebird.cases.calendars import Calendar, account_calendar
from carebird.cases.log import record
from carebird.cases.models import Case
from carebird.config import Settings
from carebird.db.base import as_utc, utcnow
from carebird.errors import CarebirdError, InvalidInput
from carebird.ingest.models import Author, Message, NetworkAccount
from carebird.reply.acknowledgement import AckSettings, ack_settings, ack_texts, language_of
from carebird.reply.composer import _limit as limit_for
from carebird.reply.composer import _mention as mention_for
from carebird.reply.length import measure
from carebird.reply.models import OutboxItem
from carebird.reply.outbox import queue_reply
from carebird.reply.target import ReplyTarget, reply_target

log = logging.getLogger(__name__)
ACK = "acknowledgement"
SAMPLE = 20  # answered cases the expected wait is the median of
RECENT_CASES = 500  # the newest cases searched for them (a bounded query on a big desk)


@dataclass(frozen=True, slots=True)
class AckSetup:
    """The desk-wide part: its business calendar (None: always open; an account's own hours
    and holidays win), the wait stated before any case was answered, and the clock (tests
    move it)."""

    hours: Calendar | None = None
    default_wait: timedelta = timedelta(hours=1)
    clock: Callable[[], datetime] = field(default=utcnow)
    # The account's current expected wait (session, account id, now), None when unknown;
    # the intake gives the live estimate's reader (flows/intake.py).
    current_wait: Callable[[Session, int, datetime], timedelta | None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AckSetup:
        return cls(
            hours=Calendar.parse(settings.opening_hours, settings.timezone, settings.holidays),
            default_wait=timedelta(minutes=settings.sla_first_response_minutes),
        )

    def calendar_of(self, options: Mapping[str, Any] | None) -> Calendar | None:
        """The account's calendar (its options over the desk's); None: always open."""
        if self.hours is None:
            return None
        try:
            return account_calendar(self.hours, options)
        except InvalidInput:  # options written around the checks: the desk's calendar rules
            return self.hours


def reopens_at(calendar: Calendar | None, at: datetime) -> datetime | None:
    """When a closed desk opens next (UTC); None while it is open (or always open)."""
    if calendar is None or calendar.is_open(at):
        return None
    return calendar.next_opening(at)


def account_wait(session: Session, setup: AckSetup, account_id: int) -> timedelta:
    """The wait to state for an account: its live estimate when the setup reads one (the
    job's, kept fresh), else the desk's recent median."""
    live = setup.current_wait and setup.current_wait(session, account_id, setup.clock())
    return live or expected_wait(session, setup)


def expected_wait(session: Session, setup: AckSetup, *, sample: int = SAMPLE) -> timedelta:
    """The median first response time (business hours) of the last `sample` answered cases;
    an acknowledgement is no answer. The default wait while no case was answered."""
    recent = select(Case.id).order_by(Case.id.desc()).limit(RECENT_CASES).subquery()
    first_in = (
        select(Message.case_id, func.min(Message.created_at).label("at"))
        .where(Message.case_id.in_(select(recent.c.id)), Message.direction == "in")
        .group_by(Message.case_id)
        .subquery()
    )
    first_out = (
        select(Message.case_id, func.min(Message.created_at).label("at"))
        .where(
            Message.case_id.in_(select(recent.c.id)),
            Message.direction == "out",
            Message.kind != ACK,
        )
        .group_by(Message.case_id)
        .subquery()
    )
    rows = session.execute(
        select(first_in.c.at, first_out.c.at)
        .join(first_out, first_out.c.case_id == first_in.c.case_id)
        .order_by(first_out.c.at.desc())
        .limit(sample)
    ).all()
    desk = setup.hours
    spans = [(as_utc(came), as_utc(went)) for came, went in rows]
    waits = [(desk.between(a, b) if desk else b - a).total_seconds() for a, b in spans]
    if not waits:
        return setup.default_wait
    return timedelta(seconds=statistics.median(waits))


def acknowledge_new_cases(
    session: Session, case_ids: Sequence[int], setup: AckSetup
) -> dict[int, str]:
    """Queue an acknowledgement for each new case whose account enables it on the customer's
    channel; {case id: "queued" or the guardrail that refused it}. Cases on channels left off
    are not listed (nothing to report)."""
    if not case_ids or not _any_enabled(session):
        return {}
    outcome: dict[int, str] = {}
    median: timedelta | None = None
    for case_id in case_ids:
        case = session.get(Case, case_id)
        opening = session.get(Message, case.opening_message_id) if case else None
        if case is None or opening is None or opening.direction != "in":
            continue
        try:
            target = reply_target(session, case_id=case_id, private=opening.is_private)
        except CarebirdError:
            continue  # no account to answer from: nothing to acknowledge with
        settings = ack_settings(target.account.options)
        if not target.account.active or not settings.enabled_for(private=opening.is_private):
            continue
        now = setup.clock()
        reason = _refusal(session, target, opening, settings, now)
        text = None
        if reason is None:
            live = setup.current_wait and setup.current_wait(session, target.account.id, now)
            if not live:
                median = median if median is not None else expected_wait(session, setup)
            text = _text(target, opening, setup, live or median or setup.default_wait, now)
            reason = "too_long" if text is None else _over_cap(session, target, settings)
        if reason is not None or text is None:
            reason = reason or "too_long"
            if reason != "stale":  # an import's thousands of old cases: the log line only
                record(session, case_id, "acknowledgement_skipped", new=reason)
            log.info("case %s: no acknowledgement (%s)", case_id, reason)
            outcome[case_id] = reason
            continue
        queue_reply(
            session,
            case_id=case_id,
            text=text,
            private=opening.is_private,
            idempotency_key=f"ack:{case_id}",
            purpose=ACK,
        )
        outcome[case_id] = "queued"
    return outcome


def _any_enabled(session: Session) -> bool:
    """One small query per batch: most desks acknowledge nothing and pay nothing more."""
    return any(
        ack_settings(options).enabled_for(private=True)
        or ack_settings(options).enabled_for(private=False)
        for options in session.scalars(
            select(NetworkAccount.options).where(NetworkAccount.active.is_(True))
        )
    )


def _refusal(
    session: Session,
    target: ReplyTarget,
    opening: Message,
    settings: AckSettings,
    now: datetime,
) -> str | None:
    """The first guardrail that refuses this case's acknowledgement, if any."""
    if _is_ours(session, target.customer):
        return "own_account"
    if as_utc(opening.created_at) < now - timedelta(minutes=settings.max_age_minutes):
        return "stale"
    # Posts within the window either side of the opening one: a flood in this very batch too.
    window = timedelta(minutes=settings.automated_minutes)
    posts = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.author_id == opening.author_id,
            Message.direction == "in",
            Message.created_at > opening.created_at - window,
            Message.created_at <= opening.created_at + window,
        )
    )
    if (posts or 0) > settings.automated_posts:
        return "automated"
    case_id = target.case.id
    answered = select(Message.id).where(
        Message.case_id == case_id, Message.direction == "out", Message.kind != ACK
    )
    queued = select(OutboxItem.id).where(
        OutboxItem.case_id == case_id,
        OutboxItem.purpose != ACK,
        OutboxItem.status != "cancelled",
    )
    if session.scalar(answered.limit(1)) or session.scalar(queued.limit(1)):
        return "answered"
    if opening.conversation_id and session.scalar(
        select(OutboxItem.id)
        .join(Message, Message.case_id == OutboxItem.case_id)
        .where(
            OutboxItem.purpose == ACK,
            OutboxItem.status != "cancelled",
            Message.network == opening.network,
            Message.conversation_id == opening.conversation_id,
        )
        .limit(1)
    ):
        return "conversation"
    if opening.in_reply_to_id and _answers_an_acknowledgement(session, opening):
        return "reply_to_acknowledgement"
    return None


def _is_ours(session: Session, author: Author) -> bool:
    if author.is_brand:
        return True
    return bool(
        session.scalar(
            select(NetworkAccount.id)
            .where(
                NetworkAccount.network == author.network,
                or_(
                    NetworkAccount.external_id == author.external_id,
                    func.lower(NetworkAccount.handle) == author.handle.lower().lstrip("@"),
                ),
            )
            .limit(1)
        )
    )


def _answers_an_acknowledgement(session: Session, msg: Message) -> bool:
    ours = select(Message.id).where(
        Message.network == msg.network,
        Message.external_id == msg.in_reply_to_id,
        Message.kind == ACK,
    )
    queued = select(OutboxItem.id).where(
        OutboxItem.network == msg.network,
        OutboxItem.external_id == msg.in_reply_to_id,
        OutboxItem.purpose == ACK,
    )
    return bool(session.scalar(ours.limit(1)) or session.scalar(queued.limit(1)))


def _text(
    target: ReplyTarget, opening: Message, setup: AckSetup, wait: timedelta, now: datetime
) -> str | None:
    """The longest wording that fits the network (with Mastodon's @mention), else None."""
    network, private = target.case.network, opening.is_private
    calendar = setup.calendar_of(target.account.options)
    opens = reopens_at(calendar, now)
    zone = calendar.tz if calendar is not None else UTC
    texts = ack_texts(
        language_of(opening.language),
        wait=wait,
        opening=opens.astimezone(zone) if opens is not None else None,
        zone=str(zone),
        now=now,
    )
    limit = limit_for(target.case.network, target.account, private=private)
    prefix = mention_for(network, target.customer)
    for text in texts:
        if not measure(network, prefix + text, limit=limit, private=private).over:
            return text
    return None


def _over_cap(session: Session, target: ReplyTarget, settings: AckSettings) -> str | None:
    """ "hourly_cap" when the account sent its `max_per_hour` acknowledgements in the last hour.

    The account's row is locked first (`FOR NO KEY UPDATE` on PostgreSQL: it waits for another
    intake holding it, not for the key-share locks every message and outbox row referencing the
    account takes, which would deadlock; SQLite has one writer and the intake has written
    already), so two processes cannot both take the last place."""
    account_id = target.account.id
    session.execute(
        select(NetworkAccount.id)
        .where(NetworkAccount.id == account_id)
        .with_for_update(key_share=True)
    )
    sent = session.scalar(
        select(func.count())
        .select_from(OutboxItem)
        .where(
            OutboxItem.account_id == account_id,
            OutboxItem.purpose == ACK,
            OutboxItem.status != "cancelled",
            OutboxItem.created_at >= utcnow() - timedelta(hours=1),
        )
    )
    return "hourly_cap" if (sent or 0) >= settings.max_per_hour else None
