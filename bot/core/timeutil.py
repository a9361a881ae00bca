"""Small, pure helpers for times of day and timezones."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def minute_to_time(minute: int) -> time:
    return time(minute // 60, minute % 60)


def time_to_minute(value: time) -> int:
    return value.hour * 60 + value.minute


def valid_timezone(name: str) -> bool:
    """True for an IANA timezone name that this machine's tz database knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def suggest_timezones(name: str, limit: int = 3) -> list[str]:
    """Close IANA names for a mistyped one (``berlin`` -> ``Europe/Berlin``)."""
    wanted = name.strip().lower().replace(" ", "_")
    names = sorted(available_timezones())
    exact_city = [n for n in names if n.lower().rsplit("/", 1)[-1] == wanted]
    partial = [n for n in names if wanted and wanted in n.lower() and n not in exact_city]
    return (exact_city + partial)[:limit]
