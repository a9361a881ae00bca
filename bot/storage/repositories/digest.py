"""The digest's figures for one team, by SQL aggregation.

Five statements per digest, whatever the size of the history: the week's counts (one SELECT of
aggregates and scalar subqueries), the outcomes of the trend weeks (one GROUP BY over a CASE that
buckets instants into weeks), the repeats, the wins and the top tags (each a short, limited list).
Week bounds arrive as UTC instants (see `bot.core.digest.week`), so the SQL is the same on SQLite
and PostgreSQL and rides the `(team_id, created_at)` and `(team_id, outcome_at)` indexes.

The statements are built once, with bound parameters: building them anew for every team cost
more than running them (see `bench/digest.py`).

Authors are never selected: nothing here could leak an anonymous one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, join

from bot.core.digest.figures import (
    LIST_SIZE,
    TREND_WEEKS,
    DigestFigures,
    DigestWindow,
    Repeat,
    WeekOutcomes,
    Win,
)
from bot.core.model import Depth, Misstep, Outcome, RecurrenceStatus
from bot.storage.repositories.missteps import misstep_record, tags_by_misstep
from bot.storage.tables import CheckRow, LessonRow, MemberRow, MisstepRow, MisstepTagRow, RecurrenceRow

TOP_TAGS = 3
CONFIRMED = RecurrenceStatus.CONFIRMED.value

TEAM = bindparam("team_id")
START = bindparam("start")
"""The digest week's first instant."""
END = bindparam("end")
"""The instant after the digest week."""
CUTOFF = bindparam("cutoff")
"""What is waiting is counted as of here: the week's end, or now for a week still running."""
DUE_BY = bindparam("due_by")
"""A lesson whose clock started (`renewed_at`) before this has its follow-up check due by the cutoff."""
DUE_NEXT = bindparam("due_next")
"""A lesson whose clock started before this (and not before `DUE_BY`) has its check due in the
coming week."""
WEEK_STARTS = tuple(bindparam(f"week_{i}") for i in range(TREND_WEEKS + 1))
"""The starts of the trend weeks, and the end of the last."""


def _count(entity: Any, *where: ColumnElement[bool]) -> Any:
    return select(func.count()).select_from(entity).where(*where).scalar_subquery()


def _counts() -> Any:
    confirmed_repeat = exists().where(
        RecurrenceRow.misstep_id == MisstepRow.id, RecurrenceRow.status == CONFIRMED
    )
    lesson_by_cutoff = exists().where(LessonRow.misstep_id == MisstepRow.id, LessonRow.created_at < CUTOFF)
    # A lesson's check is still owed when nothing has decided the misstep since the lesson's clock
    # started (as of the cutoff) and nobody has answered a check since then either. Its clock, not
    # its last edit: an edit keeps the check it had.
    owed = and_(
        LessonRow.team_id == TEAM,
        or_(
            MisstepRow.outcome_at.is_(None),
            MisstepRow.outcome_at < LessonRow.renewed_at,
            MisstepRow.outcome_at >= CUTOFF,
        ),
        ~exists().where(
            CheckRow.misstep_id == LessonRow.misstep_id,
            CheckRow.answered_at >= LessonRow.renewed_at,
            CheckRow.answered_at < CUTOFF,
        ),
    )
    lessons = join(LessonRow, MisstepRow, MisstepRow.id == LessonRow.misstep_id)
    week_missteps = (
        select(
            func.count().label("logged"),
            func.sum(case((MisstepRow.goal.is_(None), 1), else_=0)).label("no_goal"),
            func.sum(case((confirmed_repeat, 1), else_=0)).label("repeats_logged"),
            *(
                func.sum(case((MisstepRow.depth == depth.value, 1), else_=0)).label(depth.value)
                for depth in Depth
            ),
        )
        .where(MisstepRow.team_id == TEAM, MisstepRow.created_at >= START, MisstepRow.created_at < END)
        .subquery()
    )
    return select(
        week_missteps,
        _count(MisstepRow, MisstepRow.team_id == TEAM, MisstepRow.created_at < END).label("history"),
        _count(
            LessonRow, LessonRow.team_id == TEAM, LessonRow.created_at >= START, LessonRow.created_at < END
        ).label("lessons"),
        _count(
            CheckRow, CheckRow.team_id == TEAM, CheckRow.answered_at >= START, CheckRow.answered_at < END
        ).label("checks"),
        _count(
            RecurrenceRow,
            RecurrenceRow.team_id == TEAM,
            RecurrenceRow.status == CONFIRMED,
            RecurrenceRow.decided_at >= START,
            RecurrenceRow.decided_at < END,
        ).label("repeats_confirmed"),
        _count(
            MisstepRow, MisstepRow.team_id == TEAM, MisstepRow.created_at < CUTOFF, ~lesson_by_cutoff
        ).label("waiting_lesson"),
        _count(lessons, owed, LessonRow.renewed_at < DUE_BY).label("unanswered"),
        _count(lessons, owed, LessonRow.renewed_at >= DUE_BY, LessonRow.renewed_at < DUE_NEXT).label(
            "checks_coming"
        ),
    )


def _trend() -> Any:
    week_index = case(
        *((MisstepRow.outcome_at < start, index) for index, start in enumerate(WEEK_STARTS[1:-1])),
        else_=TREND_WEEKS - 1,
    ).label("week_index")
    return (
        select(week_index, MisstepRow.outcome, func.count())
        .where(
            MisstepRow.team_id == TEAM,
            MisstepRow.outcome.in_((Outcome.LEARNING.value, Outcome.FAILING.value)),
            MisstepRow.outcome_at >= WEEK_STARTS[0],
            MisstepRow.outcome_at < WEEK_STARTS[-1],
        )
        .group_by(week_index, MisstepRow.outcome)
    )


