"""`/retro setup`: the channel of a workspace's one team and the team's timezone.

Only platforms where a workspace is one team need it (Discord: a guild's team starts in the channel
of its first command, and this moves it). They send it as typed options, so it is built from
values; typed as text elsewhere, it says what to use instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.commands.base import CommandSpec, UsageError, clean_text
from bot.core.commands.schedule import parse_timezone
from bot.core.text import short

MAX_CHANNEL = 64
"""Channel ids are short (a Discord snowflake has at most 20 digits); the column holds 64."""
MAX_CHANNEL_NAME = 200


@dataclass(frozen=True, slots=True)
class Setup:
    channel: str
    channel_name: str
    timezone: str | None = None
    """None: the team keeps its timezone."""


def parse_setup(args: str) -> Setup:
    raise UsageError(
        "`/retro setup` is for Discord, where a whole server is one team. Here the team is this "
        "channel: set its timezone with `/retro schedule tz Europe/Berlin`.",
        "schedule",
    )


def setup_from_values(args: str, values: Mapping[str, str]) -> Setup:
    channel = clean_text(values.get("channel", ""))
    if not channel or len(channel) > MAX_CHANNEL:
        raise UsageError("Pick a text channel for the team's posts.", "setup")
    name = short(clean_text(values.get("channel_name", "")) or channel, MAX_CHANNEL_NAME)
    zone = clean_text(values.get("timezone", ""))
    return Setup(channel, name, parse_timezone(zone, "setup") if zone else None)


SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        name="setup",
        usage="[channel] [timezone]",
        summary="Pick the channel for retro rounds and digests, and the team's timezone.",
        parse=parse_setup,
        from_values=setup_from_values,
        details=(
            "Takes the permission to manage the server.",
            "The team, its history and its schedules move to the channel; commands keep working "
            "from any channel of the server.",
        ),
        # The help overview is the same on every platform, and only Discord offers this command.
        hidden=True,
        group="team",
    ),
)
