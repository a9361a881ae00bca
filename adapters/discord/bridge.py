"""Between a Discord interaction and the engine: translate it into an invocation, acknowledge in
time, and answer in Discord's shapes.

On Discord a guild is one team (`guild_team`). The engine starts it in the channel where it is
first used and `/retro setup` moves it; a command from any channel of the guild goes to it, and its
rounds, digests and announcements go to its channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import discord

from adapters.discord.translate import form_opener, guild_team, modal, render
from adapters.discord.views import send_kwargs
from bot.core.engine import Engine
from bot.core.messages import Message, Reply
from bot.core.ports import Actor, Invocation
from bot.core.text import markup

log = logging.getLogger(__name__)

ACK_WITHIN = 2.0
"""Seconds to wait for the engine before deferring. Discord forgets an interaction that is not
acknowledged within 3 seconds, and the round trip needs some of them."""

OTHER_GUILD = markup("That button belongs to another server's team.")
NOT_POSTED = markup(
    "I couldn't post in the team's channel: please give me the View Channel, Send Messages, "
    "Embed Links and Attach Files permissions there."
)


def actor(interaction: discord.Interaction) -> Actor:
    """The person behind `interaction`. Discord doesn't tell bots anyone's timezone (members set
    theirs with ``/retro tz``); it does say whether they may manage the server, which
    ``/retro setup`` takes. Outside a guild that permission is empty."""
    user = interaction.user
    return Actor(
        user_id=str(user.id),
        display_name=user.display_name,
        manages_workspace=interaction.permissions.manage_guild,
    )


class Bridge:
    """Runs what people do in Discord through the engine and answers them."""

    def __init__(self, engine: Engine, client: discord.Client) -> None:
        self.engine = engine
        self.client = client

    async def run(
        self,
        interaction: discord.Interaction,
        text: str,
        values: Mapping[str, str] | None = None,
        guild: str | None = None,
    ) -> None:
        """Run a command line (with typed values) as the person behind `interaction`, and answer.
        It goes to the guild's team, which the engine starts in this channel on first use (never
        from a DM: a click on a prompt)."""
        guild = guild or str(interaction.guild_id)
        channel = interaction.channel_id if interaction.guild_id is not None else None
        invocation = Invocation(
            guild_team(guild, channel),
            actor(interaction),
            text,
            values=values,
            key=str(interaction.id),
            channel_name=getattr(interaction.channel, "name", None),
        )
        await self.answer(interaction, guild, invocation)

    async def click(self, interaction: discord.Interaction, guild: str, command: str) -> None:
        """A button was clicked: in the guild's channels, or on a prompt in someone's DMs."""
        if interaction.guild_id is not None and str(interaction.guild_id) != guild:
            await self.tell(interaction, guild, OTHER_GUILD)
            return
        await self.run(interaction, command, guild=guild)

    async def setup(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None, timezone: str | None
    ) -> None:
        """``/retro setup``: the engine moves the guild's team to `channel` (default: this one) and
        sets its `timezone`, or refuses and changes nothing."""
        values = {"timezone": timezone or ""}
        target = channel or interaction.channel
        # Only a text channel can be the team's (not a thread, not a voice channel's chat): for
        # any other, no channel goes to the engine, which asks for one.
        if isinstance(target, discord.TextChannel):
            values |= {"channel": str(target.id), "channel_name": target.name}
        await self.run(interaction, "setup", values)

    async def answer(self, interaction: discord.Interaction, guild: str, invocation: Invocation) -> None:
        """Run the invocation and answer, acknowledging within Discord's 3 seconds: directly when the
        engine is quick, else with a deferral first and the answer as a followup. Nothing is
        acknowledged twice: discord.py's `InteractionResponse` tracks it, and every send below checks
        it. The engine answers everything itself, failures included."""
        task = asyncio.ensure_future(self.engine.handle(invocation))
        done, _ = await asyncio.wait({task}, timeout=ACK_WITHIN)
        try:
            if not done:
                await interaction.response.defer(ephemeral=True, thinking=True)
        finally:
            # The work finishes even when the deferral fails (then there is no one left to tell).
            reply = await task
        await self.deliver(interaction, guild, reply)

    async def misstep_choices(self, interaction: discord.Interaction) -> list[tuple[int, str]]:
        """Autocomplete for misstep options: the caller's open missteps, then the team's latest.
        Autocomplete has Discord's 3 seconds too and can't be deferred: a slow database offers none."""
        team = guild_team(str(interaction.guild_id), None)
        lookup = self.engine.misstep_choices(team, str(interaction.user.id))
        try:
            # Shielded: a lookup that outlives its answer finishes quietly rather than mid-query.
            return await asyncio.wait_for(asyncio.shield(lookup), ACK_WITHIN)
        except TimeoutError:
            log.warning("misstep autocomplete gave up waiting for the database")
            return []

    async def deliver(self, interaction: discord.Interaction, guild: str, reply: Reply) -> None:
        """The reply: a modal, or ephemeral messages to the person; announcements in the team's
        channel, which the engine names (it may not be where the command came from)."""
        if reply.form is not None:
            if not interaction.response.is_done():
                await interaction.response.send_modal(_unstored(modal(reply.form, guild)))
                return
            reply = Reply(private=(form_opener(reply.form),))
        for message in reply.private:
            await self.tell(interaction, guild, message)
        team = reply.team
        if team is None:
            return
        for message in reply.announcements:
            try:
                await self.post(team.channel, team.workspace, message)
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
