"""Offering the satisfaction survey when a case is resolved (carebird.reply.survey).

The resolving flows (flows/casework: a case's status set to resolved, the bulk "resolve")
ask `offer_surveys` to queue one private message through the outbox: purpose "survey",
idempotency key `survey:<case id>` (one per case, sent at most once), in the customer's
language (French or English), with the survey's link. Only for accounts that enable it.

Reasons a resolved case gets no survey, each logged and recorded as a case event
`survey_skipped` (new = the reason):
`own_account` (the customer is one of our accounts), `not_support` (category "other"),
`unanswered` (the desk never answered: nothing to rate), `public_thread` (the customer wrote
only in public and the account does not allow surveying them), `no_private_messages` (the
network, or this account's credentials, cannot send a private message: X app-only
credentials, a file replay…), `account_paused`, `too_long` (the message does not fit the
network), `customer_recent` (this customer was offered one in the last 24 hours).
Not recorded: the account's survey is off, the case already has its survey.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.cases.log import record
from carebird.cases.models import Case
from carebird.cases.states import Status
from carebird.config import Settings
from carebird.crypto import unseal
from carebird.db.base import utcnow
from carebird.errors import CarebirdError
from carebird.ingest.models import Message, NetworkAccount
from carebird.reply.acknowledgement import language_of
from carebird.reply.acknowledging import _is_ours as is_ours
from carebird.reply.composer import _limit as limit_for
from carebird.reply.composer import _mention as mention_for
from carebird.reply.length import measure
from carebird.reply.outbox import queue_reply
from carebird.reply.survey import (
    LINK_TTL,
    PURPOSE,
    Survey,
    link_for,
    survey_settings,
    survey_text,
    take_customer_slot,
)
from carebird.reply.survey import digest as token_digest
from carebird.reply.target import ReplyTarget, reply_target

log = logging.getLogger(__name__)
# Networks whose connectors send private messages (X and the simulator: DMs; Mastodon: direct
# posts; Bluesky: chat). Another network (a file replay, a plugin) gets no survey.
PRIVATE_NETWORKS = frozenset({"x", "sim", "mastodon", "bluesky"})
NOT_ANSWERS = ("acknowledgement", PURPOSE)


@dataclass(frozen=True, slots=True)
class SurveySetup:
    """Where the survey page is (`public_url`), the key that opens stored credentials (to
    tell X app-only accounts, which cannot send private messages; empty: not checked), and the
    clock (tests move it)."""

    public_url: str
    secret_key: str = ""
    clock: Callable[[], datetime] = field(default=utcnow)

    @classmethod
    def from_settings(cls, settings: Settings) -> SurveySetup:
        return cls(public_url=settings.public_url, secret_key=settings.secret_key)


def offer_surveys(
    session: Session, case_ids: Sequence[int], setup: SurveySetup, *, actor_id: int | None = None
) -> dict[int, str]:
    """Queue a survey for each resolved case whose account enables it; {case id: "queued" or
    the reason it got none}. Cases on accounts with the survey off are not listed."""
    outcome: dict[int, str] = {}
    for case_id in case_ids:
        result = _offer(session, case_id, setup, actor_id)
        if result is not None:
            outcome[case_id] = result
    return outcome


def _offer(session: Session, case_id: int, setup: SurveySetup, actor_id: int | None) -> str | None:
    case = session.get(Case, case_id)
    if case is None or case.status != Status.RESOLVED:
        return None
    try:
        target = reply_target(session, case_id=case_id, private=True)
    except CarebirdError:
        return None  # no customer message or no account: nothing to survey from
    if not survey_settings(target.account.options).enabled:
        return None
    if session.scalar(select(Survey.id).where(Survey.case_id == case_id)) is not None:
        return None  # one survey per case, whatever reopened and resolved it again
    now = setup.clock()
    token = secrets.token_urlsafe(32)
    lang = language_of(target.message.language)
    text = survey_text(lang, link_for(setup.public_url, token))
    reason = _refusal(session, target, setup, text)
    if reason is None and not take_customer_slot(session, target.customer.id, now):
        reason = "customer_recent"
    if reason is not None:
        record(session, case_id, "survey_skipped", new=reason, at=now)
        log.info("case %s: no survey (%s)", case_id, reason)
        return reason
    item = queue_reply(
        session,
        case_id=case_id,
        text=text,
        private=True,
        idempotency_key=f"survey:{case_id}",
        purpose=PURPOSE,
    )
    session.add(
        Survey(
            case_id=case_id,
            customer_id=target.customer.id,
            account_id=target.account.id,
            agent_id=case.assignee_id if case.assignee_id is not None else actor_id,
            team_id=case.team_id,
            category=case.category,
            network=case.network,
            language=lang,
            token_digest=token_digest(token),
            outbox_id=item.id,
            created_at=now,
            expires_at=now + LINK_TTL,
        )
    )
    session.flush()
    return "queued"


def _refusal(session: Session, target: ReplyTarget, setup: SurveySetup, text: str) -> str | None:
    """The first rule that refuses this case's survey, if any (the 24-hour rule comes after:
    it takes the customer's slot)."""
    case, account, customer = target.case, target.account, target.customer
    if is_ours(session, customer):
        return "own_account"
    if case.category == "other":
        return "not_support"
    answered = select(Message.id).where(
        Message.case_id == case.id, Message.direction == "out", Message.kind.not_in(NOT_ANSWERS)
    )
    if session.scalar(answered.limit(1)) is None:
        return "unanswered"
    wrote_privately = select(Message.id).where(
        Message.case_id == case.id, Message.direction == "in", Message.is_private.is_(True)
    )
    if (
        session.scalar(wrote_privately.limit(1)) is None
        and not survey_settings(account.options).public_allowed
    ):
        return "public_thread"
    if not _can_message_privately(account, setup.secret_key):
        return "no_private_messages"
    if not account.active:
        return "account_paused"
    limit = limit_for(case.network, account, private=True)
    prefix = mention_for(case.network, customer)
    if measure(case.network, prefix + text, limit=limit, private=True).over:
        return "too_long"
    return None


def _can_message_privately(account: NetworkAccount, secret_key: str) -> bool:
    if account.network not in PRIVATE_NETWORKS:
        return False
    if account.network == "x" and secret_key and account.credentials:
        try:
            credentials = unseal(secret_key, account.credentials)
        except CarebirdError:
            return True  # unreadable here: the sender will say what is wrong
        return bool(credentials.get("access_token"))  # app-only (bearer): no DMs
    return True
