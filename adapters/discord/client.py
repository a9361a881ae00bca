"""discord.py's client with the ``/retro`` commands, persistent buttons and form submissions, and
the service that runs it.

Discord's base URLs are class attributes in discord.py, so pointing the bot somewhere else
(``DISCORD_API_URL``: a proxy, or the tests' emulator) sets them for the process: the REST base
before anything is sent, and the gateway from the REST answer to ``GET /gateway/bot``. A plain
`discord.Client` would otherwise dial discord.py's built-in gateway URL, on the first connection
and again whenever Discord invalidates the session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import discord
import discord.http
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from adapters.discord.bridge import Bridge
from adapters.discord.commands import RetroCommands
from adapters.discord.translate import FORM_ID, PLATFORM, form_values, parse_custom_id
from adapters.discord.views import CommandButton
from bot.core.engine import Engine
from bot.settings import Secret, SettingsError

MAX_RATELIMIT_WAIT = 30.0
"""discord.py waits out a 429 itself up to this long (its minimum); a longer one raises
`discord.RateLimited`, which the sender hands to the scheduler as `RateLimited`."""


def use_api(url: str) -> None:
    """Send every REST request of this process to `url` (default: Discord's own)."""
    discord.http.Route.BASE = url.rstrip("/")


class RetroClient(discord.Client):
    """The bot on Discord. Only the non-privileged `guilds` intent: slash commands, buttons and
    forms arrive as interactions, and the guild events say when the bot joins or leaves."""

    def __init__(self, engine: Engine, token: Secret, dev_guilds: Sequence[str] = ()) -> None:
        super().__init__(
            intents=discord.Intents(guilds=True),
            allowed_mentions=discord.AllowedMentions.none(),
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
        )
        self.engine = engine
        self.bridge = Bridge(engine, self)
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(RetroCommands(self.bridge))
        self.dev_guilds = tuple(discord.Object(int(guild)) for guild in dev_guilds)
        self._token = token
        self._login_lock = asyncio.Lock()

    async def ensure_login(self) -> None:
        """Log in over REST once, for the gateway service and the scheduler's sends alike."""
        async with self._login_lock:
            if self.user is None:
                await self.login(self._token.reveal())

    async def setup_hook(self) -> None:
        _, url, _ = await self.http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        self.add_dynamic_items(CommandButton)

    async def sync_commands(self) -> None:
        """Register ``/retro`` with Discord: in the development guilds (instant), else globally."""
        if not self.dev_guilds:
            await self.tree.sync()
            return
        for guild in self.dev_guilds:
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Form submissions. Commands, autocomplete and buttons go through discord.py's command
        tree and dynamic items; a submitted form is handled from its custom id (see
        `bridge._unstored`)."""
        if interaction.type is not discord.InteractionType.modal_submit or interaction.data is None:
            return
        parsed = parse_custom_id(FORM_ID, str(interaction.data.get("custom_id", "")))
        if parsed is None:
            return
        guild, command = parsed
        values = form_values(interaction.data.get("components", []))  # type: ignore[arg-type]
        await self.bridge.run(interaction, command, values, guild=guild)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.engine.stop_workspace(PLATFORM, str(guild.id), "the bot was removed from the server")

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.engine.resume_workspace(PLATFORM, str(guild.id))

    async def on_guild_available(self, guild: discord.Guild) -> None:
        # A guild that invited the bot back while it was offline arrives with the guilds of the
        # next READY, which discord.py reports as "available", not "joined". So does every guild on
        # every connect: resuming one that isn't stopped changes nothing.
        await self.engine.resume_workspace(PLATFORM, str(guild.id))


class DiscordService:
    """Runs the Discord adapter: logs in, syncs the commands, and listens on the gateway."""

    name = "discord"

    def __init__(self, client: RetroClient) -> None:
        self.client = client

    async def run(self) -> None:
        async with self.client:
            try:
                await self.client.ensure_login()
            except discord.LoginFailure:
                raise SettingsError("DISCORD_BOT_TOKEN: Discord refused the token") from None
            await self.client.sync_commands()
            await self.client.connect(reconnect=True)
