"""Missteps and everything hanging off them (tags, lessons, checks, recurrences), scoped to one team."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.commands.base import MAX_NUMBER
from bot.core.model import (
    Check,
    CheckAnswer,
    Depth,
    Lesson,
    LessonPromptState,
    Misstep,
    MisstepStory,
    Outcome,
    Recurrence,
    RecurrenceStatus,
)
from bot.core.outcome import Decision, OutcomeFacts, lesson_renews
from bot.storage.tables import (
    CheckRow,
    LessonRow,
    MemberRow,
    MisstepRow,
    MisstepTagRow,
    RecurrenceRow,
)


def misstep_record(row: MisstepRow, tags: Sequence[str]) -> Misstep:
    return Misstep(
        id=row.id,
        team_id=row.team_id,
        number=row.number,
        what=row.what,
        goal=row.goal,
        depth=Depth(row.depth),
        tags=tuple(sorted(tags)),
        anonymous=row.anonymous,
        author_id=row.author_id,
        created_at=row.created_at,
        prompt_state=LessonPromptState(row.prompt_state),
        outcome=Outcome(row.outcome),
        outcome_at=row.outcome_at,
        prompt_closed_at=row.prompt_closed_at,
        check_window_closed_at=row.check_window_closed_at,
    )


def lesson_record(row: LessonRow, owner_name: str) -> Lesson:
    return Lesson(
        id=row.id,
        team_id=row.team_id,
        misstep_id=row.misstep_id,
        text=row.text,
        commitment=row.commitment,
        owner_id=row.owner_id,
        owner_name=owner_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        renewed_at=row.renewed_at,
    )


async def tags_by_misstep(
    session: AsyncSession, misstep_ids: Sequence[int], team_id: int | None = None
) -> dict[int, list[str]]:
    """The tags of these missteps, by misstep id (an id without tags maps to an empty list).
    `team_id` scopes the read; a caller that checks tenancy itself may leave it out."""
    found: dict[int, list[str]] = defaultdict(list)
    if not misstep_ids:
        return found
    query = select(MisstepTagRow.misstep_id, MisstepTagRow.tag).where(
        MisstepTagRow.misstep_id.in_(misstep_ids)
    )
    if team_id is not None:
        query = query.where(MisstepTagRow.team_id == team_id)
    for misstep_id, tag in await session.execute(query):
        found[misstep_id].append(tag)
    return found


async def lessons_by_misstep(
    session: AsyncSession, misstep_ids: Sequence[int], team_id: int | None = None
) -> dict[int, Lesson]:
    """The lessons of these missteps, with their owners' names, by misstep id; `team_id` as in
    `tags_by_misstep`."""
    if not misstep_ids:
        return {}
    query = (
        select(LessonRow, MemberRow.display_name)
        .join(MemberRow, MemberRow.id == LessonRow.owner_id)
        .where(LessonRow.misstep_id.in_(misstep_ids))
    )
    if team_id is not None:
        query = query.where(LessonRow.team_id == team_id)
    return {row.misstep_id: lesson_record(row, name) for row, name in await session.execute(query)}


def check_record(row: CheckRow) -> Check:
    return Check(
        id=row.id,
        team_id=row.team_id,
        misstep_id=row.misstep_id,
        answer=CheckAnswer(row.answer),
        answered_by=row.answered_by,
        answered_at=row.answered_at,
    )


def recurrence_record(row: RecurrenceRow) -> Recurrence:
    return Recurrence(
        id=row.id,
        team_id=row.team_id,
        misstep_id=row.misstep_id,
        earlier_id=row.earlier_id,
        status=RecurrenceStatus(row.status),
        score=row.score,
        created_at=row.created_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
    )


class TeamMissteps:
    """Every read and write of one team's missteps, lessons, checks and recurrences."""

    def __init__(self, session: AsyncSession, team_id: int) -> None:
        self._session = session
        self.team_id = team_id

    # -- missteps -------------------------------------------------------------------------

    async def add(
        self,
        *,
        number: int,
        what: str,
        goal: str | None,
        depth: Depth,
        tags: Sequence[str],
        anonymous: bool,
        author_id: int,
        now: datetime,
    ) -> Misstep:
        row = MisstepRow(
            team_id=self.team_id,
            number=number,
            what=what,
            goal=goal,
            depth=depth.value,
            anonymous=anonymous,
            author_id=author_id,
            created_at=now,
            prompt_state=LessonPromptState.WAITING.value,
            outcome=Outcome.OPEN.value,
        )
        self._session.add(row)
        await self._session.flush()
        self._session.add_all(
            MisstepTagRow(misstep_id=row.id, tag=tag, team_id=self.team_id) for tag in set(tags)
        )
        await self._session.flush()
        return misstep_record(row, tags)

    async def by_number(self, number: int) -> Misstep | None:
        if number > MAX_NUMBER:
            return None  # a number the column can't hold (PostgreSQL would refuse to compare)
        return await self._one(self._select().where(MisstepRow.number == number))

    async def by_id(self, misstep_id: int) -> Misstep | None:
        return await self._one(self._select().where(MisstepRow.id == misstep_id))

    async def latest_without_lesson(self, author_id: int) -> Misstep | None:
        return await self._one(
            self._select()
            .where(MisstepRow.author_id == author_id, ~self._has_lesson())
            .order_by(MisstepRow.number.desc())
            .limit(1)
        )

    async def waiting_for_lesson(self, limit: int = 20, author_id: int | None = None) -> list[Misstep]:
        query = self._select().where(~self._has_lesson())
        if author_id is not None:
            query = query.where(MisstepRow.author_id == author_id)
        return await self._many(query.order_by(MisstepRow.number.desc()).limit(limit))

    async def waiting_for_check(self, limit: int = 20) -> list[Misstep]:
        """Missteps with a lesson whose outcome is not decided yet."""
        return await self._many(
            self._select()
            .where(self._has_lesson(), MisstepRow.outcome == Outcome.OPEN.value)
            .order_by(MisstepRow.number.desc())
            .limit(limit)
        )

    async def latest(self, limit: int) -> list[Misstep]:
        return await self._many(self._select().order_by(MisstepRow.number.desc()).limit(limit))

    async def all(self) -> list[Misstep]:
        return await self._many(self._select().order_by(MisstepRow.number))

    async def set_prompt_state(
        self, misstep_id: int, state: LessonPromptState, closed_at: datetime | None = None
    ) -> None:
        values: dict[str, object] = {"prompt_state": state.value}
        if state is LessonPromptState.CLOSED:
            values["prompt_closed_at"] = closed_at
        await self._update(misstep_id, **values)

    async def close_check_window(self, misstep_id: int, at: datetime) -> None:
        await self._update(misstep_id, check_window_closed_at=at)

    async def erase_author(self, misstep_id: int) -> None:
        """Forget an anonymous misstep's author once nothing needs to reach them any more."""
        await self._update(misstep_id, author_id=None)

    async def save_decision(self, misstep_id: int, decision: Decision) -> None:
        await self._update(misstep_id, outcome=decision.outcome.value, outcome_at=decision.at)

    async def outcome_facts(self, misstep_id: int) -> OutcomeFacts:
        """Everything the outcome rule reads, in three small queries."""
        row = await self._session.scalar(
            select(MisstepRow).where(MisstepRow.team_id == self.team_id, MisstepRow.id == misstep_id)
        )
        if row is None:
            raise LookupError(misstep_id)
        lesson_at = await self._session.scalar(
            select(LessonRow.renewed_at).where(
                LessonRow.team_id == self.team_id, LessonRow.misstep_id == misstep_id
            )
        )
        checks = (
            await self._session.execute(
                select(CheckRow.answered_at, CheckRow.answer).where(
                    CheckRow.team_id == self.team_id, CheckRow.misstep_id == misstep_id
                )
            )
        ).all()
        confirmed = await self._session.scalars(
            select(RecurrenceRow.decided_at).where(
                RecurrenceRow.team_id == self.team_id,
                RecurrenceRow.earlier_id == misstep_id,
                RecurrenceRow.status == RecurrenceStatus.CONFIRMED.value,
            )
        )
        return OutcomeFacts(
            lesson_at=lesson_at,
            prompt_closed_at=row.prompt_closed_at,
            checks=tuple((at, CheckAnswer(answer)) for at, answer in checks),
            confirmed_recurrences=tuple(at for at in confirmed if at is not None),
            check_window_closed_at=row.check_window_closed_at,
        )

    # -- lessons --------------------------------------------------------------------------

    async def lesson_for(self, misstep_id: int) -> Lesson | None:
        lessons = await self.lessons_for([misstep_id])
        return lessons.get(misstep_id)

    async def lessons_for(self, misstep_ids: Sequence[int]) -> dict[int, Lesson]:
        return await lessons_by_misstep(self._session, misstep_ids, self.team_id)

    async def save_lesson(
        self, misstep_id: int, text: str, commitment: str | None, owner_id: int, now: datetime
    ) -> tuple[Lesson, bool, bool]:
        """Record the lesson of a misstep, renew it or edit it, as `lesson_renews` decides from the
        facts before it. Either way its words are the new ones and whoever saved it owns it; only
        a renewal restarts its clock (`renewed_at`). Returns the lesson, whether it was new, and
        whether it renewed."""
        renews = lesson_renews(await self.outcome_facts(misstep_id))
        row = await self._session.scalar(
            select(LessonRow).where(LessonRow.team_id == self.team_id, LessonRow.misstep_id == misstep_id)
        )
        created = row is None
        if row is None:
            row = LessonRow(team_id=self.team_id, misstep_id=misstep_id, created_at=now)
            self._session.add(row)
        if renews:
            row.renewed_at = now
        row.text, row.commitment, row.owner_id, row.updated_at = text, commitment, owner_id, now
        await self._session.flush()
        owner = await self._session.scalar(select(MemberRow.display_name).where(MemberRow.id == owner_id))
        return lesson_record(row, owner or ""), created, renews

    async def with_lessons(self) -> list[tuple[Misstep, Lesson]]:
        """Every misstep of the team that has a lesson, oldest first: the recurrence candidates."""
        return await self._with_lessons(MisstepRow.number)

    async def recent_lessons(self, limit: int) -> list[tuple[Misstep, Lesson]]:
        return await self._with_lessons(LessonRow.updated_at.desc(), MisstepRow.number.desc(), limit=limit)

    async def _with_lessons(self, *order: Any, limit: int | None = None) -> list[tuple[Misstep, Lesson]]:
        # One join for the pairs and one for their tags, however long the history is.
        query = (
            select(MisstepRow, LessonRow, MemberRow.display_name)
            .join(LessonRow, LessonRow.misstep_id == MisstepRow.id)
            .join(MemberRow, MemberRow.id == LessonRow.owner_id)
            .where(MisstepRow.team_id == self.team_id)
            .order_by(*order)
            .limit(limit)
        )
        rows = (await self._session.execute(query)).all()
        tags = (
            await self._tags([m.id for m, _, _ in rows])
            if limit is not None
            else await self._tags_of_lessons()
        )
        return [(misstep_record(m, tags[m.id]), lesson_record(lesson, name)) for m, lesson, name in rows]

    async def _tags_of_lessons(self) -> dict[int, list[str]]:
        found: dict[int, list[str]] = defaultdict(list)
        rows = await self._session.execute(
            select(MisstepTagRow.misstep_id, MisstepTagRow.tag)
            .join(LessonRow, LessonRow.misstep_id == MisstepTagRow.misstep_id)
            .where(MisstepTagRow.team_id == self.team_id)
        )
        for misstep_id, tag in rows:
            found[misstep_id].append(tag)
        return found

    # -- checks ---------------------------------------------------------------------------

    async def add_check(
        self, misstep_id: int, answer: CheckAnswer, answered_by: int | None, now: datetime
    ) -> Check:
        row = CheckRow(
            team_id=self.team_id,
            misstep_id=misstep_id,
            answer=answer.value,
            answered_by=answered_by,
            answered_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        return check_record(row)

    async def checks_for(self, misstep_id: int) -> list[Check]:
        rows = await self._session.scalars(
            select(CheckRow)
            .where(CheckRow.team_id == self.team_id, CheckRow.misstep_id == misstep_id)
            .order_by(CheckRow.answered_at, CheckRow.id)
        )
        return [check_record(row) for row in rows]

    # -- recurrences ----------------------------------------------------------------------

    async def suggest_recurrence(
        self, misstep_id: int, earlier_id: int, score: float, now: datetime
    ) -> Recurrence:
        row = RecurrenceRow(
            team_id=self.team_id,
            misstep_id=misstep_id,
            earlier_id=earlier_id,
            status=RecurrenceStatus.SUGGESTED.value,
            score=score,
            created_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        return recurrence_record(row)

    async def recurrence(self, misstep_id: int, earlier_id: int) -> Recurrence | None:
        row = await self._session.scalar(
            select(RecurrenceRow).where(
                RecurrenceRow.team_id == self.team_id,
                RecurrenceRow.misstep_id == misstep_id,
                RecurrenceRow.earlier_id == earlier_id,
            )
        )
        return None if row is None else recurrence_record(row)

    async def decide_recurrence(
        self,
        misstep_id: int,
        earlier_id: int,
        status: RecurrenceStatus,
        decided_by: int,
        now: datetime,
    ) -> Recurrence:
        """Confirm or dismiss a link, creating it when a person names one the bot did not suggest."""
        row = await self._session.scalar(
            select(RecurrenceRow).where(
                RecurrenceRow.team_id == self.team_id,
                RecurrenceRow.misstep_id == misstep_id,
                RecurrenceRow.earlier_id == earlier_id,
            )
        )
        if row is None:
            row = RecurrenceRow(
                team_id=self.team_id,
                misstep_id=misstep_id,
                earlier_id=earlier_id,
                score=1.0,
                created_at=now,
            )
            self._session.add(row)
        row.status, row.decided_at, row.decided_by = status.value, now, decided_by
        await self._session.flush()
        return recurrence_record(row)

    async def recurrences_touching(self, misstep_id: int) -> list[Recurrence]:
        rows = await self._session.scalars(
            select(RecurrenceRow)
            .where(
                RecurrenceRow.team_id == self.team_id,
                (RecurrenceRow.misstep_id == misstep_id) | (RecurrenceRow.earlier_id == misstep_id),
            )
            .order_by(RecurrenceRow.created_at, RecurrenceRow.id)
        )
        return [recurrence_record(row) for row in rows]

    async def numbers(self, misstep_ids: Sequence[int]) -> dict[int, int]:
        if not misstep_ids:
            return {}
        rows = await self._session.execute(
            select(MisstepRow.id, MisstepRow.number).where(
                MisstepRow.team_id == self.team_id, MisstepRow.id.in_(misstep_ids)
            )
        )
        return dict(rows.all())

    async def story(self, number: int) -> MisstepStory | None:
        misstep = await self.by_number(number)
        if misstep is None:
            return None
        recurrences = await self.recurrences_touching(misstep.id)
        linked = {r.misstep_id for r in recurrences} | {r.earlier_id for r in recurrences}
        return MisstepStory(
            misstep=misstep,
            lesson=await self.lesson_for(misstep.id),
            checks=tuple(await self.checks_for(misstep.id)),
            recurrences=tuple(recurrences),
            numbers=await self.numbers(sorted(linked)),
        )

    async def delete_all(self) -> None:
        """Remove every misstep of the team (and, by cascade, what hangs off them)."""
        await self._session.execute(delete(MisstepRow).where(MisstepRow.team_id == self.team_id))

    # -- helpers --------------------------------------------------------------------------

    def _select(self) -> Select[tuple[MisstepRow]]:
        return select(MisstepRow).where(MisstepRow.team_id == self.team_id)

    def _has_lesson(self):  # type: ignore[no-untyped-def]
        return select(LessonRow.id).where(LessonRow.misstep_id == MisstepRow.id).exists()

    async def _one(self, query: Select[tuple[MisstepRow]]) -> Misstep | None:
        found = await self._many(query)
        return found[0] if found else None

    async def _many(self, query: Select[tuple[MisstepRow]]) -> list[Misstep]:
        rows = list(await self._session.scalars(query))
        tags = await self._tags([row.id for row in rows])
        return [misstep_record(row, tags[row.id]) for row in rows]

    async def _tags(self, misstep_ids: Sequence[int]) -> dict[int, list[str]]:
        return await tags_by_misstep(self._session, misstep_ids, self.team_id)

    async def _update(self, misstep_id: int, **values: object) -> None:
        await self._session.execute(
            update(MisstepRow)
            .where(MisstepRow.team_id == self.team_id, MisstepRow.id == misstep_id)
            .values(**values)
        )
