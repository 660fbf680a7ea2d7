"""Business calendars: holidays as written, an account's keys over the desk's, the checks the
Accounts page calls, the settings' `holidays`, "we reopen Monday 08:00" and the polling plan."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from carebird.cases.calendars import Calendar, Holidays, account_calendar, check_calendar_options
from carebird.cases.hours import PollingPlan
from carebird.cases.sla import SlaSetup
from carebird.config import Settings
from carebird.errors import InvalidInput

PARIS = ZoneInfo("Europe/Paris")
DESK = Calendar.parse("Mon-Sat 08:00-22:00", "Europe/Paris", ["01-01", "05-01", "2026-12-24"])


def test_holidays_dates_yearly_days_and_ranges() -> None:
    h = Holidays.parse(["2026-12-24", "12-25", "2026-08-10..2026-08-14", "12-31..01-02"])
    closed = [
        date(2026, 12, 24), date(2027, 12, 25), date(2026, 8, 12), date(2026, 12, 31),
        date(2027, 1, 2),
    ]  # fmt: skip
    assert all(h.closes(d) for d in closed)
    assert not any(h.closes(d) for d in (date(2027, 12, 24), date(2026, 8, 15), date(2027, 1, 3)))


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["12/25"], "cannot read '12/25'"),
        (["2026-02-30"], "cannot read"),
        (["13-01"], "cannot read"),
        (["2026-12-24..12-26"], "mixes a date and a yearly day"),
        (["2026-12-26..2026-12-24"], "ends before it starts"),
        ([25], "is not a text"),
    ],
)
def test_bad_holidays_are_refused_clearly(items: list[object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Holidays.parse(items)  # type: ignore[arg-type]


def test_a_holiday_closes_the_whole_local_day_and_next_opening_says_when() -> None:
    christmas_eve = datetime(2026, 12, 24, 10, 0, tzinfo=PARIS)  # a Thursday
    assert not DESK.is_open(christmas_eve)
    assert DESK.next_opening(christmas_eve) == datetime(2026, 12, 25, 8, 0, tzinfo=PARIS)
    saturday_night = datetime(2026, 3, 7, 23, 0, tzinfo=PARIS)
    assert DESK.next_opening(saturday_night) == datetime(2026, 3, 9, 8, 0, tzinfo=PARIS)  # Monday
    assert DESK.next_opening(datetime(2026, 3, 9, 9, 0, tzinfo=PARIS)) == datetime(
        2026, 3, 9, 9, 0, tzinfo=PARIS
    )  # open: now
    due = DESK.add(datetime(2026, 12, 23, 21, 30, tzinfo=PARIS), timedelta(hours=1))
    assert due == datetime(2026, 12, 25, 8, 30, tzinfo=PARIS)


def test_an_account_overrides_each_key_of_the_desk_calendar() -> None:
    assert account_calendar(DESK, {}) is DESK
    assert account_calendar(DESK, {"instance_char_limit": 500}) is DESK
    tokyo = account_calendar(DESK, {"timezone": "Asia/Tokyo"})
    assert tokyo.hours.windows == DESK.hours.windows and tokyo.holidays == DESK.holidays
    assert tokyo.is_open(datetime(2026, 3, 9, 0, 0, tzinfo=UTC))  # Monday 09:00 in Tokyo
    weekdays = account_calendar(DESK, {"opening_hours": "Mon-Fri 09:00-17:00", "holidays": []})
    assert weekdays.tz == PARIS and not weekdays.holidays
    assert not weekdays.is_open(datetime(2026, 3, 7, 10, 0, tzinfo=PARIS))  # Saturday


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"opening_hours": "sometimes"}, "cannot read opening hours"),
        ({"opening_hours": ""}, "opening_hours must be"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"holidays": "12-25"}, "holidays must be a list"),
        ({"holidays": ["12-32"]}, "cannot read '12-32'"),
    ],
)
def test_check_calendar_options_explains_what_is_wrong(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_calendar_options(options)


def test_good_calendar_options_pass() -> None:
    check_calendar_options({})
    check_calendar_options(
        {"opening_hours": "lun-ven 09:00-18:00", "timezone": "America/Montreal",
         "holidays": ["07-01", "2026-12-24..2026-12-26"]}
    )  # fmt: skip


def test_the_settings_holidays_are_read_from_toml_and_checked_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "carebird.toml"
    config.write_text('holidays = ["01-01", "05-01", "2026-12-24"]\ntimezone = "UTC"\n')
    monkeypatch.setenv("CAREBIRD_CONFIG", str(config))
    settings = Settings()
    assert settings.holidays == ["01-01", "05-01", "2026-12-24"]
    assert not SlaSetup.from_settings(settings).calendar.is_open(
        datetime(2026, 5, 1, 12, tzinfo=UTC)
    )
    bad = Settings(holidays=["Christmas"])
    with pytest.raises(InvalidInput, match="holidays: cannot read 'Christmas'"):
        SlaSetup.from_settings(bad)


def test_the_polling_plan_sleeps_through_a_holiday_until_the_opening() -> None:
    plan = PollingPlan(open_seconds=30, closed_seconds=300, hours=DESK)
    may_day = datetime(2026, 5, 1, 12, 0, tzinfo=PARIS)
    assert plan.interval(may_day) == 300
    just_before = datetime(2026, 5, 2, 7, 58, tzinfo=PARIS)
    assert plan.interval(just_before) == 120  # wakes at Saturday's 08:00 opening
    assert plan.interval(datetime(2026, 5, 2, 9, 0, tzinfo=PARIS)) == 30
