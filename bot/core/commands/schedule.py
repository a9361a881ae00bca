"""The schedule commands: the team's weekly posts and timezone, and each member's own timezone,
working hours and pauses."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import available_timezones

from bot.core.commands.base import CommandSpec, UsageError, clean_text
from bot.core.model import ItemKind, WeeklyTime, WorkingHours
from bot.core.text import short
from bot.core.timeutil import canonical_timezone, parse_hours, parse_weekly, suggest_timezones

POSTS = {"retro": ItemKind.RETRO_ROUND, "round": ItemKind.RETRO_ROUND, "digest": ItemKind.DIGEST}
"""The words for the team's weekly posts."""
POST_WORDS = {ItemKind.RETRO_ROUND: "retro", ItemKind.DIGEST: "digest"}
MAX_PAUSE = timedelta(days=365)
RESET_WORDS = {"reset", "default", "auto", "clear"}


@dataclass(frozen=True, slots=True)
class ShowSchedule:
    pass


@dataclass(frozen=True, slots=True)
class TeamTimezone:
    timezone: str


@dataclass(frozen=True, slots=True)
class TeamPostAt:
    kind: ItemKind
    when: WeeklyTime


@dataclass(frozen=True, slots=True)
class TeamPostSwitch:
    kind: ItemKind
    on: bool


@dataclass(frozen=True, slots=True)
class MyTimezone:
    """Set the caller's own timezone; None with `reset` goes back to the platform's or the team's;
    neither shows it."""

    timezone: str | None = None
    reset: bool = False


@dataclass(frozen=True, slots=True)
class MyHours:
    hours: WorkingHours | None = None
    reset: bool = False


@dataclass(frozen=True, slots=True)
class Pause:
    """Pause until the start of `until` (the caller's timezone), or for `length`; neither shows
    the pause."""

    until: date | None = None
    length: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Resume:
    pass


def timezone_suggestions(text: str, limit: int = 3) -> list[str]:
    """Close IANA names for a mistyped one: city names first, then spelling neighbours."""
    found = suggest_timezones(text, limit)
    if len(found) < limit:
        names = {name.lower(): name for name in available_timezones() if "/" in name}
        wanted = text.strip().lower().replace(" ", "_")
        cities = {name.rsplit("/", 1)[-1]: name for name in names}
        close = difflib.get_close_matches(wanted, list(names), n=limit, cutoff=0.75)
        close += difflib.get_close_matches(wanted.rsplit("/", 1)[-1], list(cities), n=limit, cutoff=0.75)
        for match in close:
            name = names.get(match) or names[cities[match]]
            if name not in found:
                found.append(name)
    return found[:limit]


def parse_timezone(text: str, topic: str) -> str:
    name = canonical_timezone(text)
    if name is not None:
        return name
    shown = short(text, 40)
    close = timezone_suggestions(text)
    hint = f" Did you mean {' or '.join(f'`{c}`' for c in close)}?" if close else ""
    raise UsageError(
        f"I don't know the timezone `{shown}`.{hint} Use an IANA name like `Europe/Berlin` or "
        "`America/New_York`.",
        topic,
    )


def _post(word: str) -> ItemKind:
    kind = POSTS.get(word.lower())
    if kind is None:
        raise UsageError(
            f"`{short(word, 20)}` isn't one of the team's posts: say `retro` or `digest`.", "schedule"
        )
    return kind


def parse_schedule(args: str) -> object:
    words = clean_text(args).split()
    if not words:
        return ShowSchedule()
    head, rest = words[0].lower(), words[1:]
    if head in {"tz", "timezone"}:
        if len(rest) != 1:
            raise UsageError("Give the team one timezone: `/retro schedule tz Europe/Berlin`.", "schedule")
        return TeamTimezone(parse_timezone(rest[0], "schedule"))
    if head in {"on", "off"} and len(rest) == 1:
        return TeamPostSwitch(_post(rest[0]), head == "on")
    kind = _post(head)
    if len(rest) == 1 and rest[0].lower() in {"on", "off"}:
        return TeamPostSwitch(kind, rest[0].lower() == "on")
    if len(rest) != 2:
        raise UsageError(
            f"Say a day and a time: `/retro schedule {POST_WORDS[kind]} fri 15:00` "
            f"(or `/retro schedule off {POST_WORDS[kind]}`).",
            "schedule",
        )
    try:
        return TeamPostAt(kind, parse_weekly(" ".join(rest)))
    except ValueError:
        raise UsageError(
            f"`{short(' '.join(rest), 30)}` isn't a day and a time; write it like "
            f"`/retro schedule {POST_WORDS[kind]} fri 15:00` (24-hour clock, your team's timezone).",
            "schedule",
        ) from None


