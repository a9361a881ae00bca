"""The Slack adapter as a service: Bolt's `AsyncApp` in HTTP mode (``POST /slack/events``, requests
verified with the signing secret) or Socket Mode (when an app-level token is set).

Every listener acknowledges first and works after: Bolt answers Slack the moment `ack()` is
called, and the work (asking the engine, replying) runs in a task of its own, so a slow database
never makes Slack show "operation timed out". A form has a tighter deadline still (its trigger
expires 3 seconds after the click), so when a command or button asks for a form, a placeholder
modal opens at once and the form replaces it when the engine answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.exc import SQLAlchemyError

from adapters.slack.installations import (
    DatabaseInstallationStore,
    DatabaseOAuthStateStore,
    InstalledBotAuthorize,
)
from adapters.slack.people import People
from adapters.slack.sender import NETWORK, NoRepeatedPosts, SlackSender, error_code
from adapters.slack.translate import (
    ACTION_PREFIX,
    FORM_CALLBACK,
    PLATFORM,
    FormContext,
    SlackMessage,
    action_invocation,
    clicked_button,
    command_invocation,
    decode_form_context,
    fallback_text,
    form_view,
    home_view,
    message_view,
    placeholder_view,
    slack_messages,
    submission_error,
    team_id_of,
    user_of,
    view_invocation,
)
from bot.core.engine import Engine
from bot.core.forms import requests_form
from bot.core.messages import Message, Reply
from bot.core.model import TeamRef
from bot.core.ports import Invocation
from bot.core.text import markup
from bot.settings import Settings, SettingsError
from bot.storage.database import Database, is_sqlite

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
BOT_SCOPES = ("commands", "chat:write", "chat:write.public", "im:write", "users:read", "files:write")
"""The scopes the manifest (config/slack-manifest.yaml) asks for; OAuth installs ask for the same."""
SQLITE_CONCURRENCY = 1
"""Commands the engine works on at once on SQLite: each unit of work takes its one write lock when
it begins (BEGIN IMMEDIATE), so more at once only wait for it while taking the loop's time from
acks (bench/slack.py: as many answers a second with 1 as with 8, and more acks)."""
SERVER_CONCURRENCY = 8
"""The same on PostgreSQL, within SQLAlchemy's default connection pool (5 + 10 overflow)."""
SHUTDOWN_GRACE = 5.0
"""Seconds in-flight work gets to finish when the service stops."""
INSTALLATIONS_REFRESH = 60.0
"""Seconds between re-reads of the installations (OAuth mode): what other processes sharing the
database installed or uninstalled reaches this one's memory within that time."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where the answer to one request goes."""

    team: TeamRef
    user_id: str
    response_url: str | None = None
    """Slack's URL for ephemeral replies to this command or click, when it gave one."""
    trigger_id: str | None = None


