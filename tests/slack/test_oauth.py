"""Many workspaces: installs through Slack's OAuth, the installation kept in our database."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import AsyncIterator
from html import unescape

import aiohttp
import pytest

from adapters.fake import ManualClock
from adapters.slack import SlackService
from bot.app import App
from bot.core.messages import Message, paragraph
from bot.core.model import TeamRef
from bot.core.ports import Destination, Outgoing, Rejected
from bot.settings import Secret
from bot.storage.database import Database
from tests.emulators.slack import SlackEmulator, dm_channel, visible_text
from tests.slack.conftest import running, slack_settings

pytestmark = pytest.mark.wire

NEW_TEAM = "T0002"


@pytest.fixture
async def oauth_bot(slack: SlackEmulator, database_url: str, clock: ManualClock) -> AsyncIterator[App]:
    settings = slack_settings(
        database_url,
        slack,
        slack_bot_token=None,
        slack_client_id=slack.client_id,
        slack_client_secret=Secret(slack.client_secret),
    )
    async with running(settings, slack, clock) as app:
        yield app


def service_of(app: App) -> SlackService:
    return next(s for s in app.services if isinstance(s, SlackService))


async def install(slack: SlackEmulator, app: App, team_id: str) -> str:
    """Someone clicks "Add to Slack", approves, and Slack redirects the browser back."""
    base = f"http://127.0.0.1:{service_of(app).port}"
    async with aiohttp.ClientSession() as browser:
        async with browser.get(f"{base}/slack/install", allow_redirects=False) as page:
            html = await page.text()
            cookie = page.cookies["slack-app-oauth-state"].value
        authorize_url = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', html)
        assert authorize_url is not None
        query = urllib.parse.parse_qs(urllib.parse.urlparse(unescape(authorize_url.group(1))).query)
        assert query["client_id"] == [slack.client_id]
        assert "commands" in query["scope"][0]
        code = slack.authorize(team_id)
        async with browser.get(
            f"{base}/slack/oauth_redirect",
            params={"code": code, "state": query["state"][0]},
            headers={"Cookie": f"slack-app-oauth-state={cookie}"},
        ) as done:
            assert done.status == 200, await done.text()
            return await done.text()


async def test_a_workspace_installs_and_then_uses_the_bot(slack: SlackEmulator, oauth_bot: App) -> None:
    slack.add_user("U9", "Lin", team_id=NEW_TEAM)
    await install(slack, oauth_bot, NEW_TEAM)
    assert slack.calls_to("oauth.v2.access")
    await slack.command("oops the first sprint overran", user="U9", team=NEW_TEAM)
    reply = await slack.wait_for(lambda: slack.replies_to("U9"))
    assert "Logged #1" in visible_text(reply[0].blocks)
    assert slack.calls_to("users.info")[-1].token == f"xoxb-emulator-{NEW_TEAM}"

    # Scheduled sends find the workspace's token in the installation store too.
    sender = service_of(oauth_bot).sender
    team = TeamRef("slack", NEW_TEAM, "C1")
    await sender.send(Outgoing(Destination(team, "U9"), Message(blocks=(paragraph("hello"),)), key="k1"))
    assert slack.channel_posts(dm_channel("U9"))
    with pytest.raises(Rejected, match="app_not_installed"):
        await sender.send(Outgoing(Destination(TeamRef("slack", "T0404", "C1")), Message(), key="k2"))


async def test_an_install_with_a_forged_state_is_refused(slack: SlackEmulator, oauth_bot: App) -> None:
    base = f"http://127.0.0.1:{service_of(oauth_bot).port}"
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(
            f"{base}/slack/oauth_redirect", params={"code": slack.authorize(NEW_TEAM), "state": "forged"}
        ) as page,
    ):
        assert page.status == 400
    assert not slack.calls_to("oauth.v2.access")


async def test_uninstalling_forgets_the_token_and_a_reinstall_resumes(
    slack: SlackEmulator, oauth_bot: App, database_url: str
) -> None:
    slack.add_user("U9", "Lin", team_id=NEW_TEAM)
    await install(slack, oauth_bot, NEW_TEAM)
    await slack.command("oops the first sprint overran", user="U9", team=NEW_TEAM)
    await slack.wait_for(lambda: slack.replies_to("U9"))
    await slack.event({"type": "app_uninstalled"}, team=NEW_TEAM)
    await service_of(oauth_bot).settle()
    database = Database.connect(database_url)
    try:
        async with database.unit_of_work() as uow:
            assert await uow.teams.workspace_stopped("slack", NEW_TEAM)
        assert await service_of(oauth_bot).token_for(NEW_TEAM) is None
        await install(slack, oauth_bot, NEW_TEAM)
        async with database.unit_of_work() as uow:
            assert not await uow.teams.workspace_stopped("slack", NEW_TEAM)
    finally:
        await database.close()
