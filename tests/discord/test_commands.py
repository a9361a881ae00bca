"""Every ``/retro`` subcommand through the real discord.py and the emulator: typed options in,
ephemeral answers out."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.core.commands.grammar import GRAMMAR
from tests.conftest import locked
from tests.discord.conftest import World, discord_settings, running
from tests.emulators.discord import DEFERRED_MESSAGE, MESSAGE, DiscordEmulator

pytestmark = pytest.mark.wire


async def test_commands_sync_to_the_development_guild_with_every_grammar_command(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    (retro,) = discord.commands[world.guild.id]
    subcommands = {option["name"] for option in retro["options"]}
    visible = {spec.name for spec in GRAMMAR.specs if not spec.hidden}
    assert visible | {"setup"} == subcommands
    assert None not in discord.commands


async def test_without_development_guilds_commands_sync_globally(
    discord: DiscordEmulator, world: World, database_url: str, clock
) -> None:
    async with running(discord_settings(database_url, discord), discord, clock):
        assert [c["name"] for c in discord.commands[None]] == ["retro"]
        assert world.guild.id not in discord.commands


async def test_oops_with_typed_options_logs_a_misstep_privately(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    interaction = await discord.slash(
        world.ada,
        world.general,
        "oops",
        what="the deploy skipped the migrations",
        goal="ship the billing fix",
        depth="setback",
        tags="deploys, billing",
        anonymous=True,
    )
    reply = await discord.reply(interaction)
    assert interaction.response_type == MESSAGE
    assert reply.ephemeral
    assert "Logged #1 (setback): the deploy skipped the migrations" in reply.text
    assert "anonymous" in reply.text
    assert discord.messages_in(world.general) == []

    status = await discord.reply(await discord.slash(world.bob, world.retro, "status", misstep="1"))
    assert "ship the billing fix" in status.text
    assert "#billing #deploys" in status.text
    assert "anonymously" in status.text
    assert "Ada" not in status.text


async def test_the_whole_loop_and_every_other_subcommand(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    async def say(subcommand: str, **options: object) -> str:
        interaction = await discord.slash(world.ada, world.general, subcommand, **options)
        return (await discord.reply(interaction)).text

    assert "Logged #1" in await say("oops", what="the import lost our tags")
    assert "Saved the lesson for #1" in await say(
        "learned", misstep="#1", lesson="imports need a dry run", next_time="run every import on a copy"
    )
    assert "it stuck" in await say("check", misstep="1", answer="stuck")
    lessons = await say("lessons")
    assert "imports need a dry run" in lessons
    assert "imports need a dry run" in await say("lessons", words="import")
    assert "Open items" in await say("status")

    assert "Logged #2" in await say("oops", what="the import lost our tags again")
    assert "Linked #2 as a repeat of #1" in await say("same", misstep="2", earlier="1")
    assert "Logged #3" in await say("oops", what="the import lost our labels")
    assert "is something new" in await say("dismiss", misstep="#3", earlier="#1")

    assert "off" in await say("announce")
    assert "From now on I'll post new missteps" in await say("announce", setting="on")
    assert "retro: turn missteps into lessons" in await say("help")
    assert "/retro check" in await say("help", command="check")
    assert "digest" in (await say("digest")).lower()

    assert "Europe/Berlin" in await say("tz", zone="Europe/Berlin")
    assert "Europe/Berlin" in await say("tz")
    assert "08:00" in await say("hours", arguments="08:00-16:00")
    assert "Paused" in await say("pause", arguments="until 2026-12-10")
    assert "Welcome back" in await say("resume")
    assert "digest" in (await say("schedule", arguments="digest tue 10:00")).lower()


async def test_export_arrives_as_a_file(bot: App, discord: DiscordEmulator, world: World) -> None:
    await discord.reply(await discord.slash(world.ada, world.general, "oops", what="the printer caught fire"))
    reply = await discord.reply(await discord.slash(world.ada, world.general, "export", format="json"))
    ((name, content),) = reply.files
    assert name.endswith(".json")
    assert b"the printer caught fire" in content
    assert reply.ephemeral


async def test_bad_input_gets_a_friendly_private_answer(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    reply = await discord.reply(await discord.slash(world.ada, world.general, "status", misstep="abc"))
    assert "isn't a misstep number" in reply.text
    reply = await discord.reply(
        await discord.slash(world.ada, world.general, "check", misstep="99", answer="stuck")
    )
    assert "can't find #99" in reply.text
    reply = await discord.reply(await discord.slash(world.ada, world.general, "status", misstep="4 5"))
    assert "isn't a misstep number" in reply.text


async def test_a_guild_is_one_team_whichever_channel_commands_come_from(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    await discord.reply(await discord.slash(world.ada, world.general, "oops", what="the build broke"))
    reply = await discord.reply(await discord.slash(world.bob, world.retro, "status", misstep="1"))
    assert "the build broke" in reply.text


async def test_announcements_go_to_the_teams_channel(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    await discord.reply(await discord.slash(world.ada, world.general, "announce", setting="on"))
    await discord.reply(
        await discord.slash(world.bob, world.retro, "oops", what="the backup was empty", anonymous=True)
    )
    (post,) = await discord.posted(world.general)
    assert "Someone (anonymously) logged #1" in post.text
    assert "Bob" not in post.markdown
    assert not post.ephemeral


async def test_an_announcement_the_bot_cannot_post_is_explained_to_the_person(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    await discord.reply(await discord.slash(world.ada, world.general, "announce", setting="on"))
    world.general.bot_can_post = False
    interaction = await discord.slash(world.ada, world.general, "oops", what="the backup was empty")
    assert "Logged #1" in (await discord.reply(interaction)).text
    assert "couldn't post in the team's channel" in (await discord.reply(interaction, 1)).text
    assert [error[2:] for error in discord.errors] == [(403, 50001)]
    discord.errors.clear()


async def test_setup_moves_the_team_and_its_posts_to_the_chosen_channel(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    await discord.reply(await discord.slash(world.ada, world.general, "oops", what="the build broke"))
    refused = await discord.reply(await discord.slash(world.ada, world.general, "setup", channel=world.retro))
    assert "permission to manage the server" in refused.text

    interaction = await discord.slash(
        world.grace, world.general, "setup", channel=world.retro, timezone="Europe/Berlin"
    )
    answer = await discord.reply(interaction)
    assert "Europe/Berlin" in answer.text
    (confirmation,) = await discord.posted(world.retro)
    assert "post the team's retro rounds and weekly digest in this channel" in confirmation.text

    await discord.reply(await discord.slash(world.ada, world.general, "announce", setting="on"))
    await discord.reply(await discord.slash(world.ada, world.general, "oops", what="the tests were flaky"))
    posts = await discord.posted(world.retro, 2)
    assert "logged #2" in posts[-1].text
    assert discord.messages_in(world.general) == []


async def test_a_slow_database_is_deferred_then_answered(
    bot: App, discord: DiscordEmulator, world: World, database_url: str
) -> None:
    async with locked(database_url):
        interaction = await discord.slash(world.ada, world.general, "oops", what="the database was slow")
        await discord.until(lambda: interaction.acknowledged, "the deferral")
        assert interaction.response_type == DEFERRED_MESSAGE
        assert interaction.messages == []
    reply = await discord.reply(interaction)
    assert "Logged #1" in reply.text
    assert reply.ephemeral


async def test_setup_with_an_unknown_timezone_changes_nothing(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    await discord.reply(await discord.slash(world.ada, world.general, "oops", what="the build broke"))
    interaction = await discord.slash(
        world.grace, world.general, "setup", channel=world.retro, timezone="Nowhere/Atlantis"
    )
    answer = await discord.reply(interaction)
    assert "I don't know the timezone" in answer.text
    assert len(interaction.messages) == 1

    # The team stayed where it was: its next announcement goes to #general, none went to #retro.
    await discord.reply(await discord.slash(world.ada, world.retro, "announce", setting="on"))
    await discord.reply(await discord.slash(world.ada, world.retro, "oops", what="the tests were flaky"))
    await discord.until(lambda: any("logged #2" in m.text for m in discord.sent), "the announcement")
    (post,) = discord.messages_in(world.general)
    assert "logged #2" in post.text
    assert discord.messages_in(world.retro) == []


async def test_setup_as_the_first_command_starts_the_team_in_the_chosen_channel(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    interaction = await discord.slash(
        world.grace, world.general, "setup", channel=world.retro, timezone="America/New_York"
    )
    assert "America/New_York" in (await discord.reply(interaction)).text
    (confirmation,) = await discord.posted(world.retro)
    assert "post the team's retro rounds and weekly digest in this channel" in confirmation.text
    schedule = await discord.reply(await discord.slash(world.ada, world.general, "schedule"))
    assert "America/New_York" in schedule.text
