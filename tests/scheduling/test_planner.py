"""The pure planning rules: cool-downs in working hours, in the right timezone, across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from random import Random
from zoneinfo import ZoneInfo

import pytest

from bot.core.model import Depth, Member, Team, TeamRef, WeeklyTime, WorkingHours
from bot.scheduling import planner
from bot.scheduling.planner import Calendar
from bot.scheduling.policy import SchedulePolicy
from tests.scheduling.helpers import local, wall

POLICY = SchedulePolicy()
WEEK = frozenset(range(5))
HOURS = WorkingHours()


def cal(zone: str = "UTC", **kwargs: object) -> Calendar:
    return Calendar(zone, kwargs.pop("hours", HOURS), kwargs.pop("weekdays", WEEK), **kwargs)  # type: ignore[arg-type]


# -- the cool-down table --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        (datetime(2026, 11, 23, 10, 0), datetime(2026, 11, 23, 14, 0)),  # later the same day
        (datetime(2026, 11, 23, 15, 0), datetime(2026, 11, 24, 11, 0)),  # 2 h today, 2 h tomorrow
        (datetime(2026, 11, 27, 16, 0), datetime(2026, 11, 30, 12, 0)),  # Friday -> Monday
        (datetime(2026, 11, 28, 11, 0), datetime(2026, 11, 30, 13, 0)),  # Saturday counts from Monday
        (datetime(2026, 11, 23, 6, 0), datetime(2026, 11, 23, 13, 0)),  # before hours: from 09:00
        (datetime(2026, 11, 23, 13, 0), datetime(2026, 11, 24, 9, 0)),  # exactly 17:00 is after hours
    ],
)
def test_stumble_prompt_comes_four_working_hours_later(logged: datetime, expected: datetime) -> None:
    due = planner.lesson_prompt_due(logged.replace(tzinfo=UTC), Depth.STUMBLE, cal(), POLICY)
    assert due == expected.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        (datetime(2026, 11, 23, 10, 0), datetime(2026, 11, 24, 9, 0)),
        (datetime(2026, 11, 23, 23, 30), datetime(2026, 11, 24, 9, 0)),
        (datetime(2026, 11, 27, 11, 0), datetime(2026, 11, 30, 9, 0)),  # Friday -> Monday
        (datetime(2026, 11, 29, 11, 0), datetime(2026, 11, 30, 9, 0)),  # Sunday -> Monday
    ],
)
def test_setback_prompt_comes_the_next_working_morning(logged: datetime, expected: datetime) -> None:
    due = planner.lesson_prompt_due(logged.replace(tzinfo=UTC), Depth.SETBACK, cal(), POLICY)
    assert due == expected.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("logged", "earlier_falls", "expected"),
    [
        (datetime(2026, 11, 23, 10, 0), 0, datetime(2026, 11, 25, 9, 0)),  # Monday -> Wednesday
        (datetime(2026, 11, 26, 10, 0), 0, datetime(2026, 11, 30, 9, 0)),  # Thursday -> Monday
        (datetime(2026, 11, 23, 10, 0), 1, datetime(2026, 11, 27, 9, 0)),  # a second fall waits longer
        (datetime(2026, 11, 23, 10, 0), 2, datetime(2026, 12, 1, 9, 0)),  # and a third longer still
    ],
)
def test_fall_prompt_waits_two_working_days_and_stacked_falls_wait_longer(
    logged: datetime, earlier_falls: int, expected: datetime
) -> None:
    due = planner.lesson_prompt_due(logged.replace(tzinfo=UTC), Depth.FALL, cal(), POLICY, earlier_falls)
    assert due == expected.replace(tzinfo=UTC)


def test_reminder_and_window_close_come_two_working_days_apart_at_the_same_time() -> None:
    prompted = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # Thursday
    reminder = planner.reminder_due(prompted, cal())
    assert reminder == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # Monday
    assert planner.prompt_window_closes(reminder, cal()) == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


def test_working_days_follow_the_configured_week() -> None:
    sun_to_thu = cal("Asia/Jerusalem", weekdays=frozenset({6, 0, 1, 2, 3}))
    thursday = local("Asia/Jerusalem", 2026, 11, 26, 10, 0)
    assert wall(planner.reminder_due(thursday, sun_to_thu), "Asia/Jerusalem") == datetime(2026, 11, 30, 10, 0)
    friday = local("Asia/Jerusalem", 2026, 11, 27, 10, 0)
    due = planner.lesson_prompt_due(friday, Depth.SETBACK, sun_to_thu, POLICY)
    assert wall(due, "Asia/Jerusalem") == datetime(2026, 11, 29, 9, 0)  # Sunday morning


def test_check_comes_fourteen_days_later_inside_working_hours() -> None:
    lesson = datetime(2026, 11, 24, 11, 30, tzinfo=UTC)
    assert planner.check_due(lesson, cal(), POLICY) == datetime(2026, 12, 8, 11, 30, tzinfo=UTC)
    evening = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    assert planner.check_due(evening, cal(), POLICY) == datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert planner.check_due(saturday, cal(), POLICY) == datetime(2026, 12, 14, 9, 0, tzinfo=UTC)


def test_round_summary_comes_the_next_working_morning() -> None:
    friday_round = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    assert planner.round_summary_due(friday_round, cal()) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_members_own_hours_and_timezone_decide() -> None:
    early = cal("Asia/Kolkata", hours=WorkingHours(time(7, 30), time(15, 30)))
    logged = local("Asia/Kolkata", 2026, 11, 23, 12, 0)
    due = planner.lesson_prompt_due(logged, Depth.STUMBLE, early, POLICY)
    assert wall(due, "Asia/Kolkata") == datetime(2026, 11, 24, 8, 0)  # 3.5 h today, 30 min tomorrow
    assert due == datetime(2026, 11, 24, 2, 30, tzinfo=UTC)  # +05:30


# -- whose timezone --------------------------------------------------------------------------


def member(timezone: str | None) -> Member:
    return Member(1, "fake", "W1", "ana", "Ana", timezone=timezone)


def team(timezone: str) -> Team:
    return Team(1, TeamRef("fake", "W1", "C1"), "team", timezone, datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("member_zone", "team_zone", "setting", "expected"),
    [
        ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/Berlin"),
        (None, "America/New_York", "Asia/Tokyo", "America/New_York"),
        ("Not/AZone", "America/New_York", "Asia/Tokyo", "America/New_York"),
        (None, "Not/AZone", "Asia/Tokyo", "Asia/Tokyo"),
    ],
)
def test_member_timezone_wins_over_team_over_setting(
    member_zone: str | None, team_zone: str, setting: str, expected: str
) -> None:
    policy = SchedulePolicy(timezone=setting)
    assert planner.member_calendar(member(member_zone), team(team_zone), policy).timezone == expected


# -- daylight saving: 09:00 stays 09:00 ------------------------------------------------------

# (zone, the Sunday of a transition, a wall time it skips or repeats, the skipped wall time's
# landing place). Kolkata has no DST: its rows check the half-hour offset stays put.
TRANSITIONS = [
    ("Europe/Berlin", date(2026, 3, 29)),
    ("Europe/Berlin", date(2026, 10, 25)),
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
    ("Australia/Sydney", date(2026, 4, 5)),
    ("Australia/Sydney", date(2026, 10, 4)),
    ("Pacific/Chatham", date(2026, 4, 5)),
    ("Pacific/Chatham", date(2026, 9, 27)),
    ("Asia/Kolkata", date(2026, 3, 29)),
    ("Asia/Kolkata", date(2026, 10, 25)),
]


def offset(at: datetime, zone: str) -> timedelta:
    offset = at.astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None
    return offset


@pytest.mark.parametrize(("zone", "sunday"), TRANSITIONS)
def test_prompt_across_a_dst_weekend_comes_at_nine_local(zone: str, sunday: date) -> None:
    friday = sunday - timedelta(days=2)
    logged = local(zone, friday.year, friday.month, friday.day, 16, 0)
    due = planner.lesson_prompt_due(logged, Depth.SETBACK, cal(zone), POLICY)
    monday = sunday + timedelta(days=1)
    assert wall(due, zone) == datetime(monday.year, monday.month, monday.day, 9, 0)
    shift = offset(due, zone) - offset(logged, zone)
    assert (shift == timedelta(0)) == (zone == "Asia/Kolkata")


@pytest.mark.parametrize(("zone", "sunday"), TRANSITIONS)
def test_weekly_post_keeps_its_wall_clock_time_across_dst(zone: str, sunday: date) -> None:
    monday_nine = WeeklyTime(0, time(9, 0))
    before = sunday - timedelta(days=6)  # the Monday before the transition
    first = planner.next_weekly(local(zone, before.year, before.month, before.day, 8, 0), monday_nine, zone)
    second = planner.next_weekly(first, monday_nine, zone)
    assert wall(first, zone).time() == wall(second, zone).time() == time(9, 0)
    assert second - first == timedelta(days=7) + offset(first, zone) - offset(second, zone)


@pytest.mark.parametrize(("zone", "sunday"), TRANSITIONS)
def test_check_fourteen_days_later_keeps_the_wall_clock_time(zone: str, sunday: date) -> None:
    lesson_day = sunday - timedelta(days=4)  # a Wednesday
    lesson = local(zone, lesson_day.year, lesson_day.month, lesson_day.day, 10, 30)
    check = planner.check_due(lesson, cal(zone), POLICY)
    assert wall(check, zone) == wall(lesson, zone) + timedelta(days=14)


# A wall time inside the spring-forward gap: the post moves forward by the gap, once.
SKIPPED = [
    ("Europe/Berlin", date(2026, 3, 29), time(2, 30), time(3, 30)),
    ("America/New_York", date(2026, 3, 8), time(2, 30), time(3, 30)),
    ("Australia/Sydney", date(2026, 10, 4), time(2, 30), time(3, 30)),
    ("Pacific/Chatham", date(2026, 9, 27), time(3, 0), time(4, 0)),
]


@pytest.mark.parametrize(("zone", "sunday", "at", "lands"), SKIPPED)
def test_a_time_in_the_skipped_hour_happens_once_just_after_it(
    zone: str, sunday: date, at: time, lands: time
) -> None:
    when = WeeklyTime(6, at)
    saturday = local(zone, *(sunday - timedelta(days=1)).timetuple()[:3], 12, 0)
    fired = planner.next_weekly(saturday, when, zone)
    assert fired.astimezone(ZoneInfo(zone)).date() == sunday
    assert wall(fired, zone).time() == lands
    following = planner.next_weekly(fired, when, zone)
    assert wall(following, zone) == datetime.combine(sunday + timedelta(days=7), at)


# A wall time inside the fall-back hour: it happens twice on the clock, the post goes once.
REPEATED = [
    ("Europe/Berlin", date(2026, 10, 25), time(2, 30)),
    ("America/New_York", date(2026, 11, 1), time(1, 30)),
    ("Australia/Sydney", date(2026, 4, 5), time(2, 30)),
    ("Pacific/Chatham", date(2026, 4, 5), time(3, 0)),
]


@pytest.mark.parametrize(("zone", "sunday", "at"), REPEATED)
def test_a_time_in_the_repeated_hour_happens_once_at_its_first_occurrence(
    zone: str, sunday: date, at: time
) -> None:
    when = WeeklyTime(6, at)
    saturday = local(zone, *(sunday - timedelta(days=1)).timetuple()[:3], 12, 0)
    fired = planner.next_weekly(saturday, when, zone)
    assert wall(fired, zone) == datetime.combine(sunday, at)
    second_occurrence = fired + (offset(fired, zone) - offset(fired + timedelta(hours=2), zone))
    assert wall(second_occurrence, zone) == datetime.combine(sunday, at)
    assert second_occurrence > fired
    following = planner.next_weekly(fired, when, zone)
    assert wall(following, zone) == datetime.combine(sunday + timedelta(days=7), at)
    assert following > second_occurrence


def test_working_hours_on_the_skipped_hour_day_count_real_time() -> None:
    night_shift = cal(
        "Europe/Berlin", hours=WorkingHours(time(0, 0), time(8, 0)), weekdays=frozenset(range(7))
    )
    start = local("Europe/Berlin", 2026, 3, 29, 0, 0)
    due = planner.add_working_time(start, timedelta(hours=4), night_shift)
    assert due - start == timedelta(hours=4)
    assert wall(due, "Europe/Berlin") == datetime(2026, 3, 29, 5, 0)  # 02:00-03:00 never happened


# -- at send time ----------------------------------------------------------------------------


def test_paused_member_is_reached_after_the_pause_in_working_hours() -> None:
    paused = cal(paused_until=datetime(2026, 12, 10, 0, 0, tzinfo=UTC))
    assert planner.next_working_time(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), paused) == datetime(
        2026, 12, 10, 9, 0, tzinfo=UTC
    )
    due = planner.lesson_prompt_due(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), Depth.STUMBLE, paused, POLICY)
    assert due == datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("run_at", "now", "expected"),
    [
        (datetime(2026, 11, 23, 10, 0), datetime(2026, 11, 23, 10, 0), datetime(2026, 11, 23, 10, 0)),
        (datetime(2026, 11, 23, 16, 59), datetime(2026, 11, 23, 17, 5), datetime(2026, 11, 23, 17, 5)),
        (datetime(2026, 11, 23, 16, 0), datetime(2026, 11, 23, 21, 0), datetime(2026, 11, 24, 9, 0)),
        (datetime(2026, 11, 23, 16, 0), datetime(2026, 11, 24, 11, 0), datetime(2026, 11, 24, 11, 0)),
        (datetime(2026, 11, 23, 7, 0), datetime(2026, 11, 23, 7, 0), datetime(2026, 11, 23, 9, 0)),
    ],
)
def test_a_private_message_waits_for_a_decent_hour(
    run_at: datetime, now: datetime, expected: datetime
) -> None:
    at = planner.reachable_at(run_at.replace(tzinfo=UTC), now.replace(tzinfo=UTC), cal())
    assert at == expected.replace(tzinfo=UTC)


def test_no_nagging_cap_frees_a_slot_when_the_oldest_message_is_a_week_old() -> None:
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    sent = [now - timedelta(days=d) for d in (6, 3, 1)]
    assert planner.prompt_slot_frees(sent[1:], now, POLICY) is None
    assert planner.prompt_slot_frees(sent, now, POLICY) == sent[0] + timedelta(days=7)
    old = [now - timedelta(days=8), *sent[1:]]
    assert planner.prompt_slot_frees(old, now, POLICY) is None


def test_retry_delay_grows_exponentially_with_jitter_up_to_a_cap() -> None:
    rng = Random(7)
    for attempt in range(1, 12):
        ceiling = min(planner.RETRY_CAP, planner.RETRY_BASE * 2 ** (attempt - 1))
        delays = [planner.retry_delay(attempt, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1
    assert planner.retry_delay(20, rng) <= planner.RETRY_CAP


def test_only_team_posts_beyond_the_grace_period_are_stale() -> None:
    due = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert not planner.is_stale(due, due + POLICY.grace_period, POLICY)
    assert planner.is_stale(due, due + POLICY.grace_period + timedelta(seconds=1), POLICY)


def test_demo_pace_asks_within_minutes_at_any_hour() -> None:
    demo = SchedulePolicy().with_demo_pace()
    night = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)  # Saturday night
    demo_cal = planner.member_calendar(None, team("UTC"), demo)
    assert planner.lesson_prompt_due(night, Depth.STUMBLE, demo_cal, demo) == night + timedelta(seconds=30)
    assert planner.lesson_prompt_due(night, Depth.FALL, demo_cal, demo) == night + timedelta(minutes=2)
    assert planner.reminder_due(night, demo_cal) == night + timedelta(minutes=2)
