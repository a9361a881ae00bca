"""The scheduler's deliveries through `DiscordSender`: prompts as DMs with working buttons, the
nudge when DMs are closed, digests in the team's channel, and what Discord's errors become."""

from __future__ import annotations

import asyncio

import pytest

from adapters.discord import DiscordService
from adapters.fake import ManualClock
from bot.app import App
from bot.core.messages import Message, paragraph
from bot.core.model import TeamRef
from bot.core.ports import Destination, Outgoing
from tests.discord.conftest import World, discord_settings, running, ticker
from tests.emulators.discord import HANG_GUARD, DiscordEmulator

pytestmark = pytest.mark.wire

DM_ROUTE = r"/channels/\d+/messages"


async def _logged(discord: DiscordEmulator, world: World, what: str, **options: object) -> None:
    reply = await discord.reply(await discord.slash(world.ada, world.general, "oops", what=what, **options))
    assert "Logged" in reply.text


async def test_a_lesson_prompt_arrives_as_a_dm_whose_buttons_work_end_to_end(
    bot: App, discord: DiscordEmulator, world: World, clock: ManualClock
) -> None:
    await _logged(discord, world, "the deploy skipped the migrations")
    clock.advance(hours=5)
    report = await ticker(bot).tick()
    assert report["sent"] == 1

    (prompt,) = discord.dms_to(world.ada)
    assert "What did #1 teach you?" in prompt.text
    assert prompt.pings == set()
    opened = await discord.click(world.ada, prompt, "Add the lesson")
    await discord.until(lambda: opened.acknowledged, "the lesson form")
    assert opened.modal is not None
    saved = await discord.reply(
        await discord.submit(
            world.ada, opened, {"lesson": "migrations run in CI", "next_time": "check the migration step"}
        )
    )
    assert "Saved the lesson for #1" in saved.text

    clock.advance(days=15)
    assert (await ticker(bot).tick())["sent"] == 1
    check = discord.dms_to(world.ada)[-1]
    assert "Did the lesson from #1 stick?" in check.text
    answer = await discord.reply(await discord.click(world.ada, check, "It stuck"))
    assert "Noted for #1: it stuck" in answer.text
    assert "learning" in answer.text


async def test_closed_dms_get_a_nudge_in_the_team_channel_that_reveals_nothing(
    bot: App, discord: DiscordEmulator, world: World, clock: ManualClock
) -> None:
    await _logged(discord, world, "I deleted the staging database", anonymous=True, depth="setback")
    world.ada.dms_open = False
    clock.advance(days=1, hours=1)
    assert (await ticker(bot).tick())["sent"] == 1

    assert discord.dms_to(world.ada) == []
    (nudge,) = discord.messages_in(world.general)
    assert nudge.pings == {world.ada.id}
    assert "I have something waiting for you: run `/retro status`" in nudge.text
    assert "staging" not in nudge.markdown
    assert "#1" not in nudge.markdown
    assert [e[3] for e in discord.errors] == [50007]
    discord.errors.clear()


async def test_a_429_during_the_digest_is_waited_out_and_it_posts_once(
    bot: App, discord: DiscordEmulator, world: World, clock: ManualClock
) -> None:
    await _logged(discord, world, "the on-call phone was on silent")
    for subcommand, options in (("learned", {"lesson": "test the phone"}), ("check", {"answer": "stuck"})):
        await discord.reply(await discord.slash(world.ada, world.general, subcommand, misstep="1", **options))
    clock.advance(days=7)
    discord.rate_limit("POST", DM_ROUTE, times=2, retry_after=0.2)
    report = await ticker(bot).tick()

    digests = [m for m in discord.messages_in(world.general) if "digest" in m.text.lower()]
    assert len(digests) == 1
    ((chart, png),) = digests[0].files
    assert chart.endswith(".png")
    assert png.startswith(b"\x89PNG")
    assert digests[0].embeds
    assert report["failed"] == 0
    statuses = [
        status for method, path, status in discord.requests if method == "POST" and "/channels/" in path
    ]
    assert statuses.count(429) == 2