def _repeats() -> Any:
    new, earlier = aliased(MisstepRow), aliased(MisstepRow)
    return (
        select(
            new.number, new.what, earlier.number, LessonRow.text, LessonRow.commitment, MemberRow.display_name
        )
        .select_from(RecurrenceRow)
        .join(new, new.id == RecurrenceRow.misstep_id)
        .join(earlier, earlier.id == RecurrenceRow.earlier_id)
        .outerjoin(LessonRow, LessonRow.misstep_id == earlier.id)
        .outerjoin(MemberRow, MemberRow.id == LessonRow.owner_id)
        .where(
            RecurrenceRow.team_id == TEAM,
            RecurrenceRow.status == CONFIRMED,
            RecurrenceRow.decided_at >= START,
            RecurrenceRow.decided_at < END,
        )
        .order_by(RecurrenceRow.decided_at, new.number)
        .limit(LIST_SIZE)
    )


def _wins() -> Any:
    return (
        select(MisstepRow.number, LessonRow.text)
        .join(LessonRow, LessonRow.misstep_id == MisstepRow.id)
        .where(
            MisstepRow.team_id == TEAM,
            MisstepRow.outcome == Outcome.LEARNING.value,
            MisstepRow.outcome_at >= START,
            MisstepRow.outcome_at < END,
        )
        .order_by(MisstepRow.outcome_at, MisstepRow.number)
        .limit(LIST_SIZE)
    )


def _top_tags() -> Any:
    n = func.count().label("n")
    return (
        select(MisstepTagRow.tag, n)
        .join(MisstepRow, MisstepRow.id == MisstepTagRow.misstep_id)
        .where(MisstepTagRow.team_id == TEAM, MisstepRow.created_at >= START, MisstepRow.created_at < END)
        .group_by(MisstepTagRow.tag)
        .order_by(n.desc(), MisstepTagRow.tag)
        .limit(TOP_TAGS)
    )


COUNTS, TREND, REPEATS, WINS, TOP = _counts(), _trend(), _repeats(), _wins(), _top_tags()


class TeamDigest:
    """Read-only aggregation over one team's history."""

    def __init__(self, session: AsyncSession, team_id: int) -> None:
        self._session = session
        self.team_id = team_id

    async def figures(self, window: DigestWindow) -> DigestFigures:
        due_by = window.cutoff - window.check_after
        params = {
            "team_id": self.team_id,
            "start": window.start,
            "end": window.end,
            "cutoff": window.cutoff,
            "due_by": due_by,
            "due_next": due_by + timedelta(days=7),
            **{f"week_{i}": start for i, start in enumerate(window.starts)},
        }
        counts = (await self._session.execute(COUNTS, params)).one()
        top_tags = await self._session.execute(TOP, params)
        trend = {
            (index, Outcome(outcome)): n for index, outcome, n in await self._session.execute(TREND, params)
        }
        repeats = await self._session.execute(REPEATS, params)
        wins = await self._session.execute(WINS, params)
        return DigestFigures(
            history=counts.history,
            logged=counts.logged,
            lessons=counts.lessons,
            checks=counts.checks,
            repeats_logged=counts.repeats_logged or 0,
            repeats_confirmed=counts.repeats_confirmed,
            no_goal=counts.no_goal or 0,
            depths={depth: getattr(counts, depth.value) or 0 for depth in Depth},
            top_tags=tuple((tag, n) for tag, n in top_tags),
            trend=tuple(
                WeekOutcomes(
                    week, trend.get((index, Outcome.LEARNING), 0), trend.get((index, Outcome.FAILING), 0)
                )
                for index, week in enumerate(window.weeks)
            ),
            repeats=tuple(Repeat(*row) for row in repeats),
            wins=tuple(Win(*row) for row in wins),
            waiting_lesson=counts.waiting_lesson,
            checks_coming=counts.checks_coming,
            unanswered=counts.unanswered,
        )

    async def logged_between(self, start: datetime, end: datetime) -> list[Misstep]:
        """The missteps logged in [start, end), a retro round's entries, by number."""
        rows = list(
            await self._session.scalars(
                select(MisstepRow)
                .where(
                    MisstepRow.team_id == self.team_id,
                    MisstepRow.created_at >= start,
                    MisstepRow.created_at < end,
                )
                .order_by(MisstepRow.number)
            )
        )
        tags = await tags_by_misstep(self._session, [r.id for r in rows], self.team_id)
        return [misstep_record(row, tags[row.id]) for row in rows]

    async def links_from(self, misstep_ids: Sequence[int]) -> dict[int, list[tuple[int, RecurrenceStatus]]]:
        """For each misstep, the earlier missteps it was linked to (suggested, confirmed or dismissed)."""
        links: dict[int, list[tuple[int, RecurrenceStatus]]] = defaultdict(list)
        if misstep_ids:
            rows = await self._session.execute(
                select(RecurrenceRow.misstep_id, RecurrenceRow.earlier_id, RecurrenceRow.status)
                .where(RecurrenceRow.team_id == self.team_id, RecurrenceRow.misstep_id.in_(misstep_ids))
                .order_by(RecurrenceRow.status != CONFIRMED, RecurrenceRow.id)
            )
            for misstep_id, earlier_id, status in rows:
                links[misstep_id].append((earlier_id, RecurrenceStatus(status)))
        return links
