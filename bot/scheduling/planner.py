"""When is something due, and in whose time? Pure functions over aware UTC datetimes.

Every due time is worked out on the recipient's wall clock with `zoneinfo` and stored in UTC. A
wall-clock time that a daylight-saving change skips (02:30 on the spring-forward night) moves
forward by the gap (to 03:30); one that happens twice (the fall-back night) happens at its first
occurrence, once. So a 09:00 prompt stays at 09:00 local on either side of a change.

The cool-downs (README, "Scheduling"):

| what                      | when                                                        |
| ------------------------- | ----------------------------------------------------------- |
| lesson prompt, `stumble`  | 4 working hours after it was logged (later the same day)    |
| lesson prompt, `setback`  | the start of the next working day                           |
| lesson prompt, `fall`     | the start of the second working day after; each other fall   |
|                           | of the same author in the 14 days before adds two more       |
| reminder                  | two working days after the prompt went out                   |
| prompt window closes      | two working days after the reminder went out (then failing)  |
| follow-up check           | 14 days after the lesson, at the next working time           |
| check window closes       | 7 days after the check went out                              |
| retro round summary       | the start of the working day after the round                 |
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from zoneinfo import ZoneInfo

from bot.core.model import Depth, Member, Team, WeeklyTime, WorkingHours
from bot.core.timeutil import valid_timezone
from bot.scheduling.policy import SchedulePolicy

REMINDER_DAYS = 2
"""Working days from the lesson prompt to its one reminder, and from the reminder to the close."""
FALL_DAYS = 2
FALL_STACK_WINDOW = timedelta(days=14)
"""Falls of one author within this span lengthen each other's cool-downs instead of stacking."""
LATE_SLACK = timedelta(minutes=15)
"""A tick that runs a little after the end of working hours still sends what was due inside them."""
RETRY_BASE = timedelta(seconds=15)
RETRY_CAP = timedelta(minutes=30)
MAX_ATTEMPTS = 8
"""Transient failures in a row before an item is given up as failed (about an hour of retrying)."""
DEMO_DAY = timedelta(minutes=1)
"""At demo pace a working day lasts a minute and every minute is working time."""


@dataclass(frozen=True, slots=True)
class Calendar:
    """When someone (a member, or a team's channel) can be reached."""

    timezone: str
    hours: WorkingHours
    weekdays: frozenset[int]
    paused_until: datetime | None = None
    demo_day: timedelta | None = None
    """Set at demo pace: a working day lasts this long and working hours are always."""

    def __post_init__(self) -> None:
        if not self.weekdays:
            raise ValueError("a calendar needs at least one working day")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def zone_name(*candidates: str | None) -> str:
    """The first valid IANA name among the candidates (the last one is trusted)."""
    *preferred, last = candidates
    return next((name for name in preferred if name and valid_timezone(name)), last or "UTC")


def member_calendar(member: Member | None, team: Team, policy: SchedulePolicy) -> Calendar:
    """A member's calendar: their own timezone, else the platform's (`Member.timezone` holds the
    first of the two), else the team's, else the setting; their hours, else the default."""
    return Calendar(
        timezone=zone_name(member.timezone if member else None, team.timezone, policy.timezone),
        hours=(member.working_hours if member else None) or policy.working_hours,
        weekdays=policy.weekdays,
        paused_until=member.paused_until if member else None,
        demo_day=DEMO_DAY if policy.demo else None,
    )


def team_calendar(team: Team, policy: SchedulePolicy) -> Calendar:
    return member_calendar(None, team, policy)