def parse_tz(args: str) -> MyTimezone:
    words = clean_text(args).split()
    if not words:
        return MyTimezone()
    if len(words) != 1:
        raise UsageError("Give one timezone: `/retro tz Europe/Berlin`.", "tz")
    if words[0].lower() in RESET_WORDS:
        return MyTimezone(reset=True)
    return MyTimezone(parse_timezone(words[0], "tz"))


def parse_hours_command(args: str) -> MyHours:
    text = clean_text(args).replace(" ", "")
    if not text:
        return MyHours()
    if text.lower() in RESET_WORDS:
        return MyHours(reset=True)
    try:
        return MyHours(parse_hours(text))
    except ValueError as error:
        raise UsageError(
            f"Write your working hours like `/retro hours 09:00-17:00` ({error}).", "hours"
        ) from None


_LENGTH = re.compile(r"(\d{1,3})\s*(d|day|days|w|week|weeks)", re.IGNORECASE)


def parse_pause(args: str) -> Pause:
    text = clean_text(args).lower()
    if not text:
        return Pause()
    if match := _LENGTH.fullmatch(text):
        number, unit = int(match.group(1)), match.group(2)[0]
        length = timedelta(days=number * (7 if unit == "w" else 1))
        if not timedelta(0) < length <= MAX_PAUSE:
            raise UsageError(
                "Pause for 1 day up to a year, like `/retro pause 5d` or `/retro pause 2w`.", "pause"
            )
        return Pause(length=length)
    if text.startswith("until "):
        try:
            return Pause(until=date.fromisoformat(text.removeprefix("until ").strip()))
        except ValueError:
            pass
    raise UsageError(
        "Pause with `/retro pause until 2026-12-10` (back on that day) or `/retro pause 5d` "
        "(days; `2w` for weeks).",
        "pause",
    )


def parse_resume(args: str) -> Resume:
    if clean_text(args):
        raise UsageError("`/retro resume` takes nothing after it.", "resume")
    return Resume()


SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        name="schedule",
        usage="[tz <zone> | retro|digest <day> <HH:MM> | off|on retro|digest]",
        summary="The team's timezone and weekly posts: the retro round and the digest.",
        parse=parse_schedule,
        group="schedule",
        details=(
            "Without anything after it: the team's schedule, and yours.",
            "Times are in the team's timezone; a 09:00 post stays at 09:00 across daylight saving.",
            "The retro round invites entries in the channel; a summary follows the next working morning.",
        ),
        examples=(
            "/retro schedule tz Europe/Berlin",
            "/retro schedule retro fri 15:00",
            "/retro schedule digest mon 09:00",
            "/retro schedule off digest",
        ),
        completions=("tz", "retro", "digest", "off", "on"),
    ),
    CommandSpec(
        name="tz",
        usage="[<zone> | reset]",
        summary="Your timezone, for when I ask you things (yours wins over your platform's and the team's).",
        parse=parse_tz,
        group="schedule",
        examples=("/retro tz Europe/Berlin", "/retro tz reset"),
        completions=("reset",),
    ),
    CommandSpec(
        name="hours",
        usage="[HH:MM-HH:MM | reset]",
        summary="Your working hours: I only message you inside them, on working days.",
        parse=parse_hours_command,
        group="schedule",
        examples=("/retro hours 08:30-16:30",),
        completions=("reset",),
    ),
    CommandSpec(
        name="pause",
        usage="[until YYYY-MM-DD | <N>d | <N>w]",
        summary="No messages from me until then (vacation, a hard week). Nothing piles up.",
        parse=parse_pause,
        group="schedule",
        details=(
            "What comes due while you're paused waits, and goes out once, in one message, when you're back.",
            "A prompt that no longer needs asking by then (the lesson came in) is dropped.",
        ),
        examples=("/retro pause until 2026-12-10", "/retro pause 5d"),
        completions=("until",),
    ),
    CommandSpec(
        name="resume",
        usage="",
        summary="End your pause now.",
        parse=parse_resume,
        group="schedule",
    ),
)
