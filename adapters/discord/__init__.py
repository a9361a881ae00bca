"""The Discord adapter: a thin translator between discord.py and the engine (DESIGN.md §3).

`translate` holds the pure functions (Message -> content and embeds, Form -> modal, custom ids),
`commands` the ``/retro`` command group, `bridge` the way from an interaction to the engine and
back, `client` discord.py's client and the service that runs it, `sender` the outbound side for
the scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.discord.client import DiscordService, RetroClient, use_api
from adapters.discord.sender import DiscordSender
from bot.core.engine import Engine
from bot.settings import Settings, SettingsError


@dataclass(frozen=True, slots=True)
class Discord:
    """The adapter, wired: the gateway service and the scheduler's sender share one client (one
    login, one set of rate-limit buckets)."""

    client: RetroClient
    service: DiscordService
    sender: DiscordSender

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> Discord:
        if settings.discord_bot_token is None:
            raise SettingsError("DISCORD_BOT_TOKEN is not set")
        use_api(settings.discord_api_url)
        client = RetroClient(engine, settings.discord_bot_token, settings.discord_dev_guilds)
        return cls(client, DiscordService(client), DiscordSender(client))


__all__ = ["Discord", "DiscordSender", "DiscordService"]
