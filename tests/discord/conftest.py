"""The bot, unmodified, against the local Discord emulator: `build_app` with Discord settings whose
``DISCORD_API_URL`` points at the emulator on an ephemeral port of 127.0.0.1. The real discord.py
logs in over REST, syncs its commands and connects to the emulator's gateway."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.fake import ManualClock
from bot.app import App, build_app, build_ticker
from bot.scheduling.tick import Ticker
from bot.settings import Secret, Settings
from tests.emulators.discord import Channel, DiscordEmulator, Guild, User


@dataclass
class World:
    """One guild with two channels and three people (Grace can manage the server)."""

    guild: Guild
    general: Channel
    retro: Channel
    ada: User
    bob: User
    grace: User


@pytest.fixture
async def discord() -> AsyncIterator[DiscordEmulator]:
    emulator = DiscordEmulator()
    await emulator.start()
    yield emulator
    await emulator.close()


@pytest.fixture
def world(discord: DiscordEmulator) -> World:
    guild = discord.add_guild("Acme")
    return World(
        guild=guild,
        general=discord.add_channel(guild, "general"),
        retro=discord.add_channel(guild, "retro"),
        ada=discord.add_user("Ada", guild),
        bob=discord.add_user("Bob", guild),
        grace=discord.add_user("Grace", guild, manage_guild=True),
    )


def discord_settings(
    database_url: str, emulator: DiscordEmulator, *guilds: Guild, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "discord_bot_token": Secret(emulator.token),
        "discord_api_url": emulator.api_url,
        "discord_dev_guilds": tuple(str(guild.id) for guild in guilds),
    }
    return Settings(**(values | overrides))


@contextlib.asynccontextmanager
async def running(settings: Settings, emulator: DiscordEmulator, clock: ManualClock) -> AsyncIterator[App]:
    """`retro run` with these settings, until the block ends. The heartbeat is off: tests tick
    when they choose, with `ticker`."""
    app = await build_app(settings, clock=clock, heartbeat=False)
    task = asyncio.create_task(app.run())
    ready = asyncio.create_task(emulator.ready())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
        task.result()
        pytest.fail("the bot stopped before it connected")
    ready.result()
    try:
        yield app
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def bot(
    discord: DiscordEmulator, world: World, database_url: str, clock: ManualClock
) -> AsyncIterator[App]:
    async with running(discord_settings(database_url, discord, world.guild), discord, clock) as app:
        yield app
    # Discord answered no request of the bot with an error (late, double, malformed, ...) unless
    # the test expected it and cleared the list.
    assert discord.errors == []


def ticker(app: App) -> Ticker:
    """The scheduler's delivery side, through the app's senders (Discord's among them) and its
    engine's matcher, as `retro run` builds it."""
    return build_ticker(app.settings, app.database, app.clock, app.senders, app.engine.matcher)
