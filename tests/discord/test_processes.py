"""The Discord adapter in the bot's processes: `retro tick` delivering through Discord and exiting
cleanly, and `retro run` with Slack and Discord side by side in one event loop."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from adapters.fake import ManualClock
from adapters.slack import SlackService
from bot.app import App, build_app
from bot.settings import Secret, SettingsError
from tests.discord.conftest import World, discord_settings, running
from tests.emulators.discord import HANG_GUARD, DiscordEmulator
from tests.emulators.slack import SlackEmulator, visible_text

pytestmark = pytest.mark.wire


@pytest.mark.slow
async def test_retro_tick_delivers_through_discord_and_exits_cleanly(
    bot: App, discord: DiscordEmulator, world: World, database_url: str
) -> None:
    await discord.reply(await discord.slash(world.ada, world.general, "oops", what="the deploy broke"))
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "XDG_CONFIG_HOME": "/nonexistent",
        "RETRO_DATABASE_URL": database_url,
        "DISCORD_BOT_TOKEN": discord.token,
        "DISCORD_API_URL": discord.api_url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "tick",
        "--now",
        "2026-11-23T14:00Z",
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(HANG_GUARD * 3):
        _, errors = await process.communicate()
    log = errors.decode()
    assert process.returncode == 0, log
    assert "1 sent" in log
    assert "Unclosed" not in log
    assert discord.token not in log
    (prompt,) = discord.dms_to(world.ada)
    assert "What did #1 teach you?" in prompt.text


async def test_slack_and_discord_run_side_by_side_in_one_process(
    discord: DiscordEmulator, world: World, database_url: str, clock: ManualClock
) -> None:
    slack = SlackEmulator()
    await slack.start()
    slack.add_user("U1", "Ada", "Europe/Berlin")
    settings = discord_settings(
        database_url,
        discord,
        world.guild,
        http_host="127.0.0.1",
        http_port=0,
        slack_bot_token=Secret(slack.bot_token),
        slack_signing_secret=Secret(slack.signing_secret),
        slack_api_url=slack.api_url,
    )
    try:
        async with running(settings, discord, clock) as app:
            service = next(s for s in app.services if isinstance(s, SlackService))
            async with asyncio.timeout(HANG_GUARD):
                await service.ready.wait()
            slack.bot_url = f"http://127.0.0.1:{service.port}/slack/events"
            assert set(app.senders) == {"slack", "discord"}

            on_discord = await discord.slash(world.ada, world.general, "oops", what="the bridge fell down")
            await slack.command("oops the ferry was late", user="U1", channel="C1")
            (on_slack,) = await slack.wait_for(lambda: slack.replies_to("U1"))
            assert "Logged #1 (stumble): the bridge fell down" in (await discord.reply(on_discord)).text
            assert "Logged #1 (stumble): the ferry was late" in visible_text(on_slack.blocks)
    finally:
        await slack.stop()
    assert discord.errors == []


async def test_a_refused_token_stops_start_up_with_one_clear_line(
    discord: DiscordEmulator, world: World, database_url: str, clock: ManualClock
) -> None:
    settings = discord_settings(database_url, discord, discord_bot_token=Secret("not-the-token"))
    app = await build_app(settings, clock=clock, heartbeat=False)
    with pytest.raises(SettingsError, match="DISCORD_BOT_TOKEN: Discord refused the token"):
        await app.run()
    assert discord.errors == [("GET", "/users/@me", 401, 0)]
