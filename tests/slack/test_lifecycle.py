"""`app_uninstalled` and `tokens_revoked` stop all sends to the workspace and keep its data; the app
installed again (a new bot token) resumes them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from adapters.fake import ManualClock
from adapters.slack import SlackService
from bot.app import App, build_ticker
from bot.settings import Secret
from bot.storage.database import Database
from bot.storage.tables import MisstepRow, ScheduledItemRow
from tests.emulators.slack import SlackEmulator, dm_channel, visible_text
from tests.slack.chat import say
from tests.slack.conftest import running, slack_settings
from tests.slack.test_scheduled import due

pytestmark = pytest.mark.wire


async def stopped(db: Database, workspace: str) -> bool:
    async with db.unit_of_work() as uow:
        return await uow.teams.workspace_stopped("slack", workspace)


async def missteps(db: Database) -> int:
    async with db.unit_of_work() as uow:
        return await uow.session.scalar(select(func.count()).select_from(MisstepRow)) or 0


async def test_uninstalling_stops_sends_and_keeps_the_data(
    slack: SlackEmulator, bot: App, database: Database, database_url: str
) -> None:
    await say(slack, "oops the build broke")
    assert not await stopped(database, slack.team_id)
    first = await slack.event({"type": "app_uninstalled"}, event_id="Ev1")
    again = await slack.event({"type": "app_uninstalled"}, event_id="Ev1", retry=1)  # Slack's redelivery
    assert (first.status, again.status) == (200, 200)
    await slack_settles(bot)
    assert await stopped(database, slack.team_id)
    assert await missteps(database) == 1
    # The lesson prompt falls due: nothing goes out to the workspace.
    prompt_at = await due(database_url, "lesson_prompt")
    await build_ticker(
        bot.settings, bot.database, ManualClock(prompt_at), bot.senders, bot.engine.matcher
    ).tick()
    assert not [c for c in slack.calls if c.method in {"conversations.open", "chat.postMessage"}]
    async with database.unit_of_work() as uow:
        status, error = (
            await uow.session.execute(
                select(ScheduledItemRow.status, ScheduledItemRow.last_error).where(
                    ScheduledItemRow.kind == "lesson_prompt"
                )
            )
        ).one()
    assert status == "failed"
    assert "app_uninstalled" in error


async def test_a_revoked_user_token_changes_nothing_but_a_revoked_bot_token_stops_sends(
    slack: SlackEmulator, bot: App, database: Database
) -> None:
    await say(slack, "oops the build broke")
    await slack.event({"type": "tokens_revoked", "tokens": {"oauth": ["U1"], "bot": []}})
    await slack_settles(bot)
    assert not await stopped(database, slack.team_id)
    await slack.event({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}})
    await slack_settles(bot)
    assert await stopped(database, slack.team_id)
    assert await missteps(database) == 1


async def test_the_app_installed_again_with_a_new_token_resumes_sends(
    slack: SlackEmulator, database: Database, database_url: str, clock: ManualClock
) -> None:
    async with running(slack_settings(database_url, slack), slack, clock) as app:
        await say(slack, "oops the build broke")
        await slack.event({"type": "app_uninstalled"})
        await slack_settles(app)
    assert await stopped(database, slack.team_id)
    revoked = slack.bot_token
    new_token = slack.reinstall()
    # Restarted with the old token: Slack refuses it, so nothing proves the app is back.
    async with running(slack_settings(database_url, slack, slack_bot_token=Secret(revoked)), slack, clock):
        assert await stopped(database, slack.team_id)
    # Restarted with the new one: auth.test proves the install, and sends go out again.
    async with running(
        slack_settings(database_url, slack, slack_bot_token=Secret(new_token)), slack, clock
    ) as app:
        assert not await stopped(database, slack.team_id)
        prompt_at = await due(database_url, "lesson_prompt")
        await build_ticker(
            app.settings, app.database, ManualClock(prompt_at), app.senders, app.engine.matcher
        ).tick()
    [prompt] = slack.channel_posts(dm_channel("U1"))
    assert "What did #1 teach you?" in visible_text(prompt.blocks)


async def slack_settles(app: App) -> None:
    """Wait for the work the events started (it runs after the ack)."""
    service = next(s for s in app.services if isinstance(s, SlackService))
    await service.settle()
