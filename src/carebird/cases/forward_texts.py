"""The words of a forward, in French and English: the owner's e-mail, the customer's notice."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.ingest.models import Message

# Short enough for every network's limit (X 280, Bluesky 300) and free of personal data.
ACK = {
    "fr": (
        "Merci pour votre patience. Nous avons transmis votre demande à notre partenaire "
        "et revenons vers vous dès que possible."
    ),
    "en": (
        "Thank you for your patience. We have passed your request on to our partner "
        "and will come back to you as soon as we can."
    ),
}

SUBJECT = {
    "fr": "Cas n°{case_id} : votre réponse est attendue avant le {due}",
    "en": "Case #{case_id}: your answer is needed by {due}",
}

BODY = {
    "fr": """Bonjour {name},

{asker} vous transmet le cas n°{case_id} et attend votre réponse avant le {due}.

Lisez le cas et répondez en suivant ce lien personnel (une seule réponse possible,
valable jusqu'au {expires}) :

{link}

Ne transférez pas ce message : le lien donne accès au cas sans autre identification.
""",
    "en": """Hello {name},

{asker} is passing case #{case_id} on to you and needs your answer by {due}.

Read the case and answer through this personal link (one answer only,
valid until {expires}):

{link}

Please do not forward this message: the link opens the case without any other sign-in.
""",
}

ASKER = {"fr": "Le service client", "en": "The customer care team"}
TIME_FORMAT = {"fr": "%d/%m/%Y à %H:%M", "en": "%Y-%m-%d at %H:%M"}


def pick(language: str | None) -> str:
    return language if language in ("fr", "en") else "en"


def case_language(session: Session, case_id: int) -> str:
    """The language of the customer's latest message: fr or en (English for any other)."""
    found = session.scalar(
        select(Message.language)
        .where(Message.case_id == case_id, Message.direction == "in")
        .where(Message.language.in_(("fr", "en")))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    return pick(found)


def ack_text(language: str) -> str:
    return ACK[pick(language)]


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def when(value: datetime, language: str, zone: str) -> str:
    local = value.astimezone(_zone(zone))
    return f"{local.strftime(TIME_FORMAT[pick(language)])} ({local.tzname()})"


def mail_text(
    language: str,
    *,
    owner_name: str,
    agent_name: str,
    case_id: int,
    due_at: datetime,
    expires_at: datetime,
    link: str,
    zone: str,
) -> tuple[str, str]:
    """The e-mail's subject and body: a deadline and a link, nothing of the case itself."""
    lang = pick(language)
    due = when(due_at, lang, zone)
    asker = f"{agent_name} ({ASKER[lang].lower()})" if agent_name else ASKER[lang]
    subject = SUBJECT[lang].format(case_id=case_id, due=due)
    body = BODY[lang].format(
        name=owner_name,
        asker=asker,
        case_id=case_id,
        due=due,
        expires=when(expires_at, lang, zone),
        link=link,
    )
    return subject, body