def wall_clock(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant when the wall clock in `zone` shows `at` on `day` (see the module notes
    for the skipped and the repeated hour)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _windows(start: datetime, cal: Calendar) -> Iterator[tuple[datetime, datetime]]:
    """The working windows from `start` on, as UTC (opens, closes), the first one clipped."""
    zone = cal.zone
    day = start.astimezone(zone).date()
    while True:
        if day.weekday() in cal.weekdays:
            opens, closes = wall_clock(day, cal.hours.start, zone), wall_clock(day, cal.hours.end, zone)
            if closes > start:
                yield max(opens, start), closes
        day += timedelta(days=1)


def next_working_time(t: datetime, cal: Calendar) -> datetime:
    """The first instant at or after `t` inside working hours on a working day, after any pause."""
    if cal.paused_until is not None and t < cal.paused_until:
        t = cal.paused_until
    if cal.demo_day is not None:
        return t
    opens, _ = next(_windows(t, cal))
    return opens


def is_working_time(t: datetime, cal: Calendar) -> bool:
    return next_working_time(t, cal) == t


def add_working_time(t: datetime, duration: timedelta, cal: Calendar) -> datetime:
    """The instant when `duration` of working time has passed since `t` (the clock stops outside
    working hours). An hour is an hour of real time, also on a daylight-saving day."""
    if cal.demo_day is not None:
        return t + duration
    remaining = duration
    windows = _windows(t, cal)
    while True:
        opens, closes = next(windows)
        if closes - opens > remaining:
            return opens + remaining
        remaining -= closes - opens


def _working_day(start: date, days: int, weekdays: frozenset[int]) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        days -= day.weekday() in weekdays
    return day


def working_morning(t: datetime, days: int, cal: Calendar) -> datetime:
    """The start of working hours on the `days`-th working day after the day of `t`."""
    if cal.demo_day is not None:
        return next_working_time(t + days * cal.demo_day, cal)
    zone = cal.zone
    day = _working_day(t.astimezone(zone).date(), days, cal.weekdays)
    return next_working_time(wall_clock(day, cal.hours.start, zone), cal)


def working_days_later(t: datetime, days: int, cal: Calendar) -> datetime:
    """The same wall-clock time `days` working days after `t`, moved into working hours."""
    if cal.demo_day is not None:
        return next_working_time(t + days * cal.demo_day, cal)
    zone = cal.zone
    local = t.astimezone(zone)
    day = _working_day(local.date(), days, cal.weekdays)
    return next_working_time(wall_clock(day, local.time(), zone), cal)


def wall_clock_later(t: datetime, span: timedelta, zone: ZoneInfo) -> datetime:
    """`span` later on the wall clock: 14 days after 10:00 is 10:00, across a DST change too."""
    local = t.astimezone(zone).replace(tzinfo=None) + span
    return local.replace(tzinfo=zone).astimezone(UTC)


def next_weekly(after: datetime, when: WeeklyTime, timezone: str) -> datetime:
    """The first instant strictly after `after` when the wall clock in `timezone` shows `when`."""
    zone = ZoneInfo(timezone)
    day = after.astimezone(zone).date()
    day += timedelta(days=(when.weekday - day.weekday()) % 7)
    while (at := wall_clock(day, when.at, zone)) <= after:
        day += timedelta(days=7)
    return at


# -- the cool-downs -------------------------------------------------------------------------


def lesson_prompt_due(
    logged_at: datetime, depth: Depth, cal: Calendar, policy: SchedulePolicy, earlier_falls: int = 0
) -> datetime:
    """When to ask the author what a misstep taught them. `earlier_falls`: the author's other
    falls in the `FALL_STACK_WINDOW` before this one; each pushes this one's prompt further out."""
    if depth is Depth.STUMBLE:
        due = add_working_time(logged_at, policy.stumble_cooldown, cal)
    elif depth is Depth.SETBACK:
        due = working_morning(logged_at, 1, cal)
    else:
        due = working_morning(logged_at, FALL_DAYS * (1 + earlier_falls), cal)
    return next_working_time(due, cal)


def reminder_due(prompted_at: datetime, cal: Calendar) -> datetime:
    return working_days_later(prompted_at, REMINDER_DAYS, cal)


def prompt_window_closes(reminded_at: datetime, cal: Calendar) -> datetime:
    return working_days_later(reminded_at, REMINDER_DAYS, cal)


def check_due(lesson_at: datetime, cal: Calendar, policy: SchedulePolicy) -> datetime:
    return next_working_time(wall_clock_later(lesson_at, policy.check_after, cal.zone), cal)


def check_window_closes(asked_at: datetime, cal: Calendar, policy: SchedulePolicy) -> datetime:
    return wall_clock_later(asked_at, policy.check_answer_window, cal.zone)


def round_summary_due(round_at: datetime, team_cal: Calendar) -> datetime:
    return working_morning(round_at, 1, team_cal)


# -- at send time ---------------------------------------------------------------------------


def reachable_at(run_at: datetime, now: datetime, cal: Calendar) -> datetime:
    """When a private message meant for `run_at` may go out: `now` when the member can be reached
    (inside working hours, or a few minutes after a slot that was), else their next working time.
    A member's prompt is never dropped for being late: it waits for a decent hour."""
    meant = next_working_time(run_at, cal)
    if meant <= now and (now - meant <= LATE_SLACK or is_working_time(now, cal)):
        return now
    return next_working_time(max(meant, now), cal)


def prompt_slot_frees(sent: Sequence[datetime], now: datetime, policy: SchedulePolicy) -> datetime | None:
    """The no-nagging cap. `sent`: when the member's recent private messages went out. None when
    one more fits in the window now; else the moment the oldest one that blocks it leaves."""
    recent = sorted(at for at in sent if at > now - policy.prompt_window)
    if len(recent) < policy.max_prompts:
        return None
    return recent[len(recent) - policy.max_prompts] + policy.prompt_window


def is_stale(run_at: datetime, now: datetime, policy: SchedulePolicy) -> bool:
    """A team post this late (a restart after downtime) is marked missed instead of sent."""
    return now - run_at > policy.grace_period


def retry_delay(attempt: int, rng: Random) -> timedelta:
    """Capped exponential backoff with jitter: 15 s, 30 s, 1 min ... up to 30 min, each scaled by
    a random 50–100 % so that many items failing together do not come back together."""
    ceiling = min(RETRY_CAP, RETRY_BASE * 2 ** (attempt - 1))
    return ceiling * rng.uniform(0.5, 1.0)
