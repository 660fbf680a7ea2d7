"""Answer deadlines in business time: nights, Sundays, overnight hours, clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carebird.cases.hours import BusinessHours
from carebird.cases.sla import SlaPolicy, add_business_time, deadline, open_intervals

PARIS = ZoneInfo("Europe/Paris")
DESK = BusinessHours.parse("Mon-Sat 08:00-22:00", "Europe/Paris")
HOUR = timedelta(hours=1)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_inside_opening_hours_the_target_is_plain_time() -> None:
    assert add_business_time(DESK, paris(2026, 3, 3, 10, 15), HOUR) == paris(2026, 3, 3, 11, 15)


def test_a_closed_night_is_skipped() -> None:
    # Tuesday 21:30: 30 minutes tonight, the other 30 after Wednesday's opening.
    due = add_business_time(DESK, paris(2026, 3, 3, 21, 30), HOUR)
    assert due == paris(2026, 3, 4, 8, 30)
    # Arriving at night: the clock starts at the opening.
    assert add_business_time(DESK, paris(2026, 3, 4, 3, 0), HOUR) == paris(2026, 3, 4, 9, 0)


def test_sunday_is_closed() -> None:
    # Saturday 21:45: 15 minutes on Saturday, then Monday 08:00 + 45 minutes.
    due = add_business_time(DESK, paris(2026, 3, 7, 21, 45), HOUR)
    assert due == paris(2026, 3, 9, 8, 45)
    assert add_business_time(DESK, paris(2026, 3, 8, 12, 0), HOUR) == paris(2026, 3, 9, 9, 0)


def test_a_long_target_spans_several_days() -> None:
    # 20 business hours from Friday 20:00: 2 h Friday, 14 h Saturday, 4 h Monday.
    due = add_business_time(DESK, paris(2026, 3, 6, 20, 0), 20 * HOUR)
    assert due == paris(2026, 3, 9, 12, 0)


def test_the_spring_clock_change_is_counted_in_real_time() -> None:
    # Night of Saturday 28 to Sunday 29 March 2026: Paris goes from UTC+1 to UTC+2.
    late = BusinessHours.parse("Sat 20:00-04:00", "Europe/Paris")
    start = paris(2026, 3, 28, 23, 0)  # 22:00 UTC
    # 23:00 → 04:00 local is 4 real hours (02:00-03:00 does not exist that night).
    due = add_business_time(late, start, 4 * HOUR)
    assert due is not None and due.astimezone(PARIS) == paris(2026, 3, 29, 4, 0)
    assert add_business_time(late, start, 5 * HOUR) == paris(2026, 4, 4, 21, 0)


def test_overnight_and_always_open_hours() -> None:
    night = BusinessHours.parse("Fri 20:00-02:00", "Europe/Paris")
    due = add_business_time(night, paris(2026, 3, 7, 1, 0), 2 * HOUR)  # Saturday 01:00
    assert due == paris(2026, 3, 13, 21, 0)  # 1 h left that night, 1 h next Friday
    always = BusinessHours.parse("24/7", "UTC")
    start = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)
    assert add_business_time(always, start, HOUR) == start + HOUR
    intervals = list(open_intervals(always, start, 2))
    assert intervals[0][0] == start and len(intervals) == 1  # merged across midnight


def test_deadline_runs_only_while_the_customer_waits_on_us() -> None:
    policy = SlaPolicy(DESK, first_response=HOUR, next_response=4 * HOUR)
    since = paris(2026, 3, 3, 21, 30)
    now = paris(2026, 3, 4, 8, 31)
    first = deadline(policy, status="new", waiting_since=since, answered_before=False, now=now)
    assert first is not None and first.due_at == paris(2026, 3, 4, 8, 30) and first.breached
    follow = deadline(policy, status="open", waiting_since=since, answered_before=True, now=now)
    assert follow is not None and follow.due_at == paris(2026, 3, 4, 11, 30)
    assert not follow.breached
    for status in ("resolved", "closed", "waiting_third_party"):
        assert (
            deadline(policy, status=status, waiting_since=since, answered_before=False, now=now)
            is None
        )
    assert (
        deadline(policy, status="open", waiting_since=None, answered_before=True, now=now) is None
    )


def test_policy_from_settings_strings() -> None:
    policy = SlaPolicy.parse("lun-ven 09:00-18:00", "Europe/Paris", first_response_minutes=30)
    assert policy.first_response == timedelta(minutes=30)
    due = add_business_time(policy.hours, paris(2026, 3, 6, 17, 50), policy.first_response)
    assert due == paris(2026, 3, 9, 9, 20)  # Friday evening → Monday morning


def test_sla_policies_from_the_configuration_pick_the_first_that_covers_a_case() -> None:
    from carebird.cases.routing import Facts
    from carebird.cases.sla import SlaSetup

    setup = SlaSetup.from_config(
        {
            "policies": [
                {"name": "VIP", "when": {"min_followers": 10_000}, "first_response_minutes": 15},
                {"name": "Complaints", "when": {"category": "complaint"},
                 "first_response_minutes": 60, "next_response_minutes": 120},
            ]
        },
        opening_hours="Mon-Fri 09:00-18:00",
        timezone="Europe/Paris",
        default_minutes=240,
    )  # fmt: skip

    def facts(category: str, followers: int = 0) -> Facts:
        return Facts(1, category, "fr", "x", "Brand", "", followers, False, set(), set())

    assert setup.policy_for(facts("complaint", 50_000)).first_response == timedelta(minutes=15)
    complaint = setup.policy_for(facts("complaint"))
    assert complaint.first_response == timedelta(minutes=60)
    assert complaint.next_response == timedelta(minutes=120)
    assert setup.policy_for(facts("question")).first_response == timedelta(minutes=240)
    assert setup.policy_for(None).first_response == timedelta(minutes=240)
    assert complaint.hours.is_open(datetime(2026, 12, 7, 10, tzinfo=UTC))  # Monday 11:00 Paris


@pytest.mark.parametrize(
    ("policies", "message"),
    [
        ([{"name": "x", "first_response_minutes": 0}], "first_response_minutes"),
        ([{"name": "x", "when": {"category": "rant"}, "first_response_minutes": 5}], "category"),
        ([{"first_response_minutes": 5}], "name"),
        ("not a list", "must be a list"),
        (
            [{"name": "x", "first_response_minutes": 5, "resolution_minutes": -1}],
            "resolution_minutes",
        ),
        (
            [{"name": "x", "first_response_minutes": 5, "on_breach": {"boost": 10}}],
            r"on_breach\.boost: Extra inputs",
        ),
        (
            [{"name": "x", "first_response_minutes": 5, "on_breach": {"team": ""}}],
            r"on_breach\.team",
        ),
        (
            [{"name": "x", "when": {"min_priority": "high"}, "first_response_minutes": 5}],
            r"when\.min_priority",
        ),
    ],
)
def test_a_bad_sla_policy_is_a_clear_error(policies: object, message: str) -> None:
    from carebird.cases.sla import SlaSetup
    from carebird.errors import InvalidInput

    with pytest.raises(InvalidInput, match=message):
        SlaSetup.from_config(
            {"policies": policies}, opening_hours="Mon-Fri 09:00-18:00", timezone="UTC",
            default_minutes=60,
        )  # fmt: skip


def test_policies_by_priority_and_network_with_every_target_and_escalation() -> None:
    from carebird.cases.routing import Facts
    from carebird.cases.sla import SlaSetup

    setup = SlaSetup.from_config(
        {"policies": [
            {"name": "Hot", "when": {"min_priority": 70}, "first_response_minutes": 15,
             "next_response_minutes": 30, "resolution_minutes": 240,
             "on_breach": {"priority_boost": 10, "assign_to_lead": True}},
            {"name": "Mastodon", "when": {"network": "mastodon", "account": "@Brand"},
             "first_response_minutes": 120, "on_breach": {"team": "Escalations"}},
        ]},
        opening_hours="Mon-Fri 09:00-18:00", timezone="Europe/Paris", default_minutes=240,
        holidays=["12-25"],
    )  # fmt: skip

    def facts(network: str, priority: float) -> Facts:
        return Facts(1, "question", "fr", network, "Brand", "", 0, False, set(), set(), priority)

    hot = setup.policy_for(facts("x", 85))
    assert (hot.name, hot.first_response, hot.next_response, hot.resolution) == (
        "Hot",
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(minutes=240),
    )
    assert hot.on_breach is not None and hot.on_breach.priority_boost == 10
    assert hot.on_breach.assign_to_lead and hot.on_breach.team is None
    assert hot.target_name(answered_before=True) == "next_response"
    masto = setup.policy_for(facts("mastodon", 20))
    assert masto.name == "Mastodon" and masto.resolution is None
    assert masto.on_breach is not None and masto.on_breach.team == "Escalations"
    assert masto.target_name(answered_before=True) == "first_response"  # no next target
    assert setup.policy_for(facts("x", 20)).name == "default"
    assert not setup.calendar.is_open(datetime(2026, 12, 25, 10, tzinfo=UTC))  # a holiday
