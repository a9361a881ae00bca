"""`/retro setup`: the workspace's team moves to its channel and takes its timezone, in the
engine's one unit of work (a bad timezone is refused before anything runs)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.core.commands.base import UsageError
from bot.core.commands.schedule import TeamTimezone
from bot.core.commands.team import Setup
from bot.core.handlers.schedule import team_timezone
from bot.core.messages import Message, Reply, paragraph
from bot.core.text import markup
from bot.scheduling import planner

if TYPE_CHECKING:
    from bot.core.engine import Context

SET_UP = markup("From now on I'll post the team's retro rounds and weekly digest in this channel.")


async def setup(ctx: Context, command: Setup) -> Reply:
    if not ctx.manages_workspace:
        raise UsageError("Setting up the team takes the permission to manage the server.")
    if command.channel != ctx.team.ref.channel:
        await ctx.uow.teams.move(ctx.team.id, command.channel, command.channel_name)
        # The engine tells the adapter where the team is now: the announcement goes there.
        ctx.team = replace(
            ctx.team, ref=replace(ctx.team.ref, channel=command.channel), name=command.channel_name
        )
    moved = paragraph("The team's rounds, digests and announcements go to #", command.channel_name, ".")
    if command.timezone is None:
        zone = planner.zone_name(ctx.team.timezone, ctx.policy.timezone)
        said = markup(f"The team's timezone stays {zone}.")
    else:
        (said,) = (await team_timezone(ctx, TeamTimezone(command.timezone))).private
    return Reply(private=(Message(blocks=(moved, *said.blocks)),), announcements=(SET_UP,))


HANDLERS = {Setup: setup}
