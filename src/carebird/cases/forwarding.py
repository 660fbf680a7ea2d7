"""Forwarding a case to an outside owner (a supplier, a subcontractor).

The owner gets an e-mail with a link `{public_url}/outside/{token}`: the token is 256 random
bits, only its SHA-256 digest is stored, and the server checks expiry, revocation and use on
every request, so the link is the owner's whole authority — one case, read and answer once.
The e-mail carries no case content: everything personal stays behind the link. While the
owner has the case it waits on them (`waiting_third_party`) with the forward's own deadline;
their answer becomes an internal note and the case goes back to `open`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from typing import Literal

from sqlalchemy import ForeignKey, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from carebird.auth.models import Agent
from carebird.cases.forward_texts import ack_text, case_language, mail_text
from carebird.cases.log import record
from carebird.cases.models import Case
from carebird.cases.notes import add_note, clean_body
from carebird.cases.service import change_status
from carebird.cases.states import Status
from carebird.db.base import Base, Id, utcnow
from carebird.errors import Conflict, InvalidInput, NotFound
from carebird.ingest.models import Message
from carebird.mail import address

MAX_DUE_HOURS = 24 * 30
LINK_GRACE = timedelta(days=7)  # a late answer is still welcome this long after the deadline
ForwardState = Literal["pending", "overdue", "answered", "revoked", "expired"]


class OutsideOwner(Base):
    """Someone outside the desk who can be handed a case; deactivated, never deleted."""

    __tablename__ = "outside_owners"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    organisation: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(2), default="fr")  # fr | en
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Forward(Base):
    """One case handed to one owner, with its deadline and its single-use link."""

    __tablename__ = "forwards"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("outside_owners.id"))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")  # the agent's words to the owner
    include_private: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]


def forward_state(fw: Forward, now: datetime | None = None) -> ForwardState:
    now = now or utcnow()
    if fw.answered_at is not None:
        return "answered"
    if fw.revoked_at is not None:
        return "revoked"
    if fw.expires_at <= now:
        return "expired"
    return "overdue" if fw.due_at <= now else "pending"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_for(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/outside/{token}"


@dataclass(slots=True)
class Forwarded:
    forward: Forward
    link: str  # shown once (it is in the e-mail); only its digest is stored
    mail: tuple[Address, str, str]  # to, subject, text: sent last, by the flow


def forward_case(
    session: Session,
    *,
    case_id: int,
    owner_id: int,
    note: str,
    due_hours: float,
    actor_id: int | None,
    public_url: str,
    zone: str = "UTC",
    include_private: bool = False,
    now: datetime | None = None,
) -> Forwarded:
    """Hand the case to an owner: the case waits on them; returns the e-mail to send them.

    The flow (carebird.flows.forwarding) tells the customer and sends the e-mail after every
    database write: if sending fails the transaction rolls back, so no forward exists whose
    owner was never told.
    """
    if not 0 < due_hours <= MAX_DUE_HOURS:
        raise InvalidInput(f"the deadline must be within {MAX_DUE_HOURS} hours")
    if len(note) > 10_000:
        raise InvalidInput("the note to the owner holds at most 10000 characters")
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    owner = session.get(OutsideOwner, owner_id)
    if owner is None or not owner.active:
        raise InvalidInput(f"outside owner {owner_id} does not exist or is inactive")
    now = now or utcnow()
    if case.status != Status.WAITING_THIRD_PARTY:
        change_status(
            session, case_id=case_id, status=Status.WAITING_THIRD_PARTY, actor_id=actor_id
        )
    token = secrets.token_urlsafe(32)
    due_at = now + timedelta(hours=due_hours)
    fw = Forward(
        case_id=case_id,
        owner_id=owner.id,
        token_digest=digest(token),
        note=note.strip(),
        include_private=include_private,
        created_by=actor_id,
        created_at=now,
        due_at=due_at,
        expires_at=due_at + LINK_GRACE,
    )
    session.add(fw)
    session.flush()
    record(
        session,
        case_id,
        "forwarded",
        new=str(owner.id),
        actor_id=actor_id,
        at=now,
        data={"forward_id": fw.id, "owner": owner.name, "due_at": due_at.isoformat()},
    )
    agent = session.get(Agent, actor_id) if actor_id is not None else None
    link = link_for(public_url, token)
    subject, text = mail_text(
        owner.language,
        owner_name=owner.name,
        agent_name=agent.name if agent else "",
        case_id=case_id,
        due_at=due_at,
        expires_at=fw.expires_at,
        link=link,
        zone=zone,
    )
    return Forwarded(forward=fw, link=link, mail=(address(owner.email, owner.name), subject, text))


def customer_notice(session: Session, case_id: int) -> tuple[str, bool]:
    """The notice telling the customer their case was handed on: its text in the case's
    language, and whether it goes privately (as the customer last wrote)."""
    last_in = session.scalar(
        select(Message.is_private)
        .where(Message.case_id == case_id, Message.direction == "in")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    return ack_text(case_language(session, case_id)), bool(last_in)


class LinkRefused(NotFound):
    """An outside link that is unknown, expired, revoked or already used: never the case."""

    def __init__(self, reason: Literal["unknown", "expired", "revoked", "answered"]) -> None:
        super().__init__(f"this link is {reason}" if reason != "unknown" else "unknown link")
        self.reason = reason
        self.language: str | None = None  # the owner's, when the link was ours


def live_forward(session: Session, *, token: str, now: datetime | None = None) -> Forward:
    """The forward a token opens, or LinkRefused (checked on the server, every time)."""
    fw = session.scalar(select(Forward).where(Forward.token_digest == digest(token)))
    if fw is None:
        raise LinkRefused("unknown")
    state = forward_state(fw, now)
    if state in ("answered", "revoked", "expired"):
        refused = LinkRefused(state)
        owner = session.get(OutsideOwner, fw.owner_id)
        refused.language = owner.language if owner else None
        raise refused
    return fw


def answer_forward(
    session: Session, *, token: str, text: str, now: datetime | None = None
) -> Forward:
    """Record the owner's answer once: a note, an event, and the case back to `open`."""
    body = clean_body(text)
    now = now or utcnow()
    fw = live_forward(session, token=token, now=now)
    # Conditional update: of two answers racing on one link, exactly one wins.
    won = session.execute(
        update(Forward)
        .where(
            Forward.id == fw.id,
            Forward.answered_at.is_(None),
            Forward.revoked_at.is_(None),
            Forward.expires_at > now,
        )
        .values(answered_at=now, answer=body)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkRefused("answered")
    session.refresh(fw)
    owner = session.get(OutsideOwner, fw.owner_id)
    assert owner is not None
    add_note(session, case_id=fw.case_id, body=body, agent_id=None, forward_id=fw.id, at=now)
    record(
        session,
        fw.case_id,
        "forward_answered",
        new=str(owner.id),
        at=now,
        data={"forward_id": fw.id, "owner": owner.name},
    )
    case = session.get(Case, fw.case_id)
    if case is not None and case.status == Status.WAITING_THIRD_PARTY:
        change_status(session, case_id=fw.case_id, status=Status.OPEN, actor_id=None)
    return fw


def revoke_forward(
    session: Session, *, forward_id: int, actor_id: int | None, now: datetime | None = None
) -> Forward:
    """Cancel a pending forward: its link stops working; the case stops waiting on nobody."""
    now = now or utcnow()
    fw = session.get(Forward, forward_id, with_for_update=True)
    if fw is None:
        raise NotFound(f"forward {forward_id} not found")
    if fw.answered_at is not None or fw.revoked_at is not None:
        raise Conflict(f"forward {forward_id} is already {forward_state(fw, now)}")
    fw.revoked_at = now
    record(
        session,
        fw.case_id,
        "forward_revoked",
        new=str(fw.owner_id),
        actor_id=actor_id,
        at=now,
        data={"forward_id": fw.id},
    )
    session.flush()
    case = session.get(Case, fw.case_id)
    if case is not None and case.status == Status.WAITING_THIRD_PARTY:
        others = [f for f in case_forwards(session, case_id=fw.case_id) if f.id != fw.id]
        if not any(forward_state(f, now) in ("pending", "overdue") for f in others):
            change_status(session, case_id=fw.case_id, status=Status.OPEN, actor_id=actor_id)
    return fw


def case_forwards(session: Session, *, case_id: int) -> list[Forward]:
    if session.get(Case, case_id) is None:
        raise NotFound(f"case {case_id} not found")
    stmt = select(Forward).where(Forward.case_id == case_id).order_by(Forward.created_at)
    return list(session.scalars(stmt))


# --- the directory of outside owners ------------------------------------------------------------
OWNER_FIELDS = frozenset({"name", "email", "organisation", "language", "active"})


def _owner_values(changes: dict[str, object]) -> dict[str, object]:
    unknown = set(changes) - OWNER_FIELDS
    if unknown:
        raise InvalidInput(f"unknown fields: {sorted(unknown)}")
    values = dict(changes)
    if "name" in values:
        name = " ".join(str(values["name"]).split())
        if not 1 <= len(name) <= 200:
            raise InvalidInput("an outside owner needs a name (at most 200 characters)")
        values["name"] = name
    if "email" in values:
        values["email"] = address(str(values["email"])).addr_spec.lower()
    if "organisation" in values:
        values["organisation"] = " ".join(str(values["organisation"] or "").split())[:200]
    if "language" in values and values["language"] not in ("fr", "en"):
        raise InvalidInput("an outside owner's language is fr or en")
    return values


def _check_email_free(session: Session, email: str, owner_id: int | None = None) -> None:
    taken = session.scalar(select(OutsideOwner.id).where(OutsideOwner.email == email))
    if taken is not None and taken != owner_id:
        raise Conflict(f"an outside owner with the address {email} already exists")


def create_owner(
    session: Session, *, name: str, email: str, organisation: str = "", language: str = "fr"
) -> OutsideOwner:
    values = _owner_values(
        {"name": name, "email": email, "organisation": organisation, "language": language}
    )
    _check_email_free(session, str(values["email"]))
    owner = OutsideOwner(**values)
    session.add(owner)
    session.flush()
    return owner


def update_owner(session: Session, *, owner_id: int, changes: dict[str, object]) -> OutsideOwner:
    """A partial update: only the keys present change."""
    owner = session.get(OutsideOwner, owner_id)
    if owner is None:
        raise NotFound(f"outside owner {owner_id} not found")
    values = _owner_values(changes)
    if "email" in values:
        _check_email_free(session, str(values["email"]), owner_id)
    for key, value in values.items():
        if key == "active" and value is None:
            continue
        setattr(owner, key, value)
    session.flush()
    return owner


def list_owners(session: Session, *, include_inactive: bool = False) -> list[OutsideOwner]:
    stmt = select(OutsideOwner).order_by(OutsideOwner.organisation, OutsideOwner.name)
    if not include_inactive:
        stmt = stmt.where(OutsideOwner.active.is_(True))
    return list(session.scalars(stmt))
