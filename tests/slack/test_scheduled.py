"""What the bot sends on its own, end to end through Slack: the lesson prompt and the follow-up
check arrive as DMs with buttons (delivered by `retro tick`, a separate process, as cron would
run it), and a digest that meets a 429 is delivered once, after Slack's Retry-After, or, when the 429
comes after the digest was posted (sharing its chart), is never posted again."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from adapters.fake import ManualClock
from bot.app import App, build_ticker
from bot.storage.database import Database
from bot.storage.tables import ScheduledItemRow
from tests.emulators.slack import SlackEmulator, button, dm_channel, visible_text
from tests.slack.chat import form_opened, reply_with, say

pytestmark = pytest.mark.wire


async def status_of(database_url: str, kind: str) -> str:
    """The status of the first item of `kind` (the next week's is planned once it is settled)."""
    database = Database.connect(database_url)
    try:
        async with database.unit_of_work() as uow:
            found = await uow.session.scalar(
                select(ScheduledItemRow.status)
                .where(ScheduledItemRow.kind == kind)
                .order_by(ScheduledItemRow.due_at)
                .limit(1)
            )
    finally:
        await database.close()
    assert found is not None, f"no item of kind {kind}"
    return found


async def due(database_url: str, kind: str) -> datetime:
    """When the pending item of `kind` is due."""
    database = Database.connect(database_url)
    try:
        async with database.unit_of_work() as uow:
            found = await uow.session.scalar(
                select(ScheduledItemRow.due_at).where(
                    ScheduledItemRow.kind == kind, ScheduledItemRow.status == "pending"
                )
            )
    finally:
        await database.close()
    assert found is not None, f"nothing pending of kind {kind}"
    return found


async def retro_tick(slack: SlackEmulator, database_url: str, now: datetime, home: Path) -> str:
    """`retro tick --now ...` in its own process, configured the way a cron job would be."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "RETRO_DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "tick",
        "--now",
        now.isoformat(),
        env=env,
        cwd=Path(__file__).parents[2],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return err.decode()


async def test_the_lesson_prompt_and_the_check_arrive_as_dms_with_buttons(
    slack: SlackEmulator, bot: App, database_url: str, tmp_path: Path
) -> None:
    logged = await say(slack, "oops setback the release notes went out with the wrong version #release")
    assert "Logged #1" in logged

    # The prompt is due the next working morning in Ada's timezone (Europe/Berlin, from users.info).
    prompt_at = await due(database_url, "lesson_prompt")
    assert prompt_at.astimezone(ZoneInfo("Europe/Berlin")).hour == 9
    await retro_tick(slack, database_url, prompt_at + timedelta(minutes=1), tmp_path)
    [prompt] = slack.channel_posts(dm_channel("U1"))
    assert [c.method for c in slack.calls[-2:]] == ["conversations.open", "chat.postMessage"]
    assert "What did #1 teach you?" in visible_text(prompt.blocks)

    # "Add the lesson" opens the lesson form; saving it answers in the DM.
    await slack.click(button(prompt.blocks, "Add the lesson"), message=prompt)
    view_id = await form_opened(slack)
    await slack.submit(view_id, {"lesson": "check the version first", "next_time": "a release checklist"})
    await reply_with(slack, "Saved the lesson for #1")

    # Weeks later the follow-up check comes as a DM too; "It stuck" answers it.
    check_at = await due(database_url, "check")
    await retro_tick(slack, database_url, check_at + timedelta(minutes=1), tmp_path)
    check = slack.channel_posts(dm_channel("U1"))[-1]
    assert "Did the lesson from #1 stick?" in visible_text(check.blocks)
    await slack.click(button(check.blocks, "It stuck"), message=check)
    await reply_with(slack, "That lesson stuck")
    assert "learning" in await say(slack, "status #1")


async def test_a_digest_that_meets_a_rate_limit_is_delivered_once_after_the_wait(
    slack: SlackEmulator, bot: App, database_url: str
) -> None:
    await say(slack, "oops the build broke #ci")
    await say(slack, "learned #1 run the build before merging")  # no lesson prompt due, only the digest
    digest_at = await due(database_url, "digest")
    slack.fail("chat.postMessage", status=429, retry_after=30)
    ticker = build_ticker(
        bot.settings, bot.database, clock := ManualClock(digest_at), bot.senders, bot.engine.matcher
    )

    def attempts() -> list[bool]:
        return [c.ok for c in slack.calls if c.method == "chat.postMessage" and c.args.get("channel") == "C1"]

    await ticker.tick()
    assert attempts() == [False]  # Slack answered 429, Retry-After: 30

    clock.advance(seconds=20)  # too early: Slack said 30 s
    await ticker.tick()
    assert attempts() == [False]

    clock.advance(seconds=15)
    await ticker.tick()
    await ticker.tick()
    assert attempts() == [False, True]
    [digest] = slack.channel_posts("C1")
    assert "Weekly digest" in digest.text


async def a_digest_with_its_chart_due(slack: SlackEmulator, database_url: str) -> datetime:
    """A team whose one misstep has a decided outcome, so the digest carries the trend chart."""
    await say(slack, "oops the build broke #ci")
    await say(slack, "learned #1 run the build before merging")
    await say(slack, "check #1 stuck")
    return await due(database_url, "digest")


async def test_a_digest_whose_chart_meets_a_rate_limit_is_delivered_whole_once_after_the_wait(
    slack: SlackEmulator, bot: App, database_url: str
) -> None:
    digest_at = await a_digest_with_its_chart_due(slack, database_url)
    # The chart is uploaded before the digest is posted: its 429 leaves nothing out yet.
    slack.fail("files.getUploadURLExternal", status=429, retry_after=30)
    ticker = build_ticker(
        bot.settings, bot.database, clock := ManualClock(digest_at), bot.senders, bot.engine.matcher
    )
    await ticker.tick()
    assert slack.channel_posts("C1") == []
    clock.advance(seconds=35)
    await ticker.tick()
    [digest] = slack.channel_posts("C1")
    assert "Weekly digest" in digest.text
    assert [u.channel for u in slack.uploads.values()] == ["C1"]
    assert await status_of(database_url, "digest") == "sent"


async def test_a_digest_cut_short_after_it_was_posted_is_never_posted_again(
    slack: SlackEmulator, bot: App, database_url: str
) -> None:
    digest_at = await a_digest_with_its_chart_due(slack, database_url)
    # The digest is out; sharing its chart meets a 429. Slack can't drop a repeat: sending the
    # item again would show the digest twice.
    slack.fail("files.completeUploadExternal", status=429, retry_after=30)
    ticker = build_ticker(
        bot.settings, bot.database, clock := ManualClock(digest_at), bot.senders, bot.engine.matcher
    )
    await ticker.tick()
    clock.advance(hours=2)  # well past any retry
    await ticker.tick()
    assert len(slack.channel_posts("C1")) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert await status_of(database_url, "digest") == "unknown"
