"""Acknowledgement settings, texts and times (reply/acknowledgement.py, reply/acknowledging.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carebird.cases.calendars import Calendar
from carebird.errors import InvalidInput
from carebird.reply.acknowledgement import (
    AckSettings,
    ack_settings,
    ack_texts,
    format_wait,
    language_of,
    validate_ack,
)
from carebird.reply.acknowledging import AckSetup, reopens_at
from carebird.reply.length import measure

HOURS = Calendar.parse("Mon-Sat 08:00-22:00", "Europe/Paris")
SATURDAY_NIGHT = datetime(2026, 12, 5, 22, 30, tzinfo=UTC)  # 23:30 in Paris


def test_off_unless_enabled_and_public_off_by_default() -> None:
    assert ack_settings({}) == AckSettings()
    assert not AckSettings().enabled_for(private=True)
    assert not AckSettings().enabled_for(private=False)
    on = ack_settings({"acknowledge": {"private": True}})
    assert on.enabled_for(private=True) and not on.enabled_for(private=False)
    assert on.max_per_hour == 30 and on.automated_posts == 10 and on.automated_minutes == 10


def test_a_broken_stored_value_turns_acknowledgements_off() -> None:
    assert ack_settings({"acknowledge": {"private": "yes"}}) == AckSettings()
    assert ack_settings({"acknowledge": "on"}) == AckSettings()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "must be an object"),
        ({"privat": True}, "unknown acknowledgement setting 'privat'"),
        ({"public": 1}, "acknowledge.public must be true or false"),
        ({"max_per_hour": 0}, "acknowledge.max_per_hour must be between 1 and 10000"),
        ({"max_per_hour": True}, "acknowledge.max_per_hour must be a whole number"),
        ({"automated_minutes": 2.5}, "acknowledge.automated_minutes must be a whole number"),
        ({"automated_minutes": 100_000}, "between 1 and 1440"),
    ],
)
def test_bad_settings_are_refused_clearly(raw: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_ack(raw)


def test_languages_and_waits() -> None:
    assert language_of("fr") == "fr" and language_of("fr-CA") == "fr"
    assert language_of("en") == language_of("de") == language_of(None) == "en"
    assert format_wait(timedelta(minutes=23), "fr") == "25 min"
    assert format_wait(timedelta(seconds=40), "en") == "5 min"
    assert format_wait(timedelta(hours=2), "fr") == "2 h"
    assert format_wait(timedelta(minutes=90), "fr") == "1 h 30"
    assert format_wait(timedelta(minutes=90), "en") == "1 h 30 min"
    assert format_wait(timedelta(hours=50), "fr") == "2 j"


def test_texts_state_the_wait_and_the_next_opening_in_the_desks_zone() -> None:
    opens = reopens_at(HOURS, SATURDAY_NIGHT)
    assert opens is not None
    assert opens == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # Monday 08:00 in Paris
    local = opens.astimezone(HOURS.tz)
    fr = ack_texts("fr", wait=timedelta(minutes=25), opening=local, zone="Europe/Paris",
                   now=SATURDAY_NIGHT)  # fmt: skip
    assert fr[0].startswith("Bonjour, message bien reçu !")
    assert "lundi 7 décembre à 08:00" in fr[0] and "heure de Paris" in fr[0]
    assert "~25 min" in fr[0]
    en = ack_texts("en", wait=timedelta(minutes=25), opening=None, zone="Europe/Paris",
                   now=SATURDAY_NIGHT)  # fmt: skip
    assert en[0] == "Hello, message received! We will get back to you within ~25 min."
    assert all(not measure("x", t).over for t in fr + en)
    assert reopens_at(HOURS, datetime(2026, 12, 7, 9, 0, tzinfo=UTC)) is None  # open
    assert reopens_at(None, SATURDAY_NIGHT) is None  # always open


def test_an_account_s_holidays_and_hours_move_the_next_opening() -> None:
    """The account's calendar (its options over the desk's) says when the desk reopens: a
    Monday holiday pushes Saturday night's "we reopen" to Tuesday."""
    setup = AckSetup(hours=HOURS)
    holiday = setup.calendar_of({"holidays": ["2026-12-07"]})
    assert reopens_at(holiday, SATURDAY_NIGHT) == datetime(2026, 12, 8, 7, 0, tzinfo=UTC)
    montreal = setup.calendar_of({"timezone": "America/Montreal"})
    assert reopens_at(montreal, SATURDAY_NIGHT) is None  # 17:30 on Saturday there: open
    broken = setup.calendar_of({"opening_hours": "whenever"})  # written around the checks
    assert broken == HOURS
