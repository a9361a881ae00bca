"""A slow database never makes Slack wait: the ack goes out first, the answer when the work is done.

The database is made slow for real, not by patching: another connection holds the write lock
(SQLite) or exclusive locks on the tables involved (PostgreSQL) while Slack sends the command, so
the bot's unit of work waits on the database itself. With one bot token or many workspaces
installed through OAuth alike: an installation is looked up before the ack, from memory.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager

import pytest

from bot.app import App
from tests.conftest import locked
from tests.emulators.slack import TRIGGER_SECONDS, SlackEmulator, visible_text
from tests.slack.test_oauth import NEW_TEAM, install

pytestmark = pytest.mark.wire


def database_held(database_url: str) -> AbstractAsyncContextManager[None]:
    """The tables a Slack request touches before and after its ack, held."""
    return locked(database_url, "teams", "slack_installations")


async def test_the_ack_comes_before_the_slow_work(slack: SlackEmulator, bot: App, database_url: str) -> None:
    async with database_held(database_url):
        delivery = await slack.command("oops the deploy broke")
        assert delivery.status == 200
        await asyncio.sleep(1.0)
        assert slack.replies_to("U1") == []  # the bot is still waiting for the database
        released = time.monotonic()
    reply = await slack.wait_for(lambda: slack.calls_to("response_url"), within=30)
    assert delivery.answered_at < released < reply[0].at
    assert "Logged #1" in visible_text(slack.replies_to("U1")[0].blocks)


async def test_a_form_opens_in_time_even_when_the_database_is_slower_than_the_trigger(
    slack: SlackEmulator, bot: App, database_url: str
) -> None:
    async with database_held(database_url):
        delivery = await slack.command("oops")
        # Slack's trigger expires after 3 s; the database stays locked longer than that.
        await asyncio.sleep(TRIGGER_SECONDS + 0.5)
        released = time.monotonic()
    update = await slack.wait_for(lambda: slack.calls_to("views.update"), within=30)
    opened = slack.calls_to("views.open")
    assert delivery.answered_at < released
    assert opened[0].at < released < update[0].at
    view = slack.views[update[0].args["view_id"]]
    assert view["title"]["text"] == "Log a misstep"


async def test_with_many_workspaces_the_ack_comes_before_the_slow_work(
    slack: SlackEmulator, oauth_bot: App, database_url: str
) -> None:
    slack.add_user("U9", "Lin", team_id=NEW_TEAM)
    await install(slack, oauth_bot, NEW_TEAM)
    async with database_held(database_url):
        delivery = await slack.command("oops the deploy broke", user="U9", team=NEW_TEAM)
        assert delivery.status == 200
        released = time.monotonic()
    reply = await slack.wait_for(lambda: slack.calls_to("response_url"), within=30)
    assert delivery.answered_at < released < reply[0].at
    assert "Logged #1" in visible_text(slack.replies_to("U9")[0].blocks)
