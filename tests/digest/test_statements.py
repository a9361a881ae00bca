"""The digest costs the same few SQL statements however long the team's history is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from bot.core.digest.weekly import weekly_digest
from bot.core.model import Depth, Team
from bot.scheduling.policy import SchedulePolicy
from bot.storage.database import Database
from tests.digest.history import TEAM_CREATED, add_team, build_history

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
STATEMENTS_PER_DIGEST = 5


@contextmanager
def counting(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


async def digest_statements(database: Database, team: Team) -> list[str]:
    async with database.unit_of_work() as uow:
        with counting(database) as statements:
            await weekly_digest(uow, team, NOW, check_after=SchedulePolicy().check_after)
    return [s for s in statements if not s.startswith(("BEGIN", "PRAGMA"))]


async def add_older_history(database: Database, team: Team, count: int) -> None:
    async with database.unit_of_work() as uow:
        missteps = uow.missteps(team.id)
        author = await uow.members.upsert("fake", "W1", "ana", "Ana", None, TEAM_CREATED)
        for i in range(count):
            when = TEAM_CREATED - timedelta(hours=7 * i)
            misstep = await missteps.add(
                number=await uow.teams.next_misstep_number(team.id),
                what=f"an older misstep {i}",
                goal=None,
                depth=Depth.STUMBLE,
                tags=("old",),
                anonymous=False,
                author_id=author.id,
                now=when,
            )
            await missteps.save_lesson(misstep.id, "an older lesson", None, author.id, when)
        await uow.commit()


async def test_statement_count_does_not_grow_with_history(database: Database) -> None:
    team = await add_team(database, "platform", "Europe/Berlin")
    await build_history(database, team)
    before = await digest_statements(database, team)
    await add_older_history(database, team, 300)
    after = await digest_statements(database, team)
    assert len(before) == len(after) == STATEMENTS_PER_DIGEST


async def test_a_new_team_costs_the_same(database: Database) -> None:
    team = await add_team(database, "platform", "UTC")
    assert len(await digest_statements(database, team)) == STATEMENTS_PER_DIGEST
