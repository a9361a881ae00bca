"""Requests are verified; nothing a person types can ping, link or format."""

from __future__ import annotations

import time

import pytest

from bot.app import App
from bot.storage.database import Database
from tests.emulators.slack import SlackEmulator, pings, visible_text
from tests.slack.chat import say
from tests.slack.test_lifecycle import missteps

pytestmark = pytest.mark.wire

INJECTION = (
    "<!channel> <!here> <!everyone> @here @channel <@U2> <#C9|general> <https://evil.example|click> "
    "*bold* _it_ ~gone~ `code` &amp; > quote"
)


async def test_a_bad_signature_is_refused_and_nothing_happens(
    slack: SlackEmulator, bot: App, database: Database
) -> None:
    delivery = await slack.command("oops forged", secret="not-the-signing-secret")
    assert delivery.status == 401
    assert [c.method for c in slack.calls] == ["auth.test"]  # only the start-up check of the token
    assert await missteps(database) == 0


async def test_a_stale_request_is_refused_as_a_replay(
    slack: SlackEmulator, bot: App, database: Database
) -> None:
    # Correctly signed, but six minutes old: outside Slack's 5-minute replay window.
    delivery = await slack.command("oops replayed", timestamp=int(time.time()) - 6 * 60)
    assert delivery.status == 401
    forged_click = await slack.deliver("interactive", {"type": "block_actions"}, secret="wrong")
    assert forged_click.status == 401
    forged_event = await slack.event({"type": "app_uninstalled"}, secret="wrong")
    assert forged_event.status == 401
    assert [c.method for c in slack.calls] == ["auth.test"]  # only the start-up check of the token
    assert await missteps(database) == 0


async def test_typed_mentions_and_markup_are_shown_as_text_and_never_ping(
    slack: SlackEmulator, bot: App
) -> None:
    await say(slack, "announce on")
    await say(slack, f"oops {INJECTION} goal: {INJECTION}")
    await say(slack, f"learned #1 {INJECTION} next time: {INJECTION}")
    await say(slack, "status #1")
    await say(slack, "lessons")
    await slack.wait_for(lambda: slack.channel_posts("C1"))
    shown = [m for m in slack.messages if "evil.example" in visible_text(m.blocks)]
    assert len(shown) >= 4  # the reply, the announcement, the lesson, the story, the list
    for message in slack.messages:
        assert pings(message.text, message.blocks) == [], visible_text(message.blocks)
    # Shown exactly as typed, markup characters included.
    story = next(m for m in slack.messages if "Misstep #1" in visible_text(m.blocks))
    assert "<!channel> <!here> <!everyone> @here @channel <@U2> <#C9|general>" in visible_text(story.blocks)
    assert "*bold* _it_ ~gone~ `code` &amp; > quote" in visible_text(story.blocks)
