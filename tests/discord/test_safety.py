"""Nothing a person types can ping or format: not in replies, not in channel posts, not in embeds,
not through their display name. The only pings are the ones the bot means."""

from __future__ import annotations

import re

import pytest

from bot.app import App
from tests.discord.conftest import World
from tests.emulators.discord import DiscordEmulator, Sent

pytestmark = pytest.mark.wire

INJECTION = (
    "@everyone @here <@{user}> <@!{user}> <@&{role}> **loud** [click](https://evil.example/x) # heading"
)


def _quiet(message: Sent) -> None:
    assert message.pings == set()
    assert not message.pings_everyone
    assert not message.pings_roles
    assert "@everyone" not in message.markdown
    # Every "<@" left is broken by a zero-width space: no mention form survives, code spans included.
    assert not re.search("<@(?!\u200b)", message.markdown)


async def test_mentions_and_markdown_typed_by_people_never_ping_or_format(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    typed = INJECTION.format(user=world.bob.id, role=world.guild.id)
    await discord.reply(await discord.slash(world.ada, world.general, "announce", setting="on"))
    reply = await discord.reply(await discord.slash(world.ada, world.general, "oops", what=typed, goal=typed))
    (post,) = await discord.posted(world.general)
    status = await discord.reply(await discord.slash(world.ada, world.general, "status", misstep="1"))
    await discord.reply(await discord.slash(world.ada, world.general, "learned", misstep="1", lesson=typed))
    lessons = await discord.reply(await discord.slash(world.ada, world.general, "lessons"))

    for message in (reply, post, status, lessons):
        _quiet(message)
    assert typed in reply.text
    assert typed in post.text
    assert "\\[click\\]" in post.markdown
    assert "\\*\\*loud\\*\\*" in post.markdown
    assert status.embeds


async def test_a_display_name_cannot_ping_either(bot: App, discord: DiscordEmulator, world: World) -> None:
    sneaky = discord.add_user("@everyone", world.guild)
    await discord.reply(await discord.slash(world.ada, world.general, "announce", setting="on"))
    await discord.reply(await discord.slash(sneaky, world.general, "oops", what="the coffee machine broke"))
    (post,) = await discord.posted(world.general)
    assert "@everyone logged #1" in post.text
    _quiet(post)


async def test_a_mention_echoed_in_a_code_span_cannot_ping(
    bot: App, discord: DiscordEmulator, world: World
) -> None:
    # The usage error quotes what was typed in backticks: "I don't know the timezone `<@id>`".
    typed = f"<@{world.bob.id}>"
    reply = await discord.reply(await discord.slash(world.ada, world.general, "tz", zone=typed))
    assert "I don't know the timezone" in reply.text
    assert typed in reply.text
    assert reply.payload["allowed_mentions"]["users"] == []
    _quiet(reply)
