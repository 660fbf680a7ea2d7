"""Invitations and password resets: a single-use, expiring link e-mailed to set a password.

An admin invites someone by e-mail, name and role: the agent is created without a password
(they cannot sign in) and receives a link `<public_url>/password/<token>`. A reset link is the
same for an existing person. Only the token's SHA-256 digest is stored, as an `ApiToken` row
of kind `invite` or `reset` (never accepted as a credential by `resolve_token`).

Using a link is one conditional UPDATE (revoked = false and not expired → revoked = true):
of two requests racing on one link, on either engine, exactly one sets the password. An
unknown link costs no Argon2 and counts as a failed sign-in of the caller's address (the login
throttle's IP lock: 20 unknown links lock it), so guessing links is as slow as guessing
passwords, and it needs no second database connection.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from carebird.auth.models import Agent, ApiToken
from carebird.auth.passwords import hash_password
from carebird.auth.people import revoke_all
from carebird.auth.service import (
    TOKEN_PREFIX,
    check_password,
    create_agent,
    get_agent,
    token_digest,
)
from carebird.auth.throttle import begin_attempt, end_attempt
from carebird.db.base import utcnow
from carebird.errors import CarebirdError, Conflict
from carebird.i18n import N_, gettext
from carebird.mail import Mailer, address

LINK_TTL = timedelta(hours=72)
LinkKind = Literal["invite", "reset"]
LINK_KINDS: tuple[str, ...] = ("invite", "reset")
Reason = Literal["unknown", "expired", "used"]

SUBJECTS = {
    "invite": N_("You are invited to the carebird customer care desk"),
    "reset": N_("Choose a new password for the carebird desk"),
}
BODIES = {
    "invite": N_(
        "Hello %(name)s,\n\n%(by)s invites you to the carebird customer care desk. "
        "Choose your password with this link (valid for %(hours)s hours, once):\n\n%(link)s\n\n"
        "Then sign in with your e-mail address %(email)s."
    ),
    "reset": N_(
        "Hello %(name)s,\n\nA new password was requested for your carebird account. "
        "Choose it with this link (valid for %(hours)s hours, once):\n\n%(link)s\n\n"
        "If you did not expect this e-mail, tell your administrator."
    ),
}


class LinkRefused(CarebirdError):
    """A password link that is unknown, expired or already used (HTTP 410; 404 if unknown)."""

    status_code = 410

    def __init__(self, reason: Reason) -> None:
        super().__init__(f"this link is {reason}" if reason != "unknown" else "unknown link")
        self.reason = reason
        if reason == "unknown":
            self.status_code = 404


def link_for(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/password/{token}"


def _issue_link(session: Session, agent: Agent, kind: LinkKind, now: datetime) -> str:
    """A new link for the agent; the earlier links of either kind stop working."""
    revoke_all(session, agent_id=agent.id, kinds=LINK_KINDS)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            agent_id=agent.id,
            kind=kind,
            name=kind,
            digest=token_digest(secret),
            created_at=now,
            expires_at=now + LINK_TTL,
            revoked=False,
        )
    )
    session.flush()
    return secret


def _mail(mailer: Mailer, agent: Agent, kind: LinkKind, link: str, by: str) -> None:
    lang = agent.locale
    words = {
        "name": agent.name,
        "by": by,
        "hours": int(LINK_TTL.total_seconds() // 3600),
        "link": link,
        "email": agent.email,
    }
    text = gettext(lang, BODIES[kind]) % words
    mailer.send(
        to=address(agent.email, agent.name), subject=gettext(lang, SUBJECTS[kind]), text=text
    )


@dataclass(frozen=True, slots=True)
class Sent:
    agent: Agent
    link: str  # in the e-mail only; only its digest is stored


def invite(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    locale: str,
    invited_by: str,
    mailer: Mailer,
    public_url: str,
) -> Sent:
    """Create the person without a password and e-mail them a link to choose one. The e-mail
    goes last: if the server refuses it, the caller's transaction rolls the person back."""
    agent = create_agent(session, email=email, name=name, password=None, role=role, locale=locale)
    link = link_for(public_url, _issue_link(session, agent, "invite", utcnow()))
    _mail(mailer, agent, "invite", link, invited_by)
    return Sent(agent=agent, link=link)


