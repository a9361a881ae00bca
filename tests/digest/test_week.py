"""Local weeks across daylight-saving changes and the year's end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.digest.week import Week, weeks_ending


def test_a_week_with_a_fall_back_change_lasts_169_hours() -> None:
    start, end = Week(2026, 44).bounds("America/Los_Angeles")  # clocks go back on Sunday 1 Nov
    assert start == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=169)


def test_a_week_with_a_spring_forward_change_lasts_167_hours() -> None:
    start, end = Week(2026, 40).bounds("Australia/Sydney")  # clocks go forward on Sunday 4 Oct
    assert start == datetime(2026, 9, 27, 14, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=167)


def test_the_same_instant_is_in_different_weeks_in_different_places() -> None:
    sunday_evening_utc = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    assert Week.containing(sunday_evening_utc, "UTC") == Week(2026, 47)
    assert Week.containing(sunday_evening_utc, "Pacific/Auckland") == Week(2026, 48)


def test_weeks_cross_the_year_and_parse() -> None:
    assert weeks_ending(Week(2027, 2), 3) == (Week(2026, 53), Week(2027, 1), Week(2027, 2))
    assert Week.parse("2026-w7") == Week.parse("2026W07") == Week(2026, 7)
    assert str(Week(2026, 7)) == "2026-W07"
    for text in ("2026-W54", "W47", "2026-47", ""):
        with pytest.raises(ValueError, match=r"(?i)week"):
            Week.parse(text)