class SlackService:
    """Runs the Bolt app until cancelled. `ready` is set once it listens; `port` is then the
    HTTP port actually bound (useful with port 0)."""

    name = "slack"

    def __init__(self, engine: Engine, settings: Settings, database: Database) -> None:
        check_settings(settings)
        self.engine = engine
        self.settings = settings
        self.people = People()
        self.ready = asyncio.Event()
        self.port: int | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._engine_slots = asyncio.Semaphore(
            SQLITE_CONCURRENCY if is_sqlite(settings.database_url) else SERVER_CONCURRENCY
        )
        self._session: aiohttp.ClientSession | None = None
        bot_token = settings.slack_bot_token.reveal() if settings.slack_bot_token else None
        self._bot_token = bot_token
        self.installations = None if bot_token else DatabaseInstallationStore(database)
        self._installed_since: float | None = None
        """Single-token mode: when ``auth.test`` last proved the app installed (Unix time)."""
        self.app = AsyncApp(
            name="retro",
            # Bolt would otherwise set its loggers to the root logger's level, and at DEBUG they
            # dump request and response bodies (what people typed); bot.logs holds this one lower.
            logger=logging.getLogger("slack_bolt"),
            token=bot_token,
            signing_secret=settings.slack_signing_secret.reveal() if settings.slack_signing_secret else "",
            # Our listeners ack first and hand the work to a task of their own (see `_spawn`), so
            # Bolt may wait for them: this answers Slack as soon as ack() ran, without Bolt's
            # 10 ms polling for the ack, and keeps every piece of work tracked and awaited on stop.
            process_before_response=True,
            installation_store=self.installations,
            installation_store_bot_only=True if self.installations is not None else None,
            # Bolt's default reads the database and calls auth.test before every ack.
            authorize=InstalledBotAuthorize(self.installations) if self.installations is not None else None,
            oauth_settings=self._oauth_settings(database),
        )
        # Bolt's own client (its OAuth flow and authorization share it), pointed at SLACK_API_URL.
        # Interactive replies retry a 429 after Slack's Retry-After (twice at most: a 429 posted
        # nothing) and a dropped connection once, unless that could post a message twice (Slack
        # drops no repeats); scheduled sends go through SlackSender, which leaves retrying to the
        # delivery layer.
        self.app.client.base_url = settings.slack_api_url
        self.app.client.retry_handlers = [
            NoRepeatedPosts(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ]
        self.sender = SlackSender(self.token_for, settings.slack_api_url)
        self.app.command("/retro")(self._on_command)
        self.app.action(re.compile(f"^{re.escape(ACTION_PREFIX)}"))(self._on_action)
        self.app.view(FORM_CALLBACK)(self._on_submission)
        self.app.event("app_home_opened")(self._on_home_opened)
        self.app.event("app_uninstalled")(self._on_uninstalled)
        self.app.event("tokens_revoked")(self._on_tokens_revoked)

    def _oauth_settings(self, database: Database) -> AsyncOAuthSettings | None:
        client_id, client_secret = self.settings.slack_client_id, self.settings.slack_client_secret
        if self.installations is None or client_id is None or client_secret is None:
            return None
        return AsyncOAuthSettings(
            client_id=client_id,
            client_secret=client_secret.reveal(),
            scopes=list(BOT_SCOPES),
            redirect_uri=self.settings.slack_redirect_uri,
            installation_store=self.installations,
            installation_store_bot_only=True,
            state_store=DatabaseOAuthStateStore(database),
        )

    async def token_for(self, workspace: str) -> str | None:
        """The bot token for a workspace: the one token, or the workspace's installation."""
        if self.installations is None:
            return self._bot_token
        return await self.installations.bot_token(workspace)

    # -- running ---------------------------------------------------------------------------

    @property
    def socket_mode(self) -> bool:
        """Whether Slack's requests come over a Socket Mode connection (an app-level token is
        set) rather than to the HTTP endpoint."""
        return self.settings.slack_app_token is not None

    async def run(self) -> None:
        """Serve Slack until cancelled: the HTTP endpoint (HTTP mode, and the install pages in
        OAuth mode) and/or the Socket Mode connection; on cancel, stop taking requests and let
        the work already acknowledged finish (up to `SHUTDOWN_GRACE`)."""
        runner: web.AppRunner | None = None
        handler: AsyncSocketModeHandler | None = None
        refresh: asyncio.Task[None] | None = None
        # One connection pool for every Web API call and response_url post (Bolt's per-request
        # clients copy the app client's session), instead of a new session per call.
        self._session = self.app.client.session = aiohttp.ClientSession()
        try:
            if self.installations is not None:
                await self.installations.load()
                refresh = asyncio.create_task(self._refresh_installations())
            else:
                await self._claim_workspace()
            # HTTP serves the events in HTTP mode, and the install pages whenever OAuth is on.
            if not self.socket_mode or self.installations is not None:
                runner = web.AppRunner(self.app.web_app(path=EVENTS_PATH), access_log=None)
                await runner.setup()
                await web.TCPSite(runner, self.settings.http_host, self.settings.http_port).start()
                self.port = runner.addresses[0][1]
                log.info("slack: listening on port %s (POST %s)", self.port, EVENTS_PATH)
            if self.socket_mode:
                assert self.settings.slack_app_token is not None
                handler = AsyncSocketModeHandler(self.app, self.settings.slack_app_token.reveal())
                await handler.connect_async()
                log.info("slack: connected in Socket Mode")
            self.ready.set()
            await asyncio.Event().wait()
        finally:
            # Stop taking requests, let the work already acknowledged finish, then disconnect.
            if handler is not None:
                await handler.close_async()
            if runner is not None:
                await runner.cleanup()
            if refresh is not None:
                refresh.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refresh
            await self._drain()
            await self._session.close()

    async def _claim_workspace(self) -> None:
        """With one bot token, a token that works proves the app installed in its workspace, so
        sends there resume: after `app_uninstalled` or `tokens_revoked`, Slack's reinstall comes
        back as a new SLACK_BOT_TOKEN and a restart, not as an OAuth install."""
        try:
            identity = await self.app.client.auth_test()
        except SlackApiError as error:
            log.error("slack: the bot token does not work (%s): is the app installed?", error_code(error))
            return
        except NETWORK as error:
            log.warning("slack: could not check the bot token (network: %s)", type(error).__name__)
            return
        self._installed_since = time.time()
        await self.engine.resume_workspace(PLATFORM, identity["team_id"])

    async def _refresh_installations(self) -> None:
        assert self.installations is not None
        while True:
            await asyncio.sleep(INSTALLATIONS_REFRESH)
            try:
                await self.installations.load()
            except (SQLAlchemyError, OSError) as error:
                # The memory stays as it was; the next round tries again.
                log.warning("slack: could not re-read the installations (%s)", type(error).__name__)

    def _spawn(self, work: Coroutine[Any, Any, None], what: str) -> None:
        task = asyncio.create_task(self._guarded(work, what))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _ask(self, invocation: Invocation) -> Reply:
        """The engine's answer, a few at a time: a burst of commands queues here, after its acks
        went out, rather than piling up on the database and its connection pool."""
        async with self._engine_slots:
            return await self.engine.handle(invocation)

    async def _guarded(self, work: Coroutine[Any, Any, None], what: str) -> None:
        try:
            await work
        except SlackApiError as error:
            log.error("slack: %s failed: %s", what, error_code(error))
        except NETWORK as error:
            log.error("slack: %s failed: network: %s", what, type(error).__name__)
        except Exception:
            log.exception("slack: %s failed", what)

    async def settle(self) -> None:
        """Wait until the work already started (replies, home views, ...) is done."""
        while self._tasks:
            await asyncio.gather(*set(self._tasks), return_exceptions=True)

    async def _drain(self) -> None:
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # -- listeners: ack, then work in a task -----------------------------------------------

    async def _on_command(self, ack: Any, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        self._spawn(self._command(body, context.client), "/retro")

    async def _on_action(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        self._spawn(self._action(body, action, context.client), "button")

    async def _on_submission(self, ack: Any, body: dict[str, Any], context: AsyncBoltContext) -> None:
        # Checking the inputs is pure and quick, so a typo is shown under its input, inside the
        # still-open modal, with everything typed kept; anything else closes it and answers after.
        problem = submission_error(body)
        if problem is not None:
            await ack(response_action="errors", errors={problem.input: problem.message})
            return
        await ack()
        self._spawn(self._submission(body, context.client), "form")

    async def _on_home_opened(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("tab") == "home":
            self._spawn(self._home(body["team_id"], event["user"], context.client), "app home")

    async def _on_uninstalled(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        self._spawn(self._stop(body, "app_uninstalled", context), "app_uninstalled")

    async def _on_tokens_revoked(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        # Only the bot's own token matters: the app keeps no user tokens.
        if event.get("tokens", {}).get("bot"):
            self._spawn(self._stop(body, "tokens_revoked", context), "tokens_revoked")

    # -- the work --------------------------------------------------------------------------

    async def _command(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        text = body.get("text") or ""
        placeholder = await self._placeholder(client, body["trigger_id"]) if requests_form(text) else None
        user_id, handle = user_of(body)
        actor = await self.people.actor(client, body["team_id"], user_id, handle)
        invocation = command_invocation(body, actor)
        target = Target(invocation.team, user_id, body.get("response_url"), body.get("trigger_id"))
        await self._deliver(client, await self._ask(invocation), target, placeholder)

    async def _action(self, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        try:
            button = clicked_button(body, action)
        except ValueError as error:
            log.warning("slack: ignored a click: %s", error)
            return
        placeholder = await self._placeholder(client, body["trigger_id"]) if button.form else None
        user_id, handle = user_of(body)
        actor = await self.people.actor(client, button.workspace, user_id, handle)
        invocation = action_invocation(body, action, button, actor)
        target = Target(invocation.team, user_id, body.get("response_url"), body.get("trigger_id"))
        await self._deliver(client, await self._ask(invocation), target, placeholder)

    async def _submission(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        form = decode_form_context(body["view"].get("private_metadata") or "")
        if team_id_of(body) not in (None, form.workspace):
            log.warning("slack: ignored a form of another workspace")
            return
        user_id, handle = user_of(body)
        actor = await self.people.actor(client, form.workspace, user_id, handle)
        invocation = view_invocation(body, form, actor)
        target = Target(invocation.team, user_id, form.response_url)
        await self._deliver(client, await self._ask(invocation), target, None)

    async def _home(self, team_id: str, user_id: str, client: AsyncWebClient) -> None:
        async with self._engine_slots:
            home = await self.engine.home(PLATFORM, team_id, user_id)
        await client.views_publish(user_id=user_id, view=home_view(home))

    async def _stop(self, body: dict[str, Any], reason: str, context: AsyncBoltContext) -> None:
        """The app left the workspace: stop sending there, keep its data until an admin deletes it
        (`retro workspace delete`), and forget its token. Unless the event is older than the
        install in use: Slack retries an event it got no ack for over several minutes, so one
        sent while the bot was unreachable can arrive after the app was installed again."""
        team_id = body["team_id"]
        installed = await self._installed_at(team_id, context.enterprise_id)
        if installed is not None and body.get("event_time", 0) < int(installed):
            log.info("slack: ignored %s sent before the app was installed again", reason)
            return
        await self.engine.stop_workspace(PLATFORM, team_id, reason)
        if self.installations is not None:
            await self.installations.async_delete_bot(enterprise_id=context.enterprise_id, team_id=team_id)

    async def _installed_at(self, team_id: str, enterprise_id: str | None) -> float | None:
        """When the app was last known installed in the workspace (Unix time), if it is."""
        if self.installations is None:
            return self._installed_since
        bot = await self.installations.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
        return bot.installed_at if bot is not None else None

    async def _placeholder(self, client: AsyncWebClient, trigger_id: str) -> str | None:
        try:
            opened = await client.views_open(trigger_id=trigger_id, view=placeholder_view())
        except SlackApiError as error:
            log.warning("slack: could not open a modal: %s", error_code(error))
            return None
        return opened["view"]["id"]

    # -- replies ---------------------------------------------------------------------------

    async def _deliver(
        self, client: AsyncWebClient, reply: Reply, target: Target, placeholder: str | None
    ) -> None:
        """Send the engine's reply: a form as a modal, private messages to the caller only,
        announcements to the team's channel."""
        private: Sequence[Message] = reply.private
        if reply.form is not None:
            context = FormContext(
                target.team.workspace, target.team.channel, reply.form.command, target.response_url
            )
            view = form_view(reply.form, context)
            try:
                if placeholder is not None:
                    await client.views_update(view_id=placeholder, view=view)
                else:
                    await client.views_open(trigger_id=target.trigger_id, view=view)
            except SlackApiError as error:
                # Typically a trigger that expired before the placeholder could open.
                log.warning("slack: could not open the form: %s", error_code(error))
                word = reply.form.command.split()[0]
                private = [
                    markup(f"I couldn't open the form. Please try again, or type it: `/retro help {word}`.")
                ]
        elif placeholder is not None:
            # A form was asked for but the answer is a message ("I can't find #9"): show it where
            # the person is looking.
            await client.views_update(view_id=placeholder, view=message_view(private, target.team))
            private = ()
        for message in private:
            await self._tell(client, target, message)
        for message in reply.announcements:
            await self._announce(client, target, message)

    async def _tell(self, client: AsyncWebClient, target: Target, message: Message) -> None:
        """An ephemeral reply through the request's response_url; a DM when there is none (App Home,
        modals) or it has expired. Files go to the person's DM: an export is theirs, not the channel's."""
        chunks = slack_messages(message, target.team)
        sent = await self._respond(target.response_url, chunks) if target.response_url else 0
        if sent == len(chunks) and not message.attachments:
            return
        dm = await self._dm_channel(client, target.user_id)
        for chunk in chunks[sent:]:
            await client.chat_postMessage(channel=dm, text=chunk.text, blocks=chunk.blocks)
        for attachment in message.attachments:
            await client.files_upload_v2(
                channel=dm,
                content=attachment.content,
                filename=attachment.filename,
                title=attachment.filename,
                initial_comment=fallback_text(message),
            )

    async def _respond(self, response_url: str, chunks: Sequence[SlackMessage]) -> int:
        # Its default retry handler would repeat a reply whose answer was lost: shown twice.
        webhook = AsyncWebhookClient(response_url, session=self._session, retry_handlers=[NoRepeatedPosts()])
        for sent, chunk in enumerate(chunks):
            response = await webhook.send(
                text=chunk.text, blocks=chunk.blocks, response_type="ephemeral", replace_original=False
            )
            if response.status_code != 200:
                log.info("slack: response_url answered %s; replying by DM", response.status_code)
                return sent
        return len(chunks)

    async def _dm_channel(self, client: AsyncWebClient, user_id: str) -> str:
        opened = await client.conversations_open(users=user_id)
        return opened["channel"]["id"]

    async def _announce(self, client: AsyncWebClient, target: Target, message: Message) -> None:
        try:
            for chunk in slack_messages(message, target.team):
                await client.chat_postMessage(
                    channel=target.team.channel, text=chunk.text, blocks=chunk.blocks
                )
        except SlackApiError as error:
            code = error_code(error)
            log.warning("slack: could not post in the channel: %s", code)
            note = markup(
                f"I couldn't post that in the channel (Slack said `{code}`). "
                "Invite me with `/invite @retro`, or turn announcements off with `/retro announce off`."
            )
            await self._tell(client, target, note)


def check_settings(settings: Settings) -> None:
    """Stop start-up with one clear line when the Slack settings can't work together."""
    oauth = settings.slack_client_id is not None and settings.slack_client_secret is not None
    if settings.slack_bot_token is None and not oauth:
        raise SettingsError(
            "Slack needs SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
            "(workspaces install through OAuth)"
        )
    if settings.slack_signing_secret is None and (settings.slack_app_token is None or oauth):
        raise SettingsError(
            "SLACK_SIGNING_SECRET is needed to verify Slack's requests over HTTP "
            "(or set SLACK_APP_TOKEN for Socket Mode)"
        )
