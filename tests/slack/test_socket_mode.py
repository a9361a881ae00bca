"""Socket Mode: with an app-level token the bot opens a WebSocket (``apps.connections.open``) and
takes the same commands, clicks and events as envelopes, acknowledging each by its id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.fake import ManualClock
from adapters.slack import SlackService
from bot.app import App
from bot.settings import Secret
from tests.emulators.slack import SlackEmulator, button, visible_text
from tests.slack.conftest import running, slack_settings

pytestmark = pytest.mark.wire


@pytest.fixture
async def socket_bot(slack: SlackEmulator, database_url: str, clock: ManualClock) -> AsyncIterator[App]:
    settings = slack_settings(
        database_url, slack, slack_app_token=Secret(slack.app_token), slack_signing_secret=None
    )
    async with running(settings, slack, clock) as app:
        yield app


async def test_commands_and_clicks_arrive_over_the_socket(slack: SlackEmulator, socket_bot: App) -> None:
    service = next(s for s in socket_bot.services if isinstance(s, SlackService))
    assert service.port is None  # no HTTP endpoint: nothing to expose to the internet
    assert slack.socket_connections == 1
    assert slack.calls_to("apps.connections.open")[0].token == slack.app_token

    ack = await slack.command("oops the deploy skipped the migrations #deploys")
    assert ack.status == 200
    await slack.wait_for(lambda: slack.replies_to("U1"))
    await slack.command("learned #1 migrations first")
    await slack.wait_for(lambda: len(slack.replies_to("U1")) == 2)
    await slack.command("oops the deploy skipped the migrations again #deploys")
    suggestion = (await slack.wait_for(lambda: len(slack.replies_to("U1")) == 3 and slack.replies_to("U1")))[
        -1
    ]
    await slack.click(button(suggestion.blocks, "Yes, same as #1"), message=suggestion)
    linked = await slack.wait_for(
        lambda: [r for r in slack.replies_to("U1") if "Linked #2" in visible_text(r.blocks)]
    )
    assert linked
    assert all(d.status == 200 for d in slack.deliveries)
    assert slack.socket_connections == 1
