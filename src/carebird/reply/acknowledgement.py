"""The desk's automatic acknowledgement ("Message bien reçu, nous revenons vers vous sous
~25 min"): each account's settings and the texts, in French and English.

Settings live in the account's `options["acknowledge"]`, per channel:

    {"public": false, "private": true, "max_per_hour": 30,
     "automated_posts": 10, "automated_minutes": 10, "max_age_minutes": 60}

Off unless enabled: an account without the key acknowledges nothing, and enabling it turns on
private messages only (`public` stays false unless set; a public "bien reçu" under a tweet is
noise at best, a bot loop at worst). `max_per_hour` caps the account's acknowledgements per
rolling hour; an author with more than `automated_posts` posts in `automated_minutes` looks
automated and gets none; a message older than `max_age_minutes` when it is taken in (a backlog,
an import) gets none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from carebird.errors import InvalidInput
from carebird.ingest.accounts import get_account

OPTION = "acknowledge"
_LIMITS = {  # name: (least, most)
    "max_per_hour": (1, 10_000),
    "automated_posts": (1, 10_000),
    "automated_minutes": (1, 24 * 60),
    "max_age_minutes": (1, 7 * 24 * 60),
}


@dataclass(frozen=True, slots=True)
class AckSettings:
    public: bool = False
    private: bool = False
    max_per_hour: int = 30
    automated_posts: int = 10
    automated_minutes: int = 10
    max_age_minutes: int = 60

    def enabled_for(self, *, private: bool) -> bool:
        return self.private if private else self.public

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_ack(raw: Any) -> AckSettings:
    """Settings from an admin's input; InvalidInput names the field at fault."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("acknowledgement settings must be an object")
    known = {f.name for f in fields(AckSettings)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InvalidInput(
            f"unknown acknowledgement setting {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )
    values: dict[str, Any] = {}
    for name in ("public", "private"):
        if name in raw:
            if not isinstance(raw[name], bool):
                raise InvalidInput(f"acknowledge.{name} must be true or false")
            values[name] = raw[name]
    for name, (least, most) in _LIMITS.items():
        if name in raw:
            value = raw[name]
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(f"acknowledge.{name} must be a whole number")
            if not least <= value <= most:
                raise InvalidInput(f"acknowledge.{name} must be between {least} and {most}")
            values[name] = value
    return AckSettings(**values)


def ack_settings(options: Mapping[str, Any] | None) -> AckSettings:
    """An account's settings as stored (off when absent; a broken value turns them off)."""
    raw = (options or {}).get(OPTION)
    if raw is None:
        return AckSettings()
    try:
        return validate_ack(raw)
    except InvalidInput:
        return AckSettings()


def get_ack_settings(session: Session, account_id: int) -> AckSettings:
    """An account's acknowledgement settings (the API, the CLI)."""
    return ack_settings(get_account(session, account_id).options)


def set_ack_settings(
    session: Session, account_id: int, raw: Any, *, merge: bool = False
) -> AckSettings:
    """Set the account's acknowledgement settings: `raw` replaces them (what it leaves out
    takes its default), or with `merge` changes only the settings it names."""
    account = get_account(session, account_id)
    if merge and isinstance(raw, Mapping):
        raw = {**ack_settings(account.options).as_dict(), **raw}
    settings = validate_ack(raw)
    # A new dict: SQLAlchemy sees a JSON column change only when the value is replaced.
    account.options = {**(account.options or {}), OPTION: settings.as_dict()}
    session.flush()
    return settings


# --- texts ---------------------------------------------------------------------------------
_DAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
_TEXTS = {
    "fr": {
        "open": "Bonjour, message bien reçu ! Nous revenons vers vous sous ~{expected_wait}.",
        "closed": (
            "Bonjour, message bien reçu ! Notre service est fermé et rouvre {opening} "
            "(heure de {zone}) ; nous revenons vers vous sous ~{expected_wait} après l'ouverture."
        ),
        "closed_short": "Message bien reçu. Nous rouvrons {opening} et revenons vers vous.",
        "short": "Message bien reçu, nous revenons vers vous sous ~{expected_wait}.",
        "shortest": "Message bien reçu, nous revenons vers vous.",
    },
    "en": {
        "open": "Hello, message received! We will get back to you within ~{expected_wait}.",
        "closed": (
            "Hello, message received! Our team is closed until {opening} ({zone} time); "
            "we will get back to you within ~{expected_wait} of opening."
        ),
        "closed_short": "Message received. We reopen {opening} and will get back to you.",
        "short": "Message received, we will get back to you within ~{expected_wait}.",
        "shortest": "Message received, we will get back to you.",
    },
}


def language_of(tag: str | None) -> str:
    """French for a French-speaking customer, English for everyone else."""
    return "fr" if (tag or "").lower().split("-")[0] == "fr" else "en"


def format_wait(wait: timedelta, lang: str) -> str:
    """ "25 min", "2 h", "1 h 30" (FR) / "25 min", "2 h", "1 h 30 min" (EN); at least 5 min."""
    minutes = max(5, round(wait.total_seconds() / 60 / 5) * 5)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours >= 24:
        days = round(hours / 24)
        return f"{days} j" if lang == "fr" else f"{days} d"
    if rest == 0:
        return f"{hours} h"
    return f"{hours} h {rest:02d}" if lang == "fr" else f"{hours} h {rest} min"


def format_opening(at: datetime, lang: str, *, now: datetime) -> str:
    """`at` (already in the desk's zone): "lundi 7 décembre à 08:00" / "Monday 7 December at
    08:00"; the day alone is dropped for "today"/"tomorrow"."""
    clock = at.strftime("%H:%M")
    days = (at.date() - now.astimezone(at.tzinfo).date()).days
    if days == 0:
        return f"aujourd'hui à {clock}" if lang == "fr" else f"today at {clock}"
    if days == 1:
        return f"demain à {clock}" if lang == "fr" else f"tomorrow at {clock}"
    day, month = _DAYS[lang][at.weekday()], _MONTHS[lang][at.month - 1]
    link = "à" if lang == "fr" else "at"
    return f"{day} {at.day} {month} {link} {clock}"


def ack_texts(
    lang: str, *, wait: timedelta, opening: datetime | None, zone: str, now: datetime
) -> list[str]:
    """The acknowledgement's wordings, longest first (the first that fits the network is sent).
    `{expected_wait}` in them is `wait` as words ("25 min"); `opening` is the next opening time
    when the desk is closed now, else None."""
    words = _TEXTS[lang]
    waited = format_wait(wait, lang)
    city = zone.rsplit("/", 1)[-1].replace("_", " ")
    if opening is not None:
        when = format_opening(opening, lang, now=now)
        return [
            words["closed"].format(opening=when, zone=city, expected_wait=waited),
            words["closed_short"].format(opening=when),
            words["shortest"],
        ]
    short = words["short"].format(expected_wait=waited)
    return [words["open"].format(expected_wait=waited), short, words["shortest"]]
