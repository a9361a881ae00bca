"""A team's week: Monday 00:00 to the next Monday 00:00 in the team's timezone, named like ISO weeks.

Every digest figure is counted over such weeks. The bounds are computed here, in Python with
`zoneinfo`, and handed to SQL as plain UTC instants, so the database never needs to know about
timezones and a week stays a local week across daylight-saving changes (it may be 167 or 169 hours).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_LABEL = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)


@dataclass(frozen=True, slots=True, order=True)
class Week:
    """An ISO week (``2026-W47``), placed in a timezone only when its bounds are asked for."""

    year: int
    number: int

    def __post_init__(self) -> None:
        date.fromisocalendar(self.year, self.number, 1)  # raises ValueError for a week that doesn't exist

    @classmethod
    def containing(cls, at: datetime, timezone: str) -> Week:
        """The team's week that the instant `at` falls in."""
        year, number, _ = at.astimezone(ZoneInfo(timezone)).isocalendar()
        return cls(year, number)

    @classmethod
    def parse(cls, text: str) -> Week:
        """``2026-W47`` (or ``2026W47``, ``2026-w7``); `ValueError` for anything else."""
        match = _LABEL.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not a week like 2026-W47")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    def shift(self, weeks: int) -> Week:
        year, number, _ = (self.monday + timedelta(weeks=weeks)).isocalendar()
        return Week(year, number)

    def start(self, timezone: str) -> datetime:
        """The first instant of the week (local Monday midnight), in UTC.

        Where a daylight-saving jump skips midnight, zoneinfo reads the missing time with the
        earlier offset, which lands on the first instant that does exist that day.
        """
        local = datetime.combine(self.monday, time(0), tzinfo=ZoneInfo(timezone))
        return local.astimezone(UTC)

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """[start, end) of the week in UTC."""
        return self.start(timezone), self.shift(1).start(timezone)

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"


def weeks_ending(week: Week, count: int) -> tuple[Week, ...]:
    """`count` consecutive weeks, oldest first, the last one being `week`."""
    return tuple(week.shift(offset) for offset in range(1 - count, 1))