def resend_invitation(
    session: Session, *, agent_id: int, invited_by: str, mailer: Mailer, public_url: str
) -> Sent:
    """A fresh invitation link (the previous one stops working), for someone still invited."""
    agent = get_agent(session, agent_id=agent_id)
    if not agent.active or agent.password_hash is not None:
        raise Conflict(f"{agent.email} is not waiting for an invitation")
    link = link_for(public_url, _issue_link(session, agent, "invite", utcnow()))
    _mail(mailer, agent, "invite", link, invited_by)
    return Sent(agent=agent, link=link)


def send_reset(session: Session, *, agent_id: int, mailer: Mailer, public_url: str) -> Sent:
    """E-mail an active person a link to choose a new password (their current one still
    works until the link is used)."""
    agent = get_agent(session, agent_id=agent_id)
    if not agent.active:
        raise Conflict(f"{agent.email} is deactivated: reactivate them first")
    link = link_for(public_url, _issue_link(session, agent, "reset", utcnow()))
    _mail(mailer, agent, "reset", link, "")
    return Sent(agent=agent, link=link)


def _throttle_key(token: str) -> str:
    return "password-link:" + token_digest(token)


def check_link(
    session: Session, *, token: str, ip: str | None, now: datetime | None = None
) -> tuple[Agent, str]:
    """The person a live link is for and its kind; LinkRefused otherwise, LoginThrottled while
    the caller's address is locked (nothing counted then).

    The session must have no transaction open: this commits its own, on one connection. The
    visit counts as a failed sign-in of the address before the link is looked up (atomically
    with the lock check, see `throttle.begin_attempt`), and a link that exists takes it back:
    only unknown links count, and parallel guesses see each other's counts.
    """
    now = now or utcnow()
    refusal: Reason | None = None
    with session.begin():
        attempt = begin_attempt(session, email=_throttle_key(token), ip=ip, now=now)
        row = None
        if token.startswith(TOKEN_PREFIX) and len(token) <= 200:
            row = session.scalar(
                select(ApiToken).where(
                    ApiToken.digest == token_digest(token), ApiToken.kind.in_(LINK_KINDS)
                )
            )
        if row is None:
            refusal = "unknown"
        else:
            end_attempt(session, attempt)
            agent = session.get(Agent, row.agent_id)
            if row.revoked or agent is None or not agent.active:
                refusal = "used"
            elif row.expires_at is None or row.expires_at <= now:
                refusal = "expired"
    if refusal is not None:
        raise LinkRefused(refusal)
    assert row is not None and agent is not None
    return agent, row.kind


def consume_link(
    session: Session, *, token: str, password_hash: str, now: datetime | None = None
) -> Agent:
    """Use the link once: set the password, end the person's sessions on a reset. The one
    conditional UPDATE decides between racing requests."""
    now = now or utcnow()
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.digest == token_digest(token), ApiToken.kind.in_(LINK_KINDS)
        )
    )
    if row is None:
        raise LinkRefused("unknown")
    won = session.execute(
        update(ApiToken)
        .where(ApiToken.id == row.id, ApiToken.revoked.is_(False), ApiToken.expires_at > now)
        .values(revoked=True, last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(row)
        raise LinkRefused("used" if row.revoked else "expired")
    agent = session.get(Agent, row.agent_id)
    if agent is None or not agent.active:
        raise LinkRefused("used")
    session.refresh(agent)
    agent.password_hash = password_hash
    revoke_all(session, agent_id=agent.id, kinds=("session", *LINK_KINDS))
    session.refresh(agent)
    return agent


def use_link(session: Session, *, token: str, password: str, ip: str | None) -> Agent:
    """Set the password through a link, in the caller's session with no transaction open
    (this commits its own): the link is checked first (cheap), Argon2 runs with no
    transaction held, then the link is consumed. Raises InvalidInput for a password out of
    bounds (the link stays usable), LinkRefused, LoginThrottled."""
    check_link(session, token=token, ip=ip)
    check_password(password)
    hashed = hash_password(password)
    with session.begin():
        agent = consume_link(session, token=token, password_hash=hashed)
        session.expunge(agent)
    return agent
