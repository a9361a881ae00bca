"""Nothing counts or shows twice. Slack retries Events API requests it got no ack for
(``X-Slack-Retry-Num``, over several minutes; never a slash command or an interaction), people
double-click and double-submit, and an answer lost on its way back from Slack is no reason to post
again: Slack drops no repeats."""

from __future__ import annotations

import time

import pytest

from adapters.fake import ManualClock
from bot.app import App
from bot.settings import Secret
from bot.storage.database import Database
from tests.emulators.slack import SlackEmulator, button, dm_channel, visible_text
from tests.slack.chat import open_form, say
from tests.slack.conftest import running, slack_settings
from tests.slack.test_lifecycle import slack_settles, stopped

pytestmark = pytest.mark.wire


async def test_a_double_clicked_button_counts_once(slack: SlackEmulator, bot: App) -> None:
    await say(slack, "oops the deploy skipped the migrations #deploys")
    await say(slack, "learned #1 migrations first")
    reply = (await slack.wait_for(lambda: slack.replies_to("U1")))[-1]
    before = len(slack.replies_to("U1"))
    await slack.command("oops the deploy skipped the migrations again #deploys")
    suggestion = (await slack.wait_for(lambda: slack.replies_to("U1")[before:]))[0]
    assert suggestion is not reply
    assert "This looks like #1" in visible_text(suggestion.blocks)
    same = button(suggestion.blocks, "Yes, same as #1")
    await slack.click(same, message=suggestion)
    await slack.click(same, message=suggestion)
    answers = await slack.wait_for(
        lambda: len(slack.replies_to("U1")) >= before + 3 and slack.replies_to("U1")
    )
    texts = [visible_text(r.blocks) for r in answers[before + 1 :]]
    assert sum("Linked #2" in t for t in texts) == 1
    assert sum("Already done" in t for t in texts) == 1
    story = await say(slack, "status #1")
    assert story.count("repeated by #2") == 1


async def test_a_double_submitted_form_logs_one_misstep(slack: SlackEmulator, bot: App) -> None:
    view_id = await open_form(slack, "oops")
    await slack.submit(view_id, {"what": "the backup was never tested", "depth": "fall"})
    await slack.submit(view_id, {"what": "the backup was never tested", "depth": "fall"})
    await slack.wait_for(
        lambda: len(slack.channel_posts(dm_channel("U1"))) + len(slack.replies_to("U1")) >= 2
    )
    assert "can't find #2" in await say(slack, "status #2")
    assert "the backup was never tested" in await say(slack, "status #1")


async def test_a_retried_uninstall_from_before_a_reinstall_leaves_the_workspace_running(
    slack: SlackEmulator, database: Database, database_url: str, clock: ManualClock
) -> None:
    async with running(slack_settings(database_url, slack), slack, clock):
        await say(slack, "oops the build broke")
    # The app is uninstalled while retro is unreachable: Slack's event gets no ack, and Slack
    # will retry it. Meanwhile the app is installed again, and retro restarted with the new token.
    uninstalled_at = int(time.time()) - 60
    settings = slack_settings(database_url, slack, slack_bot_token=Secret(slack.reinstall()))
    async with running(settings, slack, clock) as app:
        again = await slack.event(
            {"type": "app_uninstalled"}, event_id="Ev1", event_time=uninstalled_at, retry=1
        )
        assert again.status == 200
        await slack_settles(app)
        assert not await stopped(database, slack.team_id)
        assert "the build broke" in await say(slack, "status #1")


async def test_an_announcement_whose_answer_was_lost_is_not_posted_again(
    slack: SlackEmulator, bot: App
) -> None:
    await say(slack, "announce on")
    slack.fail("chat.postMessage", lost=True)  # Slack posts it, the answer never arrives
    await say(slack, "oops the staging database filled up")
    await slack_settles(bot)
    [announcement] = slack.channel_posts("C1")
    assert "the staging database filled up" in visible_text(announcement.blocks)
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_a_reply_whose_answer_was_lost_is_not_sent_again(slack: SlackEmulator, bot: App) -> None:
    slack.fail("response_url", lost=True)
    await say(slack, "oops the release tag was wrong")
    await slack_settles(bot)
    assert len(slack.replies_to("U1")) == 1
    assert len(slack.calls_to("response_url")) == 1
    assert slack.channel_posts(dm_channel("U1")) == []  # nor sent again another way
