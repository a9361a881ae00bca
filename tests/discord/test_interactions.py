"""Autocomplete, modals and buttons through the real discord.py and the emulator."""

from __future__ import annotations

import pytest

from adapters.fake import ManualClock
from bot.app import App
from tests.conftest import locked
from tests.discord.conftest import World, discord_settings, running
from tests.emulators.discord import MODAL, DiscordEmulator, Sent

pytestmark = pytest.mark.wire


async def _say(discord: DiscordEmulator, world: World, subcommand: str, **options: object) -> Sent:
    return await discord.reply(await discord.slash(world.ada, world.general, subcommand, **options))


async def test_misstep_autocomplete_offers_the_callers_open_missteps_first(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    await discord.reply(await discord.slash(world.bob, world.general, "oops", what="the printer jammed"))
    await _say(discord, world, "oops", what="the deploy skipped the migrations")
    await _say(discord, world, "oops", what="the demo laptop died")

    choices = await discord.autocomplete(world.ada, world.general, "learned", "misstep", misstep="")
    assert [c["value"] for c in choices] == ["3", "2", "1"]
    assert choices[0]["name"] == "#3 the demo laptop died"

    assert [
        c["value"]
        for c in await discord.autocomplete(world.ada, world.general, "check", "misstep", misstep="#2")
    ] == ["2"]
    by_words = await discord.autocomplete(world.ada, world.general, "status", "misstep", misstep="deploy")
    assert [c["value"] for c in by_words] == ["2"]
    earlier = await discord.autocomplete(
        world.ada, world.general, "same", "earlier", misstep="3", earlier="print"
    )
    assert [c["value"] for c in earlier] == ["1"]


async def test_timezone_and_help_autocomplete(bot: App, discord: DiscordEmulator, world: World) -> None:
    zones = await discord.autocomplete(world.grace, world.general, "setup", "timezone", timezone="berlin")
    assert zones[0] == {"name": "Europe/Berlin", "value": "Europe/Berlin"}
    topics = await discord.autocomplete(world.ada, world.general, "help", "command", command="le")
    assert [c["value"] for c in topics] == ["learned", "lessons"]


async def test_oops_without_what_opens_a_modal_and_its_submission_logs_the_misstep(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    opened = await discord.slash(world.ada, world.general, "oops")
    await discord.until(lambda: opened.acknowledged, "the modal")
    assert opened.response_type == MODAL
    assert opened.modal is not None
    assert [label["component"]["custom_id"] for label in opened.modal["components"]] == [
        "what",
        "goal",
        "depth",
        "tags",
        "anonymous",
    ]

    submitted = await discord.submit(
        world.ada,
        opened,
        {
            "what": "the backup was empty <@&1> @here",
            "goal": "restore the wiki",
            "depth": "fall",
            "tags": "backups",
            "anonymous": True,
        },
    )
    reply = await discord.reply(submitted)
    assert "Logged #1 (fall): the backup was empty" in reply.text
    assert "anonymous" in reply.text
    assert reply.ephemeral
    assert not reply.pings_everyone
    assert not reply.pings_roles


async def test_learned_without_a_lesson_opens_the_lesson_form_prefilled(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    await _say(discord, world, "oops", what="the import lost our tags")
    await _say(discord, world, "learned", misstep="1", lesson="imports need a dry run")

    opened = await discord.slash(world.ada, world.general, "learned", misstep="1")
    await discord.until(lambda: opened.acknowledged, "the modal")
    assert opened.modal is not None
    assert opened.modal["title"] == "Lesson for #1"
    lesson_input = opened.modal["components"][0]["component"]
    assert lesson_input["value"] == "imports need a dry run"

    submitted = await discord.submit(world.ada, opened, {"next_time": "run imports on a copy first"})
    reply = await discord.reply(submitted)
    assert "Updated the lesson for #1" in reply.text
    assert "run imports on a copy first" in reply.text


async def _suggested_repeat(discord: DiscordEmulator, world: World) -> Sent:
    await _say(discord, world, "oops", what="the nightly import lost our tags", tags="imports")
    await _say(discord, world, "learned", misstep="1", lesson="imports need a dry run")
    reply = await _say(discord, world, "oops", what="the nightly import lost our tags again", tags="imports")
    assert "This looks like #1" in reply.text
    return reply


async def test_a_button_on_a_reply_runs_its_command_as_the_clicker(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    reply = await _suggested_repeat(discord, world)
    clicked = await discord.click(world.ada, reply, "Yes, same as #1")
    answer = await discord.reply(clicked)
    assert "Linked #2 as a repeat of #1" in answer.text
    assert answer.ephemeral


async def test_after_a_broken_gateway_connection_the_bot_identifies_again_and_buttons_still_work(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    reply = await _suggested_repeat(discord, world)
    await discord.drop_gateway()
    # discord.py reconnects on its own (its backoff's first wait is at most a few seconds); the
    # resume is refused, so it identifies again, on the gateway URL that /gateway/bot gave.
    await discord.ready()
    answer = await discord.reply(await discord.click(world.ada, reply, "Yes, same as #1"))
    assert "Linked #2 as a repeat of #1" in answer.text
    logged = await _say(discord, world, "oops", what="the build cache went stale again")
    assert "Logged #3" in logged.text


async def test_buttons_and_open_forms_keep_working_after_a_restart(
    discord: DiscordEmulator, world: World, database_url: str, clock: ManualClock
) -> None:
    settings = discord_settings(database_url, discord, world.guild)
    async with running(settings, discord, clock):
        reply = await _suggested_repeat(discord, world)
        form = await discord.slash(world.bob, world.general, "oops")
        await discord.until(lambda: form.acknowledged, "the modal")
    discord.identified.clear()
    async with running(settings, discord, clock):
        answer = await discord.reply(await discord.click(world.ada, reply, "No, something new"))
        logged = await discord.reply(await discord.submit(world.bob, form, {"what": "the lights went out"}))
    assert "#2 is something new, not a repeat of #1" in answer.text
    assert "Logged #3 (stumble): the lights went out" in logged.text
    assert discord.errors == []


async def test_a_form_asked_for_while_the_database_is_slow_opens_from_a_button(
    bot: App, discord: DiscordEmulator, world: World, database_url: str
) -> None:
    # Discord opens a modal only as the first response; once deferred, a button offers the form.
    async with locked(database_url):
        opened = await discord.slash(world.ada, world.general, "oops")
        await discord.until(lambda: opened.acknowledged, "the deferral")
        assert opened.deferred
    offer = await discord.reply(opened)
    click = await discord.click(world.ada, offer, "Open: Log a misstep")
    await discord.until(lambda: click.acknowledged, "the modal")
    assert click.modal is not None
    assert click.modal["title"] == "Log a misstep"
    reply = await discord.reply(await discord.submit(world.ada, click, {"what": "the wiki was down"}))
    assert "Logged #1 (stumble): the wiki was down" in reply.text


async def test_a_button_from_another_guild_is_refused(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    reply = await _suggested_repeat(discord, world)
    elsewhere = discord.add_guild("Elsewhere")
    channel = discord.add_channel(elsewhere, "general")
    elsewhere.permissions[world.ada.id] = world.guild.permissions[world.ada.id]
    moved = Sent(reply.id, channel, reply.payload, [], ephemeral=False)
    answer = await discord.reply(await discord.click(world.ada, moved, "Yes, same as #1"))
    assert "another server" in answer.text


async def test_autocomplete_on_a_slow_database_offers_nothing_but_answers_in_time(
    bot: App, discord: DiscordEmulator, world: World, database_url: str
) -> None:
    await _say(discord, world, "oops", what="the deploy skipped the migrations")
    async with locked(database_url):
        choices = await discord.autocomplete(world.ada, world.general, "status", "misstep", misstep="")
    assert choices == []
    assert [
        c["value"]
        for c in await discord.autocomplete(world.ada, world.general, "status", "misstep", misstep="")
    ] == ["1"]