async def test_a_long_rate_limit_is_handed_to_the_scheduler_to_wait_out(
    bot: App, discord: DiscordEmulator, world: World, clock: ManualClock
) -> None:
    await _logged(discord, world, "the on-call phone was on silent")
    clock.advance(days=7)
    discord.rate_limit("POST", DM_ROUTE, times=1, retry_after=120)
    report = await ticker(bot).tick()
    assert report["retrying"] >= 1
    assert discord.messages_in(world.general) == []

    clock.advance(minutes=5)
    await ticker(bot).tick()
    assert any("digest" in m.text.lower() for m in discord.messages_in(world.general))


async def test_a_discord_outage_is_retried_later(
    bot: App, discord: DiscordEmulator, world: World, clock: ManualClock
) -> None:
    await _logged(discord, world, "the on-call phone was on silent")
    clock.advance(days=7)
    discord.fail("POST", DM_ROUTE, 503, times=10)
    report = await ticker(bot).tick()
    assert report["retrying"] >= 1
    assert report["failed"] == 0


async def test_a_channel_the_bot_cannot_post_in_fails_the_item_with_the_reason(
    bot: App, discord: DiscordEmulator, world: World, clock: ManualClock
) -> None:
    await _logged(discord, world, "the on-call phone was on silent")
    world.general.bot_can_post = False
    clock.advance(days=7)
    report = await ticker(bot).tick()
    assert report["failed"] >= 1
    status = await discord.reply(await discord.slash(world.ada, world.retro, "status"))
    assert "Missing Access" in status.text
    discord.errors.clear()


async def _stopped(app: App, world: World, expected: bool) -> None:
    """Wait until the bot has handled the guild event: it does so in a task of its own, and its
    only trace is in the database."""

    async def stopped() -> bool:
        async with app.database.unit_of_work() as uow:
            return await uow.teams.workspace_stopped("discord", str(world.guild.id))

    async with asyncio.timeout(HANG_GUARD):
        while await stopped() is not expected:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_leaving_a_guild_stops_its_sends_and_keeps_its_data(
    bot: App, discord: DiscordEmulator, world: World, clock: ManualClock
) -> None:
    await _logged(discord, world, "the deploy skipped the migrations")
    # Until its first READY is complete, discord.py reports a guild that arrives as "available"
    # rather than "joined": let it finish, so adding the bot back below is a join.
    (service,) = (s for s in bot.services if isinstance(s, DiscordService))
    await service.client.wait_until_ready()
    await discord.remove_bot(world.guild)
    await _stopped(bot, world, True)
    clock.advance(hours=5)
    report = await ticker(bot).tick()
    assert report["sent"] == 0
    assert discord.dms_to(world.ada) == []
    async with bot.database.unit_of_work() as uow:
        team = await uow.teams.first_in_workspace("discord", str(world.guild.id))
        assert team is not None
        assert len(await uow.missteps(team.id).all()) == 1

    await discord.add_bot(world.guild)
    await _stopped(bot, world, False)


async def test_a_repeated_send_with_the_same_delivery_key_shows_once(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    await _logged(discord, world, "the deploy skipped the migrations")
    team = TeamRef("discord", str(world.guild.id), str(world.general.id))
    outgoing = Outgoing(
        Destination(team), Message(title="Retro round", blocks=(paragraph("hello"),)), "item-7/0"
    )
    sender = bot.senders["discord"]
    assert sender.idempotent
    await sender.send(outgoing)
    await sender.send(outgoing)
    assert len(discord.messages_in(world.general)) == 1
    await sender.send(Outgoing(outgoing.destination, outgoing.message, "item-7/1"))
    assert len(discord.messages_in(world.general)) == 2


async def test_a_guild_that_invites_the_bot_back_while_it_is_offline_gets_its_sends_again(
    discord: DiscordEmulator, world: World, database_url: str, clock: ManualClock
) -> None:
    settings = discord_settings(database_url, discord, world.guild)
    async with running(settings, discord, clock) as app:
        await _logged(discord, world, "the deploy skipped the migrations")
        (service,) = (s for s in app.services if isinstance(s, DiscordService))
        await service.client.wait_until_ready()
        await discord.remove_bot(world.guild)
        await _stopped(app, world, True)
    # Back while the bot was away: discord.py reports the guild as "available", not "joined".
    await discord.add_bot(world.guild, while_offline=True)
    discord.identified.clear()
    async with running(settings, discord, clock) as app:
        await _stopped(app, world, False)
        clock.advance(hours=5)
        assert (await ticker(app).tick())["sent"] == 1
    assert "What did #1 teach you?" in discord.dms_to(world.ada)[0].text
    assert discord.errors == []
