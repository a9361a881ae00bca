"""The emulator enforces Discord's interaction rules, so a wire test that ends with no errors means
the bot kept them: a first response after 3 seconds is too late, a second acknowledgement fails,
followups need an acknowledged interaction, and oversized messages are refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.discord.conftest import World
from tests.emulators.discord import (
    APPLICATION_COMMAND,
    DEADLINE,
    DiscordEmulator,
    Interaction,
    snowflake,
)

pytestmark = pytest.mark.wire


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _pending(discord: DiscordEmulator, world: World, age: float = 0.0) -> Interaction:
    """An interaction Discord has sent, `age` seconds ago."""
    created = asyncio.get_running_loop().time() - age
    interaction = Interaction(
        snowflake(), "token", APPLICATION_COMMAND, world.ada, world.general, {}, created
    )
    discord.interactions[interaction.id] = interaction
    return interaction


async def _callback(
    http: aiohttp.ClientSession, discord: DiscordEmulator, interaction: Interaction, body: dict[str, object]
) -> tuple[int, dict[str, object]]:
    url = f"{discord.api_url}/interactions/{interaction.id}/{interaction.token}/callback"
    async with http.post(url, json=body) as response:
        return response.status, await response.json() if response.status != 204 else {}


async def test_a_first_response_after_the_deadline_is_unknown(
    discord: DiscordEmulator, world: World, http: aiohttp.ClientSession
) -> None:
    late = _pending(discord, world, age=DEADLINE + 0.5)
    status, body = await _callback(http, discord, late, {"type": 5})
    assert (status, body["code"]) == (404, 10062)


async def test_a_second_acknowledgement_fails(
    discord: DiscordEmulator, world: World, http: aiohttp.ClientSession
) -> None:
    interaction = _pending(discord, world)
    assert (await _callback(http, discord, interaction, {"type": 5, "data": {"flags": 64}}))[0] == 204
    status, body = await _callback(http, discord, interaction, {"type": 4, "data": {"content": "again"}})
    assert (status, body["code"]) == (400, 40060)


async def test_followups_need_an_acknowledged_interaction(
    discord: DiscordEmulator, world: World, http: aiohttp.ClientSession
) -> None:
    interaction = _pending(discord, world)
    url = f"{discord.api_url}/webhooks/{discord.application_id}/{interaction.token}"
    async with http.post(url, json={"content": "too early"}) as response:
        assert (response.status, (await response.json())["code"]) == (404, 10015)
    await _callback(http, discord, interaction, {"type": 5, "data": {"flags": 64}})
    async with http.post(url, json={"content": "now"}) as response:
        assert response.status == 204
    (reply,) = interaction.messages
    assert reply.ephemeral


@pytest.mark.parametrize(
    "data",
    [
        {"content": "x" * 2001},
        {"embeds": [{"description": "x" * 4097}]},
        {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
        {"embeds": [{"description": "x" * 4000}, {"description": "x" * 2001}]},
        {"embeds": [{"title": "t"}] * 11},
        {
            "content": "hi",
            "components": [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "x" * 101}]}],
        },
        {},
    ],
)
async def test_messages_beyond_discords_limits_are_refused(
    discord: DiscordEmulator, world: World, http: aiohttp.ClientSession, data: dict[str, object]
) -> None:
    interaction = _pending(discord, world)
    status, body = await _callback(http, discord, interaction, {"type": 4, "data": data})
    assert status == 400
    assert body["code"] in (50035, 50006)
    assert not interaction.acknowledged
