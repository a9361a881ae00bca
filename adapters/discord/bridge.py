"""Between a Discord interaction and the engine: find the guild's team, acknowledge in time, and
answer in Discord's shapes.

On Discord a guild is one team. It lives in the channel where it was first used until
`/retro setup` moves it; a command from any channel of the guild goes to it, and its rounds,
digests and announcements go to its channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace

import discord

from adapters.discord.translate import PLATFORM, command_line, form_opener, modal, render, team_ref
from adapters.discord.views import send_kwargs
from bot.core.engine import Engine
from bot.core.messages import Message, Reply
from bot.core.model import TeamRef
from bot.core.ports import Actor, Invocation
from bot.core.text import markup

log = logging.getLogger(__name__)

ACK_WITHIN = 2.0
"""Seconds to wait for the engine before deferring. Discord forgets an interaction that is not
acknowledged within 3 seconds, and the round trip needs some of them."""

FAILED = markup("Something went wrong on my side and nothing was saved. Please try again in a moment.")
NO_TEAM = markup("This server has no retro team yet: run `/retro help` in its channel to start one.")
OTHER_GUILD = markup("That button belongs to another server's team.")
NOT_ADMIN = markup("Setting up the team takes the Manage Server permission.")
PICK_CHANNEL = markup("Pick a text channel for the team: `/retro setup channel:#retro`.")
SET_UP = markup("From now on I'll post the team's retro rounds and weekly digest in this channel.")
NOT_POSTED = markup(
    "I couldn't post in the team's channel: please give me the View Channel, Send Messages, "
    "Embed Links and Attach Files permissions there."
)


def actor(user: discord.User | discord.Member) -> Actor:
    """Discord doesn't tell bots anyone's timezone; members set theirs with ``/retro tz``."""
    return Actor(user_id=str(user.id), display_name=user.display_name)


class Bridge:
    """Runs what people do in Discord through the engine and answers them."""

    def __init__(self, engine: Engine, client: discord.Client) -> None:
        self.engine = engine
        self.client = client

    async def team(self, guild: str, channel: str | None) -> TeamRef | None:
        """The guild's team; on first use, a new one in `channel` (None: don't start one)."""
        found = await self.engine.workspace_team(PLATFORM, guild)
        if found is not None or channel is None:
            return found
        return team_ref(guild, channel)

    async def run(
        self,
        interaction: discord.Interaction,
        text: str,
        values: Mapping[str, str] | None = None,
        guild: str | None = None,
    ) -> None:
        """Run a command line (with typed values) as the person behind `interaction`, and answer."""
        guild = guild or str(interaction.guild_id)
        # A team starts in a guild channel, never from a DM (a click on a prompt).
        channel = str(interaction.channel_id) if interaction.guild_id is not None else None

        async def work() -> tuple[Reply, TeamRef | None]:
            team = await self.team(guild, channel)
            if team is None:
                return Reply(private=(NO_TEAM,)), None
            invocation = Invocation(
                team,
                actor(interaction.user),
                text,
                values=values,
                key=str(interaction.id),
                channel_name=getattr(interaction.channel, "name", None),
            )
            return await self.engine.handle(invocation), team

        await self.answer(interaction, guild, work)

    async def click(self, interaction: discord.Interaction, guild: str, command: str) -> None:
        """A button was clicked: in the guild's channels, or on a prompt in someone's DMs."""
        if interaction.guild_id is not None and str(interaction.guild_id) != guild:
            await self.tell(interaction, guild, OTHER_GUILD)
            return
        await self.run(interaction, command, guild=guild)

    async def setup(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None, timezone: str | None
    ) -> None:
        """``/retro setup``: the guild's team moves to `channel` (it posts there from now on), and
        `timezone` becomes the team's. Takes the Manage Server permission."""
        guild = str(interaction.guild_id)
        if not interaction.permissions.manage_guild:
            await self.tell(interaction, guild, NOT_ADMIN)
            return
        target = channel or interaction.channel
        if not isinstance(target, discord.TextChannel):
            await self.tell(interaction, guild, PICK_CHANNEL)
            return

        async def work() -> tuple[Reply, TeamRef | None]:
            team = await self.engine.workspace_team(PLATFORM, guild)
            if team is None:
                team = team_ref(guild, target.id)
            elif team.channel != str(target.id):
                team = await self.engine.move_team(team, str(target.id), target.name)
            text = command_line("schedule", "tz", timezone) if timezone else "schedule"
            invocation = Invocation(
                team, actor(interaction.user), text, key=str(interaction.id), channel_name=target.name
            )
            reply = await self.engine.handle(invocation)
            return replace(reply, announcements=(*reply.announcements, SET_UP)), team

        await self.answer(interaction, guild, work)

    async def answer(
        self,
        interaction: discord.Interaction,
        guild: str,
        work: Callable[[], Awaitable[tuple[Reply, TeamRef | None]]],
    ) -> None:
        """Do the work and answer, acknowledging within Discord's 3 seconds: directly when the work
        is quick, else with a deferral first and the answer as a followup. Nothing is acknowledged
        twice: discord.py's `InteractionResponse` tracks it, and every send below checks it."""
        task = asyncio.ensure_future(self._guarded(work))
        done, _ = await asyncio.wait({task}, timeout=ACK_WITHIN)
        try:
            if not done:
                await interaction.response.defer(ephemeral=True, thinking=True)
        finally:
            # The work finishes even when the deferral fails (then there is no one left to tell).
            reply, team = await task
        await self.deliver(interaction, guild, reply, team)

    async def misstep_choices(self, interaction: discord.Interaction) -> list[tuple[int, str]]:
        """Autocomplete for misstep options: the caller's open missteps, then the team's latest.
        Autocomplete has Discord's 3 seconds too and can't be deferred: a slow database offers none."""

        async def lookup() -> list[tuple[int, str]]:
            team = await self.team(str(interaction.guild_id), str(interaction.channel_id))
            return await self.engine.misstep_choices(team, str(interaction.user.id)) if team else []

        try:
            # Shielded: a lookup that outlives its answer finishes quietly rather than mid-query.
            return await asyncio.wait_for(asyncio.shield(lookup()), ACK_WITHIN)
        except TimeoutError:
            log.warning("misstep autocomplete gave up waiting for the database")
            return []

    async def _guarded(
        self, work: Callable[[], Awaitable[tuple[Reply, TeamRef | None]]]
    ) -> tuple[Reply, TeamRef | None]:
        # The engine answers everything itself; finding the team happens outside it.
        try:
            return await work()
        except Exception:
            log.exception("a Discord interaction failed")
            return Reply(private=(FAILED,)), None

    async def deliver(
        self, interaction: discord.Interaction, guild: str, reply: Reply, team: TeamRef | None
    ) -> None:
        """The reply: a modal, or ephemeral messages to the person; announcements in the channel."""
        if reply.form is not None:
            if not interaction.response.is_done():
                await interaction.response.send_modal(_unstored(modal(reply.form, guild)))
                return
            reply = Reply(private=(form_opener(reply.form),))
        for message in reply.private:
            await self.tell(interaction, guild, message)
        for message in reply.announcements if team is not None else ():
            try:
                await self.post(team.channel, guild, message)
            except discord.HTTPException as error:
                log.warning("could not post in channel %s: %s %s", team.channel, error.status, error.code)
                await self.tell(interaction, guild, NOT_POSTED)

    async def tell(self, interaction: discord.Interaction, guild: str, message: Message) -> None:
        """An ephemeral message to the person behind `interaction`."""
        for part in render(message, guild):
            if interaction.response.is_done():
                await interaction.followup.send(ephemeral=True, **send_kwargs(part))
            else:
                await interaction.response.send_message(ephemeral=True, **send_kwargs(part))

    async def post(self, channel: str, guild: str, message: Message) -> None:
        """A message in a channel of the guild, as the bot."""
        target = self.client.get_partial_messageable(int(channel), guild_id=int(guild))
        for part in render(message, guild):
            await target.send(**send_kwargs(part))


def _unstored(view: discord.ui.Modal) -> discord.ui.Modal:
    # discord.py keeps a sent modal in memory, keyed by custom id alone, until it is submitted. We
    # handle submissions from the custom id instead (see `RetroClient.on_interaction`): that works
    # after a restart, and two people with the same form open can't take each other's entry.
    # A stopped modal is not kept.
    view.stop()
    return view
