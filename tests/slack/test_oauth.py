"""Many workspaces: installs through Slack's OAuth, the installation kept in our database."""

from __future__ import annotations

import re
import urllib.parse
from html import unescape

import aiohttp
import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation

from adapters.slack import SlackService
from adapters.slack.installations import DatabaseInstallationStore
from bot.app import App
from bot.core.messages import Message, paragraph
from bot.core.model import TeamRef
from bot.core.ports import Destination, Outgoing, Rejected
from bot.storage.database import Database
from tests.emulators.slack import SlackEmulator, Workspace, dm_channel, visible_text
from tests.slack.test_lifecycle import stopped

pytestmark = pytest.mark.wire

NEW_TEAM = "T0002"
GRID_TEAM, ORG = "T0003", "E0001"


def service_of(app: App) -> SlackService:
    return next(s for s in app.services if isinstance(s, SlackService))


async def install(slack: SlackEmulator, app: App, team_id: str, enterprise_id: str | None = None) -> str:
    """Someone clicks "Add to Slack", approves (in `team_id`, a workspace of the Enterprise Grid
    org `enterprise_id` if given), and Slack redirects the browser back."""
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
        code = slack.authorize(team_id, enterprise_id=enterprise_id)
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
    slack: SlackEmulator, oauth_bot: App, database: Database
) -> None:
    slack.add_user("U9", "Lin", team_id=NEW_TEAM)
    await install(slack, oauth_bot, NEW_TEAM)
    await slack.command("oops the first sprint overran", user="U9", team=NEW_TEAM)
    await slack.wait_for(lambda: slack.replies_to("U9"))
    await slack.event({"type": "app_uninstalled"}, team=NEW_TEAM)
    await service_of(oauth_bot).settle()
    assert await stopped(database, NEW_TEAM)
    assert await service_of(oauth_bot).token_for(NEW_TEAM) is None
    await install(slack, oauth_bot, NEW_TEAM)
    assert not await stopped(database, NEW_TEAM)
    await slack.command("status #1", user="U9", team=NEW_TEAM)
    reply = await slack.wait_for(lambda: slack.replies_to("U9")[1:])
    assert "the first sprint overran" in visible_text(reply[0].blocks)


async def test_requests_are_authorized_without_asking_slack(slack: SlackEmulator, oauth_bot: App) -> None:
    slack.add_user("U9", "Lin", team_id=NEW_TEAM)
    await install(slack, oauth_bot, NEW_TEAM)
    # Bolt's own authorization called auth.test before every ack: a 429 there held the ack for
    # the Retry-After. The install recorded what auth.test would say.
    slack.fail("auth.test", status=429, retry_after=5)
    await slack.command("oops the first sprint overran", user="U9", team=NEW_TEAM)
    reply = await slack.wait_for(lambda: slack.replies_to("U9"))
    assert "Logged #1" in visible_text(reply[0].blocks)
    assert slack.failures["auth.test"], "auth.test was called"


async def test_installs_by_other_processes_sharing_the_database_are_seen(
    slack: SlackEmulator, oauth_bot: App, database_url: str
) -> None:
    slack.add_user("U9", "Lin", team_id=NEW_TEAM)
    elsewhere = Database.connect(database_url)
    try:
        # Another retro process on the same database takes the install.
        other = DatabaseInstallationStore(elsewhere)
        await other.async_save(installation(NEW_TEAM, "xoxb-first"))
        slack.workspaces["xoxb-first"] = Workspace(NEW_TEAM, "Installed", "xoxb-first")
        await slack.command("oops the first sprint overran", user="U9", team=NEW_TEAM)
        await slack.wait_for(lambda: slack.replies_to("U9"))
        assert slack.calls_to("users.info")[-1].token == "xoxb-first"
        # It is installed again there, with a new token: this process sees it once it re-reads.
        await other.async_save(installation(NEW_TEAM, "xoxb-second"))
        slack.workspaces["xoxb-second"] = slack.workspaces.pop("xoxb-first")
        await service_of(oauth_bot).installations.load()  # what it does every minute
        slack.add_user("U8", "Kai", team_id=NEW_TEAM)  # not yet in retro's users.info cache
        await slack.command("status #1", user="U8", team=NEW_TEAM)
        await slack.wait_for(lambda: slack.replies_to("U8"))
        assert slack.calls_to("users.info")[-1].token == "xoxb-second"
    finally:
        await elsewhere.close()


async def test_a_workspace_of_an_enterprise_grid_org_gets_its_scheduled_sends(
    slack: SlackEmulator, oauth_bot: App
) -> None:
    slack.add_user("U7", "Mo", team_id=GRID_TEAM)
    await install(slack, oauth_bot, GRID_TEAM, enterprise_id=ORG)
    await slack.command("oops the single sign-on certificate expired", user="U7", team=GRID_TEAM)
    reply = await slack.wait_for(lambda: slack.replies_to("U7"))
    assert "Logged #1" in visible_text(reply[0].blocks)
    # A scheduled send knows only the workspace; the install is kept under the org's id too.
    team = TeamRef("slack", GRID_TEAM, "C1")
    prompt = Message(blocks=(paragraph("What did #1 teach you?"),))
    await service_of(oauth_bot).sender.send(Outgoing(Destination(team, "U7"), prompt, key="k1"))
    [sent] = slack.channel_posts(dm_channel("U7"))
    assert "What did #1 teach you?" in visible_text(sent.blocks)
    assert slack.calls_to("chat.postMessage")[-1].token == f"xoxb-emulator-{GRID_TEAM}"


def installation(team_id: str, token: str) -> Installation:
    """A bot installation as Bolt's OAuth flow saves it."""
    return Installation(
        app_id="A0001",
        enterprise_id=None,
        team_id=team_id,
        bot_token=token,
        bot_id="B0001",
        bot_user_id="UBOT",
        bot_scopes="commands,chat:write",
        user_id="U9",
    )
