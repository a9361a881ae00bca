"""A local Slack, over real sockets on 127.0.0.1 (DESIGN.md §6).

Towards the bot it plays Slack's side of the Events API: it sends slash commands (form-encoded),
interaction payloads (``payload=<json>``) and events (JSON), signed with the signing secret
exactly as Slack signs them, either by HTTP POST to the bot's endpoint or, when the bot has
connected in Socket Mode, as envelopes over the WebSocket (acknowledged by envelope id).

Towards the bot's Web API client it serves the methods the bot calls (``auth.test``,
``users.info``, ``conversations.open``, ``chat.postMessage``, ``views.open`` / ``update`` /
``publish``, the three ``files.uploadV2`` steps, ``apps.connections.open``, ``oauth.v2.access``)
and the ``response_url`` of every command and click, with Slack's limits (50 blocks a message,
100 a view, 3-second triggers, 5 uses of a response_url). Every call is recorded; failures
(``429`` with ``Retry-After``, error codes, 5xx, an answer lost after the call was carried out) can be
queued per method. Like Slack, it retries only Events API requests (``X-Slack-Retry-Num``), never a
slash command or an interaction.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

T = TypeVar("T")
Json = dict[str, Any]

TRIGGER_SECONDS = 3.0
RESPONSE_URL_USES = 5
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 40_000


@dataclass
class Call:
    """One request the bot made to the emulator."""

    method: str
    """A Web API method (``chat.postMessage``), ``response_url`` or ``upload``."""
    args: Json
    token: str | None
    at: float
    """`time.monotonic()` when it arrived."""
    ok: bool = True


@dataclass
class Delivery:
    """Slack's request to the bot and the bot's answer."""

    status: int
    body: str
    sent_at: float
    answered_at: float


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: float | None = None
    lost: bool = False
    """The call is carried out, then the connection drops before the answer: Slack did it, the
    bot cannot know."""


@dataclass
class Upload:
    file_id: str
    filename: str
    content: bytes = b""
    channel: str | None = None
    initial_comment: str | None = None


@dataclass
class Message:
    """A message posted with chat.postMessage or through a response_url."""

    channel: str
    ts: str
    text: str
    blocks: list[Json]
    ephemeral: bool = False
    user: str | None = None
    """For ephemeral messages: who sees it."""
    response_url: str | None = None
    """The response_url of the request it answered (ephemeral replies)."""
    at: float = field(default_factory=time.monotonic)


@dataclass
class Workspace:
    team_id: str
    name: str
    bot_token: str
    enterprise_id: str | None = None
    """The Enterprise Grid org the workspace belongs to, if any."""


class SlackEmulator:
    """Start with `start()`, point the bot's ``SLACK_API_URL`` at `api_url` and set `bot_url` to the
    bot's events endpoint; then drive it with `command`, `click`, `submit` and `event`."""

    def __init__(
        self,
        *,
        signing_secret: str = "emulator-signing-secret",
        bot_token: str = "xoxb-emulator-T0001",
        app_token: str = "xapp-emulator",
        team_id: str = "T0001",
        client_id: str = "111.222",
        client_secret: str = "emulator-client-secret",
    ) -> None:
        self.signing_secret = signing_secret
        self.app_token = app_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.team_id = team_id
        self.workspaces: dict[str, Workspace] = {bot_token: Workspace(team_id, "Emulated", bot_token)}
        self.users: dict[str, Json] = {}
        """users.info answers by user id; add people with `add_user`."""
        self.gone_users: set[str] = set()
        self.revoked_tokens: set[str] = set()
        self.archived_channels: set[str] = set()
        self.calls: list[Call] = []
        self.deliveries: list[Delivery] = []
        self.messages: list[Message] = []
        self.views: dict[str, Json] = {}
        self.home_views: dict[str, Json] = {}
        self.uploads: dict[str, Upload] = {}
        self.bot_url: str | None = None
        self.failures: dict[str, list[Failure | None]] = defaultdict(list)
        """What the next calls to a method meet, in order (None: a normal answer)."""
        self.socket_connections = 0
        self.response_urls_expired = False
        """Answer every response_url post 404, as Slack does after 30 minutes or 5 uses."""
        self._triggers: dict[str, float] = {}
        self._response_urls: dict[str, Json] = {}
        self._oauth_codes: dict[str, Workspace] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._socket: web.WebSocketResponse | None = None
        self._acks: dict[str, asyncio.Future[Json]] = {}
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._web_api)
        app.router.add_post("/respond/{id}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket_mode)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        self._client = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    @property
    def bot_token(self) -> str:
        """The current bot token of the emulator's own workspace (`team_id`)."""
        return next(token for token, w in self.workspaces.items() if w.team_id == self.team_id)

    def add_user(
        self, user_id: str, name: str, tz: str | None = "Europe/Berlin", team_id: str | None = None
    ) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": team_id or self.team_id,
            "name": name.lower(),
            "real_name": name,
            "tz": tz,
            "profile": {"display_name": name, "real_name": name},
        }

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: float | None = None,
        lost: bool = False,
        after: int = 0,
    ) -> None:
        """Make the next call to `method` (a Web API method) fail: ``status=429, retry_after=2``,
        ``error="is_archived"``, ``status=503``, or ``lost=True`` (carried out, then the connection
        drops without an answer; the one failure a ``response_url`` can be given too), once
        `after` more calls to it have been answered normally."""
        self.failures[method] += [None] * after + [Failure(status, error, retry_after, lost)]

    def reinstall(self, team_id: str | None = None) -> str:
        """The app is removed from the workspace and added again: the old bot token is revoked
        and a new one issued (returned), as Slack does."""
        team_id = team_id or self.team_id
        old = next(w for w in self.workspaces.values() if w.team_id == team_id)
        del self.workspaces[old.bot_token]
        self.revoked_tokens.add(old.bot_token)
        token = f"xoxb-emulator-{team_id}-{next(self._ids)}"
        self.workspaces[token] = Workspace(team_id, old.name, token, old.enterprise_id)
        return token

    # -- what the bot did ----------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.ok]

    def replies_to(self, user: str) -> list[Message]:
        """What `user` saw privately: ephemeral replies and the bot's DMs to them."""
        return [m for m in self.messages if m.user == user]

    def channel_posts(self, channel: str) -> list[Message]:
        return [m for m in self.messages if m.channel == channel and not m.ephemeral]

    async def wait_for(self, found: Callable[[], T], within: float = 10.0) -> T:
        """Wait until `found()` returns something truthy (it is asked again after every call)."""
        async with asyncio.timeout(within), self._changed:
            while not (value := found()):
                await self._changed.wait()
            return value

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # -- Slack -> bot ----------------------------------------------------------------------

    def sign(self, body: str, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        """Slack's request signature: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new(
            (secret or self.signing_secret).encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256
        ).hexdigest()
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}

    def command_payload(
        self, text: str, *, user: str = "U1", channel: str = "C1", team: str | None = None
    ) -> Json:
        trigger = self._new_trigger()
        response_url = self._new_response_url(channel, user)
        enterprise = self._enterprise_of(team or self.team_id)
        return {
            "token": "deprecated-verification-token",
            **({"enterprise_id": enterprise} if enterprise else {}),
            "team_id": team or self.team_id,
            "team_domain": "emulated",
            "channel_id": channel,
            "channel_name": f"team-{channel.lower()}",
            "user_id": user,
            "user_name": self.users.get(user, {}).get("name", user.lower()),
            "command": "/retro",
            "text": text,
            "api_app_id": "A0001",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger,
        }

    async def command(self, text: str, *, user: str = "U1", channel: str = "C1", **options: Any) -> Delivery:
        """Type ``/retro <text>`` as `user` in `channel`."""
        payload = self.command_payload(text, user=user, channel=channel, team=options.pop("team", None))
        return await self.deliver("slash_commands", payload, **options)

    async def click(
        self, button: Json, *, user: str = "U1", message: Message | None = None, **options: Any
    ) -> Delivery:
        """Click `button` (a rendered button element) as `user`, on `message` (or in a view)."""
        view_id = None if message is not None else self._view_holding(button)
        payload: Json = {
            "type": "block_actions",
            "team": {"id": self.users.get(user, {}).get("team_id", self.team_id), "domain": "emulated"},
            "user": {
                "id": user,
                "username": self.users.get(user, {}).get("name", user),
                "team_id": self.team_id,
            },
            "api_app_id": "A0001",
            "token": "deprecated-verification-token",
            "trigger_id": self._new_trigger(),
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": "b",
                    "text": button["text"],
                    "value": button.get("value"),
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        if message is not None:
            payload["container"] = {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": message.ephemeral,
            }
            payload["channel"] = {"id": message.channel, "name": "channel"}
            payload["response_url"] = self._new_response_url(message.channel, user)
        else:
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = {"id": view_id}
        return await self.deliver("interactive", payload, **options)

    async def submit(
        self, view_id: str, values: Mapping[str, Any], *, user: str = "U1", **options: Any
    ) -> Delivery:
        """Submit the open modal `view_id` with `values` by input name (a str for text and choices,
        a bool for checkboxes); inputs left out stay empty."""
        view = self.views[view_id]
        state: Json = {}
        for block in view["blocks"]:
            if block["type"] != "input":
                continue
            element = block["element"]
            name = element["action_id"]
            value = values.get(name)
            match element["type"]:
                case "plain_text_input":
                    entry = {"type": "plain_text_input", "value": value or None}
                case "static_select":
                    option = next((o for o in element["options"] if o["value"] == value), None)
                    entry = {
                        "type": "static_select",
                        "selected_option": option or element.get("initial_option"),
                    }
                case "checkboxes":
                    entry = {"type": "checkboxes", "selected_options": element["options"] if value else []}
            state[block["block_id"]] = {name: entry}
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "emulated"},
            "user": {
                "id": user,
                "username": self.users.get(user, {}).get("name", user),
                "team_id": self.team_id,
            },
            "api_app_id": "A0001",
            "token": "deprecated-verification-token",
            "trigger_id": self._new_trigger(),
            "view": {**view, "id": view_id, "team_id": self.team_id, "state": {"values": state}, "hash": "h"},
            "response_urls": [],
        }
        return await self.deliver("interactive", payload, **options)

    async def event(
        self,
        event: Json,
        *,
        team: str | None = None,
        event_id: str | None = None,
        event_time: int | None = None,
        **options: Any,
    ) -> Delivery:
        """Send an Events API event. Slack retries one the bot did not acknowledge in time with the
        same `event_id` and `event_time` (pass them, and ``retry=1``, to redeliver)."""
        enterprise = self._enterprise_of(team or self.team_id)
        payload = {
            "token": "deprecated-verification-token",
            **({"enterprise_id": enterprise} if enterprise else {}),
            "team_id": team or self.team_id,
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()) if event_time is None else event_time,
            "authorizations": [{"team_id": team or self.team_id, "user_id": "UBOT", "is_bot": True}],
        }
        return await self.deliver("events_api", payload, **options)

    async def deliver(
        self,
        kind: str,
        payload: Json,
        *,
        retry: int | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> Delivery:
        """Send one payload to the bot the way Slack would: over the Socket Mode connection when
        the bot holds one, else a signed HTTP POST. `retry` marks a redelivery of an event
        (``X-Slack-Retry-Num``); `timestamp` and `secret` forge stale or bad signatures."""
        if retry and kind != "events_api":
            raise ValueError("Slack retries only Events API requests, never commands or interactions")
        if self._socket is not None and not self._socket.closed:
            return await self._deliver_socket(kind, payload, retry)
        if kind == "slash_commands":
            body, content_type = urllib.parse.urlencode(payload), "application/x-www-form-urlencoded"
        elif kind == "interactive":
            body = urllib.parse.urlencode({"payload": json.dumps(payload)})
            content_type = "application/x-www-form-urlencoded"
        else:
            body, content_type = json.dumps(payload), "application/json"
        headers = {"Content-Type": content_type, **self.sign(body, timestamp, secret)}
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        assert self._client is not None, "start() the emulator first"
        assert self.bot_url is not None, "set bot_url to the bot's events endpoint"
        sent = time.monotonic()
        async with self._client.post(self.bot_url, data=body.encode(), headers=headers) as response:
            delivery = Delivery(response.status, await response.text(), sent, time.monotonic())
        self.deliveries.append(delivery)
        return delivery

    async def _deliver_socket(self, kind: str, payload: Json, retry: int | None) -> Delivery:
        assert self._socket is not None
        envelope_id = f"env-{next(self._ids)}"
        future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        sent = time.monotonic()
        await self._socket.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": retry or 0,
                "retry_reason": "timeout" if retry else "",
            }
        )
        ack = await asyncio.wait_for(future, 10)
        delivery = Delivery(200, json.dumps(ack.get("payload") or {}), sent, time.monotonic())
        self.deliveries.append(delivery)
        return delivery

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._socket = socket
        self.socket_connections += 1
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0001"}, "debug_info": {}}
        )
        async for frame in socket:
            if frame.type is aiohttp.WSMsgType.TEXT:
                ack = json.loads(frame.data)
                future = self._acks.pop(ack.get("envelope_id", ""), None)
                if future is not None and not future.done():
                    future.set_result(ack)
        return socket

    # -- bot -> Slack: the Web API -------------------------------------------------------

    async def _web_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request) | _basic(request)
        token = _bearer(request) or args.pop("token", None)
        call = Call(method, args, token, time.monotonic())
        failure = self.failures[method].pop(0) if self.failures[method] else None
        if failure is not None and not failure.lost:
            call.ok = False
            await self._record(call)
            headers = {"Retry-After": f"{failure.retry_after:g}"} if failure.retry_after is not None else {}
            if failure.status == 429:
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
            if failure.status >= 500:
                return web.Response(status=failure.status, text="upstream trouble")
            return web.json_response(
                {"ok": False, "error": failure.error or "unknown_error"}, headers=headers
            )
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            call.ok = False
            await self._record(call)
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        try:
            answer = handler(call)
        except SlackError as error:
            call.ok = False
            answer = {"ok": False, "error": error.code}
        else:
            answer = {"ok": True, **answer}
        await self._record(call)
        if failure is not None:
            _drop_connection(request)
        return web.json_response(answer)

    def _workspace(self, call: Call) -> Workspace:
        found = self.workspaces.get(call.token or "")
        if found is None and call.token in self.revoked_tokens:
            raise SlackError("token_revoked")
        if found is None:
            raise SlackError("invalid_auth" if call.token else "not_authed")
        return found

    def _enterprise_of(self, team_id: str) -> str | None:
        return next((w.enterprise_id for w in self.workspaces.values() if w.team_id == team_id), None)

    def _api_auth_test(self, call: Call) -> Json:
        workspace = self._workspace(call)
        return {
            "team": workspace.name,
            "team_id": workspace.team_id,
            "enterprise_id": workspace.enterprise_id,
            "user": "retro",
            "user_id": "UBOT",
            "bot_id": "B0001",
        }

    def _api_users_info(self, call: Call) -> Json:
        self._workspace(call)
        user = self.users.get(call.args.get("user", ""))
        if user is None or call.args.get("user") in self.gone_users:
            raise SlackError("user_not_found")
        return {"user": user}

    def _api_conversations_open(self, call: Call) -> Json:
        self._workspace(call)
        user = call.args.get("users", "")
        if user in self.gone_users:
            raise SlackError("user_not_found")
        return {"channel": {"id": dm_channel(user)}}

    def _api_chat_postMessage(self, call: Call) -> Json:
        self._workspace(call)
        channel = call.args.get("channel", "")
        if channel in self.archived_channels:
            raise SlackError("is_archived")
        text, blocks = call.args.get("text") or "", _blocks(call.args.get("blocks"))
        if not text and not blocks:
            raise SlackError("no_text")
        if len(blocks) > MAX_MESSAGE_BLOCKS or len(text) > MAX_TEXT:
            raise SlackError("invalid_blocks" if blocks else "msg_too_long")
        ts = f"{time.time():.6f}"
        user = channel[1:] if channel.startswith("D") else None
        self.messages.append(Message(channel, ts, text, blocks, user=user))
        return {"channel": channel, "ts": ts, "message": {"text": text, "blocks": blocks}}

    def _api_views_open(self, call: Call) -> Json:
        self._workspace(call)
        issued = self._triggers.pop(call.args.get("trigger_id", ""), None)
        if issued is None:
            raise SlackError("invalid_trigger_id")
        if time.monotonic() - issued > TRIGGER_SECONDS:
            raise SlackError("expired_trigger_id")
        view_id = f"V{next(self._ids):06d}"
        self.views[view_id] = _view(call.args.get("view"))
        return {"view": {**self.views[view_id], "id": view_id}}

    def _api_views_update(self, call: Call) -> Json:
        self._workspace(call)
        view_id = call.args.get("view_id", "")
        if view_id not in self.views:
            raise SlackError("not_found")
        self.views[view_id] = _view(call.args.get("view"))
        return {"view": {**self.views[view_id], "id": view_id}}

    def _api_views_publish(self, call: Call) -> Json:
        self._workspace(call)
        view = _view(call.args.get("view"))
        if view.get("type") != "home":
            raise SlackError("invalid_arguments")
        self.home_views[call.args.get("user_id", "")] = view
        return {"view": view}

    def _api_files_getUploadURLExternal(self, call: Call) -> Json:
        self._workspace(call)
        file_id = f"F{next(self._ids):06d}"
        self.uploads[file_id] = Upload(file_id, call.args.get("filename", ""))
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, call: Call) -> Json:
        self._workspace(call)
        files = json.loads(call.args.get("files") or "[]")
        for item in files:
            upload = self.uploads.get(item.get("id"))
            if upload is None or not upload.content:
                raise SlackError("file_not_found")
            upload.channel = call.args.get("channel_id")
            upload.initial_comment = call.args.get("initial_comment")
        return {"files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    def _api_apps_connections_open(self, call: Call) -> Json:
        if call.token != self.app_token:
            raise SlackError("invalid_auth")
        return {"url": f"ws://127.0.0.1:{self.port}/socket?ticket={next(self._ids)}"}

    def _api_oauth_v2_access(self, call: Call) -> Json:
        client_id, client_secret = call.args.get("client_id"), call.args.get("client_secret")
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            raise SlackError("invalid_client_id")
        workspace = self._oauth_codes.pop(call.args.get("code", ""), None)
        if workspace is None:
            raise SlackError("invalid_code")
        self.workspaces[workspace.bot_token] = workspace
        return {
            "app_id": "A0001",
            "authed_user": {"id": "U1"},
            "scope": "commands,chat:write",
            "token_type": "bot",
            "access_token": workspace.bot_token,
            "bot_user_id": "UBOT",
            "team": {"id": workspace.team_id, "name": workspace.name},
            "enterprise": {"id": workspace.enterprise_id, "name": "Org"} if workspace.enterprise_id else None,
            "is_enterprise_install": False,
        }

    def authorize(self, team_id: str, name: str = "Installed", enterprise_id: str | None = None) -> str:
        """A person approves the install in `team_id` (a workspace of the Enterprise Grid org
        `enterprise_id`, if given): the code Slack would redirect with."""
        code = f"code-{next(self._ids)}"
        self._oauth_codes[code] = Workspace(team_id, name, f"xoxb-emulator-{team_id}", enterprise_id)
        return code

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404)
        reader = await request.multipart() if request.content_type.startswith("multipart/") else None
        if reader is not None:
            part = await reader.next()
            upload.content = await part.read() if isinstance(part, aiohttp.BodyPartReader) else b""
        else:
            upload.content = await request.read()
        await self._record(
            Call("upload", {"file_id": upload.file_id, "bytes": len(upload.content)}, None, time.monotonic())
        )
        return web.Response(text=f"OK - {len(upload.content)}")

    async def _response_url(self, request: web.Request) -> web.Response:
        slot = self._response_urls.get(request.match_info["id"])
        body = await request.json()
        call = Call("response_url", body, None, time.monotonic())
        failure = self.failures["response_url"].pop(0) if self.failures["response_url"] else None
        if slot is None or slot["uses"] >= RESPONSE_URL_USES or self.response_urls_expired:
            call.ok = False
            await self._record(call)
            return web.Response(status=404, text="used_url")
        slot["uses"] += 1
        blocks = _blocks(body.get("blocks"))
        if len(blocks) > MAX_MESSAGE_BLOCKS:
            call.ok = False
            await self._record(call)
            return web.Response(status=400, text="invalid_blocks")
        ephemeral = body.get("response_type", "ephemeral") == "ephemeral"
        self.messages.append(
            Message(
                slot["channel"],
                f"{time.time():.6f}",
                body.get("text", ""),
                blocks,
                ephemeral=ephemeral,
                user=slot["user"] if ephemeral else None,
                response_url=str(request.url),
            )
        )
        await self._record(call)
        if failure is not None and failure.lost:
            _drop_connection(request)
        return web.Response(text="ok")

    def _new_trigger(self) -> str:
        trigger = f"{next(self._ids)}.{int(time.time())}.trigger"
        self._triggers[trigger] = time.monotonic()
        return trigger

    def _new_response_url(self, channel: str, user: str) -> str:
        slot = f"R{next(self._ids):06d}"
        self._response_urls[slot] = {"channel": channel, "user": user, "uses": 0}
        return f"{self.base_url}/respond/{slot}"

    def _view_holding(self, button: Json) -> str:
        for views in (self.views, self.home_views):
            for view_id, view in views.items():
                if any(button in block.get("elements", []) for block in view.get("blocks", [])):
                    return view_id
        raise LookupError("no open view holds that button")


def _drop_connection(request: web.Request) -> None:
    """Close the connection before the answer is written: the bot sees it drop."""
    assert request.transport is not None
    request.transport.close()


class SlackError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def dm_channel(user: str) -> str:
    return f"D{user}"


def buttons(blocks: list[Json]) -> list[Json]:
    """The buttons in rendered blocks."""
    return [
        e for b in blocks if b.get("type") == "actions" for e in b["elements"] if e.get("type") == "button"
    ]


def button(blocks: list[Json], label: str) -> Json:
    """The button whose label starts with `label`."""
    found = [b for b in buttons(blocks) if b["text"]["text"].startswith(label)]
    assert found, f"no button {label!r} in {[b['text']['text'] for b in buttons(blocks)]}"
    return found[0]


def visible_text(blocks: list[Json]) -> str:
    """What a person reads in rendered blocks: every text, in order."""
    return "".join(_texts(blocks))


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if value.get("type") == "user":
            yield f"@{value['user_id']}"
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            elif key not in {"value", "action_id", "block_id", "private_metadata"}:
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


_MRKDWN_PINGS = re.compile(r"<([!@#][^>|]*)")
_BARE_BROADCAST = re.compile(r"(?<![\w@])@(here|channel|everyone)\b")


_RICH_PINGS = {"user": "@", "broadcast": "!", "channel": "#", "usergroup": "!subteam^"}
_RICH_IDS = {"user": "user_id", "broadcast": "range", "channel": "channel_id", "usergroup": "usergroup_id"}


def pings(text: str | None, blocks: list[Json]) -> list[str]:
    """Who or what Slack would notify or link for a message, the way Slack parses it: ``<!…>``,
    ``<@…>`` and ``<#…>`` in mrkdwn (the top-level text and mrkdwn text objects; a bare
    ``@here`` too unless ``verbatim``), and user, broadcast, channel and usergroup elements in
    rich text. plain_text and rich-text ``text`` elements are never parsed. Each is written the
    way mrkdwn spells it: ``@U123``, ``!here``, ``#C123``."""
    found = _MRKDWN_PINGS.findall(text or "") + ["!" + b for b in _BARE_BROADCAST.findall(text or "")]
    for item in _walk(blocks):
        if item.get("type") == "mrkdwn":
            found += _MRKDWN_PINGS.findall(item.get("text", ""))
            if not item.get("verbatim"):
                found += ["!" + b for b in _BARE_BROADCAST.findall(item.get("text", ""))]
        elif item.get("type") in _RICH_PINGS:
            found.append(_RICH_PINGS[item["type"]] + str(item.get(_RICH_IDS[item["type"]])))
    return found


def _walk(value: Any) -> Iterator[Json]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _blocks(value: Any) -> list[Json]:
    if isinstance(value, str):
        return json.loads(value) if value else []
    return list(value or [])


def _view(value: Any) -> Json:
    view = json.loads(value) if isinstance(value, str) else dict(value or {})
    if len(view.get("blocks", [])) > MAX_VIEW_BLOCKS:
        raise SlackError("invalid_arguments")
    title = view.get("title", {}).get("text", "")
    if view.get("type") == "modal" and not 0 < len(title) <= 24:
        raise SlackError("invalid_arguments")
    return view


async def _arguments(request: web.Request) -> Json:
    if request.content_type == "application/json":
        return dict(await request.json())
    form = await request.post()
    args: Json = {key: value for key, value in form.items() if isinstance(value, str)}
    return args | dict(request.query)


def _bearer(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    return auth.removeprefix("Bearer ").strip() or None if auth.startswith("Bearer ") else None


def _basic(request: web.Request) -> Json:
    """oauth.v2.access authenticates the app with HTTP Basic auth (client id and secret)."""
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Basic "):
        return {}
    client_id, _, client_secret = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
    return {"client_id": client_id, "client_secret": client_secret}
