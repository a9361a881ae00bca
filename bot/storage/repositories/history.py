"""A team's whole history: read in pages for exports, written back in bulk for imports.

Reading goes page by page (keyset on the team's misstep numbers) so a long export can report
progress and never holds one huge result set. Writing uses Core bulk inserts, a few thousand rows
per statement, inside the caller's transaction: an import lands whole or not at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.model import Check, Lesson, Misstep, Recurrence, Team
from bot.storage.repositories.members import MemberRepository
from bot.storage.repositories.missteps import (
    check_record,
    lessons_by_misstep,
    misstep_record,
    recurrence_record,
    tags_by_misstep,
)
from bot.storage.repositories.teams import TeamRepository
from bot.storage.tables import (
    CheckRow,
    LessonRow,
    MisstepRow,
    MisstepTagRow,
    RecurrenceRow,
    TeamRow,
)

if TYPE_CHECKING:
    from bot.core.export import TeamHistory

PAGE_SIZE = 1_000
INSERT_BATCH = 2_000

Progress = Callable[[int, int], None]
"""Called with (done, total) as work advances."""


def no_progress(done: int, total: int) -> None:
    """The default progress report: none."""


class TeamExists(Exception):
    """An import would overwrite a team that is already in the database."""


@dataclass(frozen=True, slots=True)
class HistoryPage:
    missteps: tuple[Misstep, ...]
    lessons: dict[int, Lesson]
    checks: tuple[Check, ...]
    recurrences: tuple[Recurrence, ...]
    """Recurrences whose newer misstep is on this page."""


class HistoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def count(self, team_id: int) -> int:
        query = select(func.count()).select_from(MisstepRow).where(MisstepRow.team_id == team_id)
        return await self._session.scalar(query) or 0

    async def pages(self, team_id: int, size: int = PAGE_SIZE) -> AsyncIterator[HistoryPage]:
        """The team's missteps in number order, `size` at a time, with all that hangs off them."""
        after = 0
        while True:
            rows = list(
                await self._session.scalars(
                    select(MisstepRow)
                    .where(MisstepRow.team_id == team_id, MisstepRow.number > after)
                    .order_by(MisstepRow.number)
                    .limit(size)
                )
            )
            if not rows:
                return
            ids = [row.id for row in rows]
            tags = await tags_by_misstep(self._session, ids, team_id)
            yield HistoryPage(
                missteps=tuple(misstep_record(row, tags[row.id]) for row in rows),
                lessons=await lessons_by_misstep(self._session, ids, team_id),
                checks=tuple(
                    check_record(row)
                    for row in await self._session.scalars(
                        select(CheckRow)
                        .where(CheckRow.team_id == team_id, CheckRow.misstep_id.in_(ids))
                        .order_by(CheckRow.id)
                    )
                ),
                recurrences=tuple(
                    recurrence_record(row)
                    for row in await self._session.scalars(
                        select(RecurrenceRow)
                        .where(RecurrenceRow.team_id == team_id, RecurrenceRow.misstep_id.in_(ids))
                        .order_by(RecurrenceRow.id)
                    )
                ),
            )
            after = rows[-1].number

    async def restore(self, history: TeamHistory, progress: Progress = no_progress) -> Team:
        """Write an exported team's history into this database, as a new team.

        `history` comes from `bot.core.export.from_json`: its ids are its own (missteps by number,
        people by position) and are mapped to fresh database ids here. Raises `TeamExists` when
        the team's platform, workspace and channel are already taken.
        """
        source = history.team
        teams = TeamRepository(self._session)
        if await teams.find(source.ref) is not None:
            raise TeamExists(f"{source.ref.platform}:{source.ref.workspace}/{source.ref.channel}")
        team = await teams.add(source.ref, source.name, source.timezone, source.created_at)
        await self._session.execute(
            update(TeamRow)
            .where(TeamRow.id == team.id)
            .values(
                announce_missteps=source.announce_missteps,
                misstep_seq=max((m.number for m in history.missteps), default=0),
            )
        )
        members = MemberRepository(self._session)
        people = {
            key: (
                await members.upsert(
                    source.ref.platform,
                    source.ref.workspace,
                    person.user_id,
                    person.display_name,
                    None,
                    source.created_at,
                )
            ).id
            for key, person in history.people.items()
        }

        def person(key: int | None) -> int | None:
            return None if key is None else people[key]

        tags = [(m.id, tag) for m in history.missteps for tag in m.tags]
        total = len(history.missteps) + len(tags) + len(history.lessons) + len(history.checks)
        total += len(history.recurrences)
        done = 0

        async def write(table: Any, rows: Sequence[dict[str, Any]]) -> None:
            nonlocal done
            for first in range(0, len(rows), INSERT_BATCH):
                batch = rows[first : first + INSERT_BATCH]
                await self._session.execute(insert(table), batch)
                done += len(batch)
                progress(done, total)

        await write(
            MisstepRow,
            [
                {
                    "team_id": team.id,
                    "number": m.number,
                    "what": m.what,
                    "goal": m.goal,
                    "depth": m.depth.value,
                    "anonymous": m.anonymous,
                    "author_id": None if m.anonymous else person(m.author_id),
                    "created_at": m.created_at,
                    "prompt_state": m.prompt_state.value,
                    "prompt_closed_at": m.prompt_closed_at,
                    "check_window_closed_at": m.check_window_closed_at,
                    "outcome": m.outcome.value,
                    "outcome_at": m.outcome_at,
                }
                for m in history.missteps
            ],
        )
        ids = dict(
            (
                await self._session.execute(
                    select(MisstepRow.number, MisstepRow.id).where(MisstepRow.team_id == team.id)
                )
            ).all()
        )
        misstep_ids = {m.id: ids[m.number] for m in history.missteps}
        await write(
            MisstepTagRow,
            [{"misstep_id": misstep_ids[key], "tag": tag, "team_id": team.id} for key, tag in tags],
        )
        await write(
            LessonRow,
            [
                {
                    "team_id": team.id,
                    "misstep_id": misstep_ids[lesson.misstep_id],
                    "text": lesson.text,
                    "commitment": lesson.commitment,
                    "owner_id": person(lesson.owner_id),
                    "created_at": lesson.created_at,
                    "updated_at": lesson.updated_at,
                    "renewed_at": lesson.renewed_at,
                }
                for lesson in history.lessons.values()
            ],
        )
        await write(
            CheckRow,
            [
                {
                    "team_id": team.id,
                    "misstep_id": misstep_ids[check.misstep_id],
                    "answer": check.answer.value,
                    "answered_by": person(check.answered_by),
                    "answered_at": check.answered_at,
                }
                for check in history.checks
            ],
        )
        await write(
            RecurrenceRow,
            [
                {
                    "team_id": team.id,
                    "misstep_id": misstep_ids[r.misstep_id],
                    "earlier_id": misstep_ids[r.earlier_id],
                    "status": r.status.value,
                    "score": r.score,
                    "created_at": r.created_at,
                    "decided_at": r.decided_at,
                    "decided_by": person(r.decided_by),
                }
                for r in history.recurrences
            ],
        )
        return team
