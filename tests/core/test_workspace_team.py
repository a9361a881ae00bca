"""Where a workspace's team lives, for platforms where a workspace is one team (Discord), and
moving it to another channel with its history."""

from __future__ import annotations

import pytest

from adapters.fake import FakeChat
from bot.core.engine import Engine
from bot.core.model import TeamRef


async def test_a_workspace_team_is_found_from_any_channel_and_moves_with_its_history(
    engine: Engine, chat: FakeChat
) -> None:
    assert await engine.workspace_team("fake", "W1") is None
    await chat.say("ada", "oops the deploy broke")
    assert await engine.workspace_team("fake", "W1") == chat.team
    assert await engine.workspace_team("fake", "W2") is None

    moved = await engine.move_team(chat.team, "C7", "retro")
    assert moved == TeamRef("fake", "W1", "C7")
    assert await engine.workspace_team("fake", "W1") == moved
    there = FakeChat(engine, "W1", "C7")
    assert "the deploy broke" in await there.say("bob", "status #1")

    with pytest.raises(ValueError, match="no team"):
        await engine.move_team(chat.team, "C8", "elsewhere")
