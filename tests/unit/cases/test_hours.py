"""Published opening hours: Mon–Sat 8:00–22:00 Europe/Paris, across DST and midnight."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from carebird.cases.hours import BusinessHours
from carebird.errors import InvalidInput

PARIS = BusinessHours.parse("Mon-Sat 08:00-22:00", "Europe/Paris")


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (datetime(2026, 11, 26, 7, 0, tzinfo=UTC), True),  # Thu 08:00 in Paris (UTC+1)
        (datetime(2026, 11, 26, 6, 59, tzinfo=UTC), False),  # 07:59 Paris
        (datetime(2026, 11, 26, 20, 59, tzinfo=UTC), True),  # 21:59 Paris
        (datetime(2026, 11, 26, 21, 0, tzinfo=UTC), False),  # 22:00 Paris: closed
        (datetime(2026, 11, 29, 12, 0, tzinfo=UTC), False),  # Sunday
        (datetime(2026, 7, 4, 6, 30, tzinfo=UTC), True),  # Sat 08:30 in summer time (UTC+2)
        (datetime(2026, 7, 4, 5, 30, tzinfo=UTC), False),  # Sat 07:30 summer time
    ],
)
def test_paris_hours(at: datetime, open_: bool) -> None:
    assert PARIS.is_open(at) is open_


def test_french_days_overnight_and_several_rules() -> None:
    hours = BusinessHours.parse("lun-ven 09h00-18h00; sam 20:00-02:00", "Europe/Paris")
    assert hours.is_open(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))  # Fri 10:00
    assert not hours.is_open(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))  # Sat 13:00
    assert hours.is_open(datetime(2026, 11, 28, 22, 0, tzinfo=UTC))  # Sat 23:00
    assert hours.is_open(datetime(2026, 11, 29, 0, 30, tzinfo=UTC))  # Sun 01:30, after Sat
    assert not hours.is_open(datetime(2026, 11, 29, 2, 0, tzinfo=UTC))  # Sun 03:00


def test_next_change_is_the_opening() -> None:
    sunday_noon = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)
    assert PARIS.next_change(sunday_noon) == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "tz"), [("Mon-Sat", "Europe/Paris"), ("Xyz 08:00-10:00", "UTC"), ("24/7", "Mars/Base")]
)
def test_bad_specs_are_refused_clearly(spec: str, tz: str) -> None:
    with pytest.raises(InvalidInput):
        BusinessHours.parse(spec, tz)
