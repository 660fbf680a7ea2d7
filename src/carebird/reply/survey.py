"""The satisfaction survey: one question ("How satisfied are you with our answer? 1–5") a
customer answers once through a link sent privately after their case is resolved.

Settings live in the account's `options["survey"]`:

    {"enabled": false, "public_allowed": false}

Off unless enabled. The survey always travels as a private message; `public_allowed` lets the
desk send it to a customer who wrote only in public (a private message they did not start —
some networks refuse those, and it can feel intrusive). A link is never posted in public: the
token is the answer's whole authority, anyone who reads it could answer.

A survey's link `{public_url}/survey/{token}` carries 256 random bits; only the token's SHA-256
digest is stored. It can be answered once (a conditional UPDATE decides between two answers:
the first is kept) until it expires, `LINK_TTL` after it was made. The private message itself
holds the link like any message the desk sends (its outbox row and stored copy); the desk's
pages show that message with the link masked (carebird.cases.queries.shown_text).

Rules enforced by the database, so they hold with several processes:
- one survey per case (`surveys.case_id` unique; the outbox row's idempotency key
  `survey:<case id>` sends it at most once);
- one survey per customer per 24 h (`survey_customers`: one row per customer, taken by one
  conditional upsert; see `take_customer_slot`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import CheckConstraint, ForeignKey, String, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from carebird.cases.log import record
from carebird.db.base import Base, Id, utcnow
from carebird.errors import CarebirdError, InvalidInput

OPTION = "survey"
PURPOSE = "survey"  # the outbox row's purpose, the posted message's kind
LINK_TTL = timedelta(days=7)
CUSTOMER_GAP = timedelta(hours=24)
SCORES = range(1, 6)
MAX_TOKEN = 200  # longer "tokens" are refused unread


class Survey(Base):
    """One case's survey: whom it credits (snapshots at resolution), its link, its answer."""

    __tablename__ = "surveys"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("network_accounts.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    category: Mapped[str | None] = mapped_column(String(24))
    network: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2))  # fr | en
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    score: Mapped[int | None]


class SurveyCustomer(Base):
    """When a customer was last offered a survey: the once-per-24-hours rule's one row."""

    __tablename__ = "survey_customers"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("authors.id", ondelete="CASCADE"), primary_key=True
    )
    last_offered_at: Mapped[datetime]


# --- settings ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SurveySettings:
    enabled: bool = False
    public_allowed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_survey(raw: Any) -> dict[str, Any]:
    """`options["survey"]` from an admin's input, normalised; InvalidInput names the fault."""
    if not isinstance(raw, Mapping):
        raise InvalidInput('survey: an object such as {"enabled": true}')
    unknown = sorted(set(raw) - {"enabled", "public_allowed"})
    if unknown:
        known = "enabled, public_allowed"
        raise InvalidInput(f"unknown survey setting {unknown[0]!r} (known: {known})")
    for name in ("enabled", "public_allowed"):
        if name in raw and not isinstance(raw[name], bool):
            raise InvalidInput(f"survey.{name} must be true or false")
    return SurveySettings(**dict(raw)).as_dict()


def survey_settings(options: Mapping[str, Any] | None) -> SurveySettings:
    """An account's settings as stored (off when absent; a broken value turns them off)."""
    raw = (options or {}).get(OPTION)
    if raw is None:
        return SurveySettings()
    try:
        return SurveySettings(**check_survey(raw))
    except InvalidInput:
        return SurveySettings()


# --- texts ---------------------------------------------------------------------------------
TEXTS = {
    "fr": "Votre demande est résolue. Êtes-vous satisfait(e) de notre réponse ? "
    "Donnez-nous une note de 1 à 5 (une question, sans inscription) : {link}",
    "en": "Your request is resolved. How satisfied are you with our answer? "
    "Rate it from 1 to 5 (one question, no sign-up): {link}",
}


def survey_text(lang: str, link: str) -> str:
    return TEXTS["fr" if lang == "fr" else "en"].format(link=link)


def link_for(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/survey/{token}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


# --- the once-per-customer rule ------------------------------------------------------------
def take_customer_slot(session: Session, customer_id: int, now: datetime) -> bool:
    """Take the customer's survey slot unless one was taken in the last 24 hours.

    One statement decides: insert the customer's row, or on conflict move its time only when
    the last one is 24 hours old. On PostgreSQL a concurrent taker waits on the row, then
    finds the new time and takes nothing; SQLite has one writer. True when taken.
    """
    dialect = session.get_bind().dialect.name
    values = {"customer_id": customer_id, "last_offered_at": now}
    older = SurveyCustomer.last_offered_at <= now - CUSTOMER_GAP
    stmt: Any
    if dialect == "postgresql":
        base = pg_insert(SurveyCustomer).values(values)
        stmt = base.on_conflict_do_update(
            index_elements=["customer_id"], set_={"last_offered_at": now}, where=older
        )
    elif dialect == "sqlite":
        base_lite = sqlite_insert(SurveyCustomer).values(values)
        stmt = base_lite.on_conflict_do_update(
            index_elements=["customer_id"], set_={"last_offered_at": now}, where=older
        )
    else:  # pragma: no cover - the desk runs on the two engines above
        stmt = insert(SurveyCustomer).values(values)
    session.flush()
    taken = session.scalar(stmt.returning(SurveyCustomer.customer_id))
    return taken is not None


# --- answering -----------------------------------------------------------------------------
Refusal = Literal["unknown", "expired", "answered"]


class SurveyRefused(CarebirdError):
    """The link opens no survey: unknown (404), expired or already answered (410)."""

    def __init__(self, reason: Refusal, language: str | None = None) -> None:
        self.reason: Refusal = reason
        self.language = language
        self.status_code = 404 if reason == "unknown" else 410
        super().__init__(f"survey link {reason}")


def live_survey(session: Session, *, token: str, now: datetime | None = None) -> Survey:
    """The survey a token opens, or SurveyRefused (checked on the server, every time)."""
    now = now or utcnow()
    if not token or len(token) > MAX_TOKEN:
        raise SurveyRefused("unknown")
    survey = session.scalar(select(Survey).where(Survey.token_digest == digest(token)))
    if survey is None:
        raise SurveyRefused("unknown")
    if survey.answered_at is not None:
        raise SurveyRefused("answered", survey.language)
    if survey.expires_at <= now:
        raise SurveyRefused("expired", survey.language)
    return survey


def parse_score(raw: Any) -> int:
    """A score from a form or JSON: a whole number 1 to 5, else InvalidInput."""
    text = str(raw).strip() if raw is not None else ""
    if not (text.isascii() and text.isdigit()) or int(text) not in SCORES:
        raise InvalidInput("the score is a whole number from 1 to 5")
    return int(text)


def answer_survey(
    session: Session, *, token: str, score: Any, now: datetime | None = None
) -> Survey:
    """Record the customer's score once (the first answer is kept) and log it on the case."""
    now = now or utcnow()
    value = parse_score(score)
    survey = live_survey(session, token=token, now=now)
    # Conditional update: of two answers racing on one link, exactly one wins.
    won = session.execute(
        update(Survey)
        .where(Survey.id == survey.id, Survey.answered_at.is_(None), Survey.expires_at > now)
        .values(answered_at=now, score=value)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        raise SurveyRefused("answered", survey.language)
    session.refresh(survey)
    record(
        session,
        survey.case_id,
        "survey_answered",
        new=str(value),
        at=now,
        data={"survey_id": survey.id},
    )
    return survey
