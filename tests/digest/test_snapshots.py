"""Snapshots of the rendered digest: the full week, another timezone, a quiet week, a welcome.

See `snapshots/README.md` for how to update them (RETRO_UPDATE_SNAPSHOTS=1).
"""

from __future__ import annotations

import json
import os
import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.discord.translate import render as discord_render
from adapters.slack.translate import slack_messages
from bot.core.digest.chart import SIZE_PIXELS
from bot.core.digest.week import Week
from bot.core.digest.weekly import digest_for_week
from bot.core.messages import Message, render_plain
from bot.core.model import TeamRef
from bot.scheduling.policy import SchedulePolicy
from bot.storage.database import Database
from tests.digest.history import add_team, build_history

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("RETRO_UPDATE_SNAPSHOTS") == "1"

CASES = {
    # case: (timezone, week, now, with history)
    "week": ("UTC", Week(2026, 47), datetime(2026, 11, 23, 9, 0, tzinfo=UTC), True),
    "week-auckland": ("Pacific/Auckland", Week(2026, 47), datetime(2026, 11, 22, 20, 0, tzinfo=UTC), True),
    "so-far": ("UTC", Week(2026, 48), datetime(2026, 11, 25, 12, 0, tzinfo=UTC), True),
    "quiet": ("UTC", Week(2026, 49), datetime(2026, 12, 7, 9, 0, tzinfo=UTC), True),
    "welcome": ("UTC", Week(2026, 47), datetime(2026, 11, 23, 9, 0, tzinfo=UTC), False),
}


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"no snapshot {name}; create it with RETRO_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(), f"{name} changed; if that is meant, RETRO_UPDATE_SNAPSHOTS=1"


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    assert content[12:16] == b"IHDR"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


async def digest(database: Database, case: str) -> Message:
    timezone, week, now, with_history = CASES[case]
    team = await add_team(database, "platform", timezone, "Platform team")
    if with_history:
        await build_history(database, team)
    async with database.unit_of_work() as uow:
        return await digest_for_week(uow, team, week, now, check_after=SchedulePolicy().check_after)


@pytest.mark.parametrize("case", CASES)
async def test_terminal_rendering(database: Database, case: str) -> None:
    message = await digest(database, case)
    assert_snapshot(f"{case}.txt", render_plain(message) + "\n")
    for attachment in message.attachments:
        assert attachment.mime_type == "image/png"
        assert png_size(attachment.content) == SIZE_PIXELS
    assert bool(message.attachments) == (case != "welcome")


@pytest.mark.parametrize("case", CASES)
async def test_slack_block_kit(database: Database, case: str) -> None:
    message = await digest(database, case)
    payloads = [
        {"text": m.text, "blocks": m.blocks} for m in slack_messages(message, TeamRef("slack", "T1", "C1"))
    ]
    assert_snapshot(f"{case}.slack.json", json.dumps(payloads, indent=2, ensure_ascii=False) + "\n")


@pytest.mark.parametrize("case", CASES)
async def test_discord_embeds(database: Database, case: str) -> None:
    message = await digest(database, case)
    payloads = [
        {
            "content": part.content,
            "embeds": [embed.to_dict() for embed in part.embeds],
            "attachments": [attachment.filename for attachment in part.attachments],
        }
        for part in discord_render(message, "G1")
    ]
    assert_snapshot(f"{case}.discord.json", json.dumps(payloads, indent=2, ensure_ascii=False) + "\n")
