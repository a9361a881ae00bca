"""A small, hand-checkable team history for the digest tests.

Ten missteps over five weeks, written straight through the repositories with explicit UTC times,
so the same instants fall into different local weeks in different timezones. The scheduler's
part (closing a prompt, closing a check window) is done the way the scheduler does it: set the
fact, then let the one outcome rule decide.

    #   logged (UTC)       depth    goal  tags         what happens
    1   Tue 20 Oct 10:00   stumble  yes   deploys      lesson 21 Oct; check stuck 4 Nov -> learning
    2   Thu 22 Oct 10:00   setback  yes   onboarding   prompt closed 27 Oct -> failing; lesson 12 Nov
    3   Wed 28 Oct 10:00   stumble  yes   meetings     lesson 29 Oct; never answered
    4   Mon  2 Nov 10:00   stumble  yes   deploys      lesson 3 Nov (Ben); unsure 17 Nov; #8 repeats it
    5   Sun 15 Nov 12:00   stumble  no    onboarding   lesson 16 Nov 09:00; stuck 22 Nov 21:00
    6   Mon 16 Nov 06:00   fall     yes   data         lesson 22 Nov 22:00
    7   Wed 18 Nov 10:00   setback  no    deploys      prompt closed 22 Nov 23:00 -> failing
    8   Wed 18 Nov 12:00   stumble  yes   deploys      anonymous (Zed); confirmed repeat of #4 18 Nov 13:00;
                                                       lesson 19 Nov
    9   Sun 22 Nov 20:00   stumble  yes   data         suggested (unconfirmed) repeat of #1
    10  Mon 23 Nov 05:00   stumble  yes   -
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.lifecycle import refresh_outcome
from bot.core.model import CheckAnswer, Depth, LessonPromptState, Misstep, RecurrenceStatus, Team, TeamRef
from bot.storage.database import Database

TEAM_CREATED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Step:
    what: str
    created: datetime
    depth: Depth
    goal: str | None
    tags: tuple[str, ...]
    author: str = "ana"
    anonymous: bool = False


STEPS = (
    Step(
        "the deploy skipped the migrations", at(10, 20), Depth.STUMBLE, "ship the billing fix", ("deploys",)
    ),
    Step(
        "the new hire had no laptop on day one",
        at(10, 22),
        Depth.SETBACK,
        "onboard Cy",
        ("onboarding",),
        "ben",
    ),
    Step("the planning meeting ran out of time", at(10, 28), Depth.STUMBLE, "plan the sprint", ("meetings",)),
    Step(
        "staging ran on last month's schema", at(11, 2), Depth.STUMBLE, "demo the import", ("deploys",), "ben"
    ),
    Step("the welcome doc pointed at the old wiki", at(11, 15, 12), Depth.STUMBLE, None, ("onboarding",)),
    Step(
        "the nightly import dropped half the rows",
        at(11, 16, 6),
        Depth.FALL,
        "refresh the reports",
        ("data",),
    ),
    Step("a hotfix went out without review", at(11, 18), Depth.SETBACK, None, ("deploys",), "ben"),
    Step(
        "the deploy ran before the migrations again",
        at(11, 18, 12),
        Depth.STUMBLE,
        "ship the search fix",
        ("deploys",),
        "zed",
        anonymous=True,
    ),
    Step(
        "the CSV export had the wrong encoding", at(11, 22, 20), Depth.STUMBLE, "send the report", ("data",)
    ),
    Step("the retro started without the notes", at(11, 23, 5), Depth.STUMBLE, "run the retro", ()),
)


async def add_team(database: Database, channel: str, timezone: str, name: str | None = None) -> Team:
    async with database.unit_of_work() as uow:
        team = await uow.teams.add(TeamRef("fake", "W1", channel), name or channel, timezone, TEAM_CREATED)
        await uow.commit()
    return team


async def build_history(database: Database, team: Team) -> None:
    """Write the history in the table above for `team`."""
    async with database.unit_of_work() as uow:
        people = {
            name: await uow.members.upsert("fake", "W1", name, name.capitalize(), None, TEAM_CREATED)
            for name in ("ana", "ben", "zed")
        }
        missteps = uow.missteps(team.id)
        steps = []
        for step in STEPS:
            number = await uow.teams.next_misstep_number(team.id)
            steps.append(
                await missteps.add(
                    number=number,
                    what=step.what,
                    goal=step.goal,
                    depth=step.depth,
                    tags=step.tags,
                    anonymous=step.anonymous,
                    author_id=people[step.author].id,
                    now=step.created,
                )
            )
        one, two, three, four, five, six, seven, eight, nine, _ = steps
        ana, ben = people["ana"].id, people["ben"].id

        async def lesson(misstep: Misstep, text: str, commitment: str, owner: int, when: datetime) -> None:
            await missteps.save_lesson(misstep.id, text, commitment, owner, when)
            await refresh_outcome(missteps, await missteps.by_id(misstep.id))

        async def check(misstep: Misstep, answer: CheckAnswer, when: datetime) -> None:
            await missteps.add_check(misstep.id, answer, ana, when)
            await refresh_outcome(missteps, await missteps.by_id(misstep.id))

        async def close_prompt(misstep: Misstep, when: datetime) -> None:
            await missteps.set_prompt_state(misstep.id, LessonPromptState.CLOSED, when)
            await refresh_outcome(missteps, await missteps.by_id(misstep.id))

        await lesson(one, "migrations are not automatic", "run them in the pipeline", ana, at(10, 21))
        await check(one, CheckAnswer.STUCK, at(11, 4))
        await close_prompt(two, at(10, 27))
        await lesson(two, "laptops take a week to order", "order the laptop with the offer", ben, at(11, 12))
        await lesson(three, "an agenda keeps us on time", "send the agenda the day before", ana, at(10, 29))
        await lesson(
            four, "staging must mirror production", "check the migration list before a demo", ben, at(11, 3)
        )
        await check(four, CheckAnswer.UNSURE, at(11, 17))
        await lesson(five, "docs rot when nobody owns them", "give every doc an owner", ana, at(11, 16, 9))
        await check(five, CheckAnswer.STUCK, at(11, 22, 21))
        await lesson(six, "imports need a dry run", "run every import on a copy first", ana, at(11, 22, 22))
        await close_prompt(seven, at(11, 22, 23))
        await missteps.suggest_recurrence(eight.id, four.id, 0.8, at(11, 18, 12))
        await missteps.decide_recurrence(eight.id, four.id, RecurrenceStatus.CONFIRMED, ben, at(11, 18, 13))
        await refresh_outcome(missteps, await missteps.by_id(four.id))
        await lesson(eight, "a checklist beats memory", "use the deploy checklist", ben, at(11, 19))
        await missteps.suggest_recurrence(nine.id, one.id, 0.4, at(11, 22, 20))
        await uow.commit()
