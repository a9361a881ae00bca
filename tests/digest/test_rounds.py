"""The retro round's summary: grouped entries, lessons already learned, lessons still missing."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.digest.rounds import Entry, groups, render_round, round_summary
from bot.core.messages import render_plain
from bot.core.model import Depth, LessonPromptState, Misstep, Outcome
from bot.core.similarity import LexicalMatcher
from bot.storage.database import Database
from tests.digest.history import add_team, build_history
from tests.digest.test_snapshots import assert_snapshot

START = datetime(2026, 11, 13, 15, 0, tzinfo=UTC)  # Friday's round
END = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # the next one


async def test_round_summary(database: Database) -> None:
    team = await add_team(database, "platform", "UTC")
    await build_history(database, team)
    async with database.unit_of_work() as uow:
        message = await round_summary(uow, team, START, END, END, LexicalMatcher())
    text = render_plain(message)
    assert_snapshot("round.txt", text + "\n")
    assert "4 entries came in." in text  # 5, 6, 7, 8
    assert (
        "#8 (stumble) the deploy ran before the migrations again #deploys · we already learned this in #4"
        in text
    )
    assert [b.command for b in message.buttons] == ["learned #7"]
    assert "Zed" not in text


def misstep(number: int, what: str, tags: tuple[str, ...] = ()) -> Misstep:
    return Misstep(
        id=number,
        team_id=1,
        number=number,
        what=what,
        goal=None,
        depth=Depth.STUMBLE,
        tags=tags,
        anonymous=False,
        author_id=None,
        created_at=START,
        prompt_state=LessonPromptState.WAITING,
        outcome=Outcome.OPEN,
        outcome_at=None,
    )


def test_untagged_entries_that_look_alike_are_grouped() -> None:
    entries = [
        Entry(misstep(1, "the staging database ran out of disk space"), has_lesson=False),
        Entry(misstep(2, "the quarterly planning ran late", ("meetings",)), has_lesson=True),
        Entry(misstep(3, "staging database disk space filled up again"), has_lesson=False),
        Entry(misstep(4, "forgot to book the room"), has_lesson=False),
    ]
    grouped = [
        (heading, [e.misstep.number for e in group]) for heading, group in groups(entries, LexicalMatcher())
    ]
    assert grouped == [("#meetings", [2]), ("Alike", [1, 3]), ("Other", [4])]


def test_an_empty_round_is_kind() -> None:
    text = render_plain(render_round([], []))
    assert "No entries this round" in text
