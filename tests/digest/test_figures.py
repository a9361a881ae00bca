"""Every digest figure, against the hand-computed history in `history.py`, in three timezones.

The same UTC instants fall into different local weeks: Pacific/Auckland (UTC+13 in November)
starts week 47 eleven hours before UTC does, America/Los_Angeles (UTC-8) eight hours after.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.digest.figures import DigestFigures, DigestWindow, Repeat, WeekOutcomes, Win
from bot.core.digest.week import Week
from bot.core.model import Depth
from bot.scheduling.policy import SchedulePolicy
from bot.storage.database import Database
from tests.digest.history import add_team, build_history

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
W47 = Week(2026, 47)
REPEAT = Repeat(
    number=8,
    what="the deploy ran before the migrations again",
    earlier_number=4,
    lesson="staging must mirror production",
    commitment="check the migration list before a demo",
    owner_name="Ben",
)

CHECK_AFTER = SchedulePolicy().check_after


def trend(**weeks: tuple[int, int]) -> tuple[WeekOutcomes, ...]:
    """Eight weeks ending with W47; `w44=(learning, failing)` sets one."""
    return tuple(WeekOutcomes(Week(2026, n), *weeks.get(f"w{n}", (0, 0))) for n in range(40, 48))


EXPECTED = {
    # UTC week 47: Mon 16 Nov 00:00 to Mon 23 Nov 00:00.
    "UTC": DigestFigures(
        history=9,
        logged=4,  # 6, 7, 8, 9
        lessons=3,  # of 5, 6, 8
        checks=2,  # unsure on 4, stuck on 5
        repeats_logged=1,
        repeats_confirmed=1,
        no_goal=1,  # 7
        depths={Depth.STUMBLE: 2, Depth.SETBACK: 1, Depth.FALL: 1},
        top_tags=(("data", 2), ("deploys", 2)),
        trend=trend(w44=(0, 1), w45=(1, 0), w47=(1, 2)),  # 4 and 7 failing, 5 learning
        repeats=(REPEAT,),
        wins=(Win(5, "docs rot when nobody owns them"),),
        waiting_lesson=2,  # 7, 9
        checks_coming=1,  # 2's lesson of 12 Nov falls due 26 Nov
        unanswered=1,  # 3's lesson of 29 Oct
    ),
    # Auckland week 47: Sun 15 Nov 11:00 UTC to Sun 22 Nov 11:00 UTC.
    "Pacific/Auckland": DigestFigures(
        history=8,
        logged=4,  # 5, 6, 7, 8 (9 is Monday morning of week 48 there)
        lessons=2,  # of 5 and 8 (6's came on Monday)
        checks=1,  # unsure on 4
        repeats_logged=1,
        repeats_confirmed=1,
        no_goal=2,  # 5, 7
        depths={Depth.STUMBLE: 2, Depth.SETBACK: 1, Depth.FALL: 1},
        top_tags=(("deploys", 2), ("data", 1), ("onboarding", 1)),
        trend=trend(w44=(0, 1), w45=(1, 0), w47=(0, 1)),  # only 4's repeat falls in the week
        repeats=(REPEAT,),
        wins=(),
        waiting_lesson=2,  # 6 (its lesson came after the week), 7
        checks_coming=1,
        unanswered=1,
    ),
    # Los Angeles week 47: Mon 16 Nov 08:00 UTC to Mon 23 Nov 08:00 UTC.
    "America/Los_Angeles": DigestFigures(
        history=10,
        logged=4,  # 7, 8, 9, 10
        lessons=3,
        checks=2,
        repeats_logged=1,
        repeats_confirmed=1,
        no_goal=1,
        depths={Depth.STUMBLE: 3, Depth.SETBACK: 1, Depth.FALL: 0},
        top_tags=(("deploys", 2), ("data", 1)),
        trend=trend(w44=(0, 1), w45=(1, 0), w47=(1, 2)),
        repeats=(REPEAT,),
        wins=(Win(5, "docs rot when nobody owns them"),),
        waiting_lesson=3,  # 7, 9, 10
        checks_coming=1,
        unanswered=1,
    ),
}


@pytest.mark.parametrize("timezone", EXPECTED)
async def test_figures_match_the_hand_computed_history(database: Database, timezone: str) -> None:
    team = await add_team(database, "platform", timezone)
    await build_history(database, team)
    async with database.unit_of_work() as uow:
        figures = await uow.digest(team.id).figures(DigestWindow.for_week(W47, timezone, NOW, CHECK_AFTER))
    assert figures == EXPECTED[timezone]


def test_learning_rate_and_baseline() -> None:
    figures = EXPECTED["UTC"]
    assert figures.this_week.rate == pytest.approx(1 / 3)
    assert figures.baseline.rate == 0.5
    assert figures.first_time == 3
    assert not figures.quiet


async def test_figures_are_scoped_to_the_team(database: Database) -> None:
    team = await add_team(database, "platform", "UTC")
    other = await add_team(database, "elsewhere", "UTC")
    await build_history(database, team)
    async with database.unit_of_work() as uow:
        figures = await uow.digest(other.id).figures(DigestWindow.for_week(W47, "UTC", NOW, CHECK_AFTER))
    assert figures.history == 0
    assert figures.trend == trend()


async def test_a_week_still_running_counts_what_waits_as_of_now(database: Database) -> None:
    team = await add_team(database, "platform", "UTC")
    await build_history(database, team)
    mid_week = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)  # Thursday of week 47
    async with database.unit_of_work() as uow:
        figures = await uow.digest(team.id).figures(DigestWindow.for_week(W47, "UTC", mid_week, CHECK_AFTER))
    # By Thursday noon 6 and 7 had no lesson yet (9 was not logged); 2's check falls due in a week.
    assert (figures.waiting_lesson, figures.checks_coming, figures.unanswered) == (2, 1, 1)
