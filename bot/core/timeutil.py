"""Small, pure helpers for times of day and timezones."""

from __future__ import annotations

import math
from datetime import time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.model import WeeklyTime, WorkingHours


def minute_to_time(minute: int) -> time:
    return time(minute // 60, minute % 60)


def time_to_minute(value: time) -> int:
    return value.hour * 60 + value.minute


def valid_timezone(name: str) -> bool:
    """True for an IANA timezone name that this machine's tz database knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a region folder ("Europe") or an over-long name reaches the file system.
        return False
    return True


def suggest_timezones(name: str, limit: int = 3) -> list[str]:
    """Close IANA names for a mistyped one (``berlin`` -> ``Europe/Berlin``)."""
    wanted = name.strip().lower().replace(" ", "_")
    # The cached names: Discord asks on every keystroke, and a fresh scan of the tz database
    # takes about 10 ms on the event loop.
    names = sorted(_timezones_by_lower_name().values())
    exact_city = [n for n in names if n.lower().rsplit("/", 1)[-1] == wanted]
    partial = [n for n in names if wanted and wanted in n.lower() and n not in exact_city]
    return (exact_city + partial)[:limit]


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Short day names, Monday first (datetime's `weekday()` numbering)."""
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def parse_weekday(word: str) -> int:
    """``fri``, ``Friday`` or ``Thurs.`` -> the weekday number (Monday is 0)."""
    key = word.strip().lower().rstrip(".")
    for number, name in enumerate(DAY_NAMES):
        if len(key) >= 3 and name.lower().startswith(key):
            return number
    raise ValueError(f"expected a day like mon, tue ... sun, not {word[:20]!r}")


def parse_weekdays(text: str) -> frozenset[int]:
    """``mon-fri`` or ``mon,tue,thu`` (ranges may wrap: ``sun-thu``) -> weekday numbers."""
    days: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        first, sep, last = part.partition("-")
        start = parse_weekday(first)
        end = parse_weekday(last) if sep else start
        days.update((start + i) % 7 for i in range((end - start) % 7 + 1))
    if not days:
        raise ValueError("expected working days like mon-fri")
    return frozenset(days)


def format_weekdays(days: frozenset[int]) -> str:
    return ",".join(WEEKDAYS[d] for d in sorted(days))


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``5m``, ``6h``, ``2d``, ``1w`` (a bare number is seconds)."""
    value = text.strip().lower()
    unit = value[-1:] if value[-1:] in _UNITS else "s"
    number = value[:-1] if value[-1:] in _UNITS else value
    try:
        amount = float(number)
    except ValueError:
        amount = math.nan
    if not math.isfinite(amount):
        raise ValueError(f"expected a duration like 30s, 5m, 6h or 2d, not {text[:20]!r}")
    if amount < 0:
        raise ValueError("expected a duration of zero or more")
    try:
        return timedelta(seconds=amount * _UNITS[unit])
    except OverflowError:
        raise ValueError(f"{text[:20]!r} is longer than any duration this bot can keep") from None


@lru_cache(maxsize=1)
def _timezones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def canonical_timezone(name: str) -> str | None:
    """The IANA name as the tz database spells it (``europe/berlin`` -> ``Europe/Berlin``), or None."""
    wanted = name.strip().replace(" ", "_")
    found = _timezones_by_lower_name().get(wanted.lower())
    if found is None and valid_timezone(wanted):
        return wanted
    return found


def parse_clock_time(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError("expected a time like 09:00")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError("expected a time like 09:00")
    return time(h, m)


def parse_hours(text: str) -> WorkingHours:
    start, sep, end = text.strip().partition("-")
    if not sep:
        raise ValueError("expected working hours like 09:00-17:00")
    hours = WorkingHours(parse_clock_time(start), parse_clock_time(end))
    if hours.start >= hours.end:
        raise ValueError("working hours must start before they end, like 09:00-17:00")
    return hours


def parse_weekly(text: str) -> WeeklyTime:
    """``fri 15:00`` -> Friday at 15:00."""
    day, _, at = text.strip().partition(" ")
    if not at.strip():
        raise ValueError("expected a day and a time like fri 15:00")
    return WeeklyTime(parse_weekday(day), parse_clock_time(at))
