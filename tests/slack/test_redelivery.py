"""Slack redelivers (``X-Slack-Retry-Num``) and people double-click: nothing is recorded twice."""

from __future__ import annotations

import pytest

from bot.app import App
from tests.emulators.slack import SlackEmulator, button, dm_channel, visible_text
from tests.slack.chat import open_form, say

pytestmark = pytest.mark.wire


async def test_a_redelivered_command_is_recorded_once(slack: SlackEmulator, bot: App) -> None:
    payload = slack.command_payload("oops the deploy broke")
    first = await slack.deliver("slash_commands", payload)
    again = await slack.deliver("slash_commands", payload, retry=1)
    assert (first.status, again.status) == (200, 200)
    replies = await slack.wait_for(lambda: len(slack.replies_to("U1")) == 2 and slack.replies_to("U1"))
    texts = sorted(visible_text(r.blocks) for r in replies)
    assert any("Logged #1" in t for t in texts)
    assert any("Already done" in t for t in texts)
    assert "the deploy broke" in await say(slack, "status #1")
    assert "can't find #2" in await say(slack, "status #2")


async def test_a_double_clicked_button_counts_once(slack: SlackEmulator, bot: App) -> None:
    await say(slack, "oops the deploy skipped the migrations #deploys")
    await say(slack, "learned #1 migrations first")
    reply = (await slack.wait_for(lambda: slack.replies_to("U1")))[-1]
    before = len(slack.replies_to("U1"))
    await slack.command("oops the deploy skipped the migrations again #deploys")
    suggestion = (await slack.wait_for(lambda: slack.replies_to("U1")[before:]))[0]
    assert suggestion is not reply
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


async def test_a_resubmitted_form_logs_one_misstep(slack: SlackEmulator, bot: App) -> None:
    view_id = await open_form(slack, "oops")
    await slack.submit(view_id, {"what": "the backup was never tested", "depth": "fall"})
    await slack.submit(view_id, {"what": "the backup was never tested", "depth": "fall"}, retry=1)
    await slack.wait_for(
        lambda: len(slack.channel_posts(dm_channel("U1"))) + len(slack.replies_to("U1")) >= 2
    )
    assert "can't find #2" in await say(slack, "status #2")
    assert "the backup was never tested" in await say(slack, "status #1")
