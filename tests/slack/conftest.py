"""The bot, unmodified, against the local Slack emulator: `build_app` with Slack settings whose
``SLACK_API_URL`` points at the emulator, its HTTP endpoint on an ephemeral port of 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.fake import ManualClock
from adapters.slack import SlackService
from bot.app import App, build_app
from bot.settings import Secret, Settings
from tests.emulators.slack import SlackEmulator


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    emulator = SlackEmulator()
    await emulator.start()
    emulator.add_user("U1", "Ada", "Europe/Berlin")
    emulator.add_user("U2", "Grace", "America/New_York")
    yield emulator
    await emulator.stop()


def slack_settings(database_url: str, emulator: SlackEmulator, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "http_host": "127.0.0.1",
        "http_port": 0,
        "slack_bot_token": Secret(emulator.bot_token),
        "slack_signing_secret": Secret(emulator.signing_secret),
        "slack_api_url": emulator.api_url,
    }
    return Settings(**(values | overrides))


@contextlib.asynccontextmanager
async def running(settings: Settings, emulator: SlackEmulator, clock: ManualClock) -> AsyncIterator[App]:
    """`retro run` with these settings, until the block ends."""
    app = await build_app(settings, clock=clock)
    service = next(s for s in app.services if isinstance(s, SlackService))
    task = asyncio.create_task(app.run())
    ready = asyncio.create_task(service.ready.wait())
    await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
        task.result() if task.done() else pytest.fail("the Slack service did not start")
    if service.port:
        emulator.bot_url = f"http://127.0.0.1:{service.port}/slack/events"
    try:
        yield app
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def bot(slack: SlackEmulator, database_url: str, clock: ManualClock) -> AsyncIterator[App]:
    async with running(slack_settings(database_url, slack), slack, clock) as app:
        yield app


@pytest.fixture
async def oauth_bot(slack: SlackEmulator, database_url: str, clock: ManualClock) -> AsyncIterator[App]:
    """The bot for many workspaces: installs through Slack's OAuth, no bot token of its own."""
    settings = slack_settings(
        database_url,
        slack,
        slack_bot_token=None,
        slack_client_id=slack.client_id,
        slack_client_secret=Secret(slack.client_secret),
    )
    async with running(settings, slack, clock) as app:
        yield app
