"""The digest's figures: plain frozen records that the digest repository fills by SQL aggregation
and the renderer turns into words and a chart. Nothing here names a misstep's author."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.digest.week import Week, weeks_ending
from bot.core.model import Depth

TREND_WEEKS = 8
"""Weeks in the trend chart, the digest's own week last."""
BASELINE_WEEKS = 4
"""The learning rate is compared with the weeks just before, pooled."""
LIST_SIZE = 5
"""Repeats and wins listed by name; the rest are counted."""


@dataclass(frozen=True, slots=True)
class DigestWindow:
    """What a digest counts over, as UTC instants the database can compare with."""

    weeks: tuple[Week, ...]
    """`TREND_WEEKS` weeks, oldest first; the last is the digest's week."""
    starts: tuple[datetime, ...]
    """The start of each week and, last, the end of the digest's week (one more than `weeks`)."""
    cutoff: datetime
    """"Now" for what is waiting: the end of the week, or the present for a week still running."""
    check_after: timedelta
    """How long after a lesson its follow-up check is due."""

    @classmethod
    def for_week(cls, week: Week, timezone: str, now: datetime, check_after: timedelta) -> DigestWindow:
        weeks = weeks_ending(week, TREND_WEEKS)
        starts = (*(w.start(timezone) for w in weeks), week.shift(1).start(timezone))
        return cls(weeks, starts, min(now, starts[-1]), check_after)

    @property
    def start(self) -> datetime:
        return self.starts[-2]

    @property
    def end(self) -> datetime:
        return self.starts[-1]

    @property
    def week(self) -> Week:
        return self.weeks[-1]


@dataclass(frozen=True, slots=True)
class WeekOutcomes:
    """Missteps whose outcome was decided in one week, by outcome."""

    week: Week
    learning: int = 0
    failing: int = 0

    @property
    def decided(self) -> int:
        return self.learning + self.failing

    @property
    def rate(self) -> float | None:
        """Learning rate: learning / (learning + failing); None when nothing was decided."""
        return self.learning / self.decided if self.decided else None


@dataclass(frozen=True, slots=True)
class Repeat:
    """A confirmed recurrence: the new misstep, and the earlier lesson that did not stick."""

    number: int
    what: str
    earlier_number: int
    lesson: str | None
    commitment: str | None
    owner_name: str | None
    """Who owns the commitment (named even when a misstep was anonymous; authors never appear)."""


@dataclass(frozen=True, slots=True)
class Win:
    """A lesson that stuck this week."""

    number: int
    lesson: str


@dataclass(frozen=True, slots=True)
class DigestFigures:
    """Every number and list in one team's weekly digest."""

    history: int
    """Missteps the team had logged before the week ended: 0 means a brand-new team."""
    logged: int
    lessons: int
    """Lessons captured (first recorded) this week."""
    checks: int
    """Follow-up checks answered this week."""
    repeats_logged: int
    """This week's missteps confirmed as repeats of an earlier one."""
    repeats_confirmed: int
    """Recurrences confirmed this week, whenever their misstep was logged."""
    no_goal: int
    depths: dict[Depth, int]
    top_tags: tuple[tuple[str, int], ...]
    trend: tuple[WeekOutcomes, ...]
    """`TREND_WEEKS` weeks of outcomes, oldest first; the last is this week."""
    repeats: tuple[Repeat, ...]
    wins: tuple[Win, ...]
    waiting_lesson: int
    """Missteps with no lesson yet."""
    checks_coming: int
    """Lessons whose follow-up check falls in the coming week."""
    unanswered: int
    """Lessons whose check is due and that have had no answer since."""

    @property
    def this_week(self) -> WeekOutcomes:
        return self.trend[-1]

    @property
    def first_time(self) -> int:
        return self.logged - self.repeats_logged

    @property
    def baseline(self) -> WeekOutcomes:
        """The `BASELINE_WEEKS` weeks before this one, pooled (a weighted average of their rates)."""
        before = self.trend[-1 - BASELINE_WEEKS : -1]
        return WeekOutcomes(before[0].week, sum(w.learning for w in before), sum(w.failing for w in before))

    @property
    def quiet(self) -> bool:
        """Nothing was logged, learned, checked or decided this week."""
        return not (self.logged or self.lessons or self.checks or self.this_week.decided)
