"""A local Discord for wire tests: the REST API and the gateway on 127.0.0.1, spoken to by the
real, unmodified discord.py through ``DISCORD_API_URL``.

It holds guilds, channels and people, and plays the Discord side of the conversation:

- REST: ``/users/@me``, ``/oauth2/applications/@me``, ``/gateway/bot``, application command sync,
  the interaction callback and followup webhook endpoints, channel messages and DM channel
  creation;
- the gateway WebSocket (zlib-stream compressed, as discord.py asks): HELLO, heartbeat ACK,
  IDENTIFY -> READY and GUILD_CREATE, then the dispatches a test triggers: INTERACTION_CREATE for
  slash commands, autocomplete, button clicks and modal submits, GUILD_DELETE and GUILD_CREATE
  when the bot is removed and invited back.

Discord's rules are enforced as protocol behaviour, not as test assertions: an interaction not
acknowledged within 3 seconds is gone (10062), a second acknowledgement fails (40060), followups
need an acknowledged interaction, messages must fit Discord's limits (50035), DMs to someone who
closed them fail (50007), a channel the bot can't reach fails (50001), privileged intents are
refused (4014), ``enforce_nonce`` drops a repeated nonce, and a test can make any route answer 429
(with the body and headers discord.py expects) or a 5xx. Every error answered is recorded in
`DiscordEmulator.errors`.
What a message *pings* is computed as Discord does, from its content and ``allowed_mentions``.

Several bot processes can share it: each may log in with its own token (``tokens``) and hold its
own gateway session, and every message records the token it came with (`Sent.token`) and the
repeats dropped by its nonce (`Sent.repeats`), so a test can tell which process sent what.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

API = "/api/v10"
DEADLINE = 3.0
"""Seconds Discord waits for the first response to an interaction."""
TOKEN_LIFETIME = 15 * 60
"""Seconds an interaction token stays valid for followups."""
NONCE_WINDOW = 5 * 60
"""Discord checks an enforced nonce against "the past few minutes"."""
HANG_GUARD = 20.0
"""Seconds a test waits for the bot before it fails instead of hanging."""

EPHEMERAL = 1 << 6
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
GUILDS_INTENT = 1 << 0
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31)
"""View channel, send messages, embed links, attach files, read history, use application commands."""
BOT_PERMISSIONS = MEMBER_PERMISSIONS

# Interaction types, and the callback types Discord accepts for each.
APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, CHOICES, MODAL = 4, 5, 6, 7, 8, 9
ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {MESSAGE, DEFERRED_MESSAGE, MODAL},
    COMPONENT: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
    AUTOCOMPLETE: {CHOICES},
    MODAL_SUBMIT: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE},
}

_snowflakes = itertools.count(1_310_000_000_000_000_000)


def snowflake() -> int:
    return next(_snowflakes)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


class DiscordError(Exception):
    """An error response, in Discord's shape."""

    def __init__(self, status: int, code: int, message: str, errors: Mapping[str, Any] | None = None):
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def response(self) -> web.Response:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return _json(body, status=self.status)


def _invalid(path: str, message: str) -> DiscordError:
    return DiscordError(
        400, 50035, "Invalid Form Body", {path: {"_errors": [{"code": "INVALID", "message": message}]}}
    )


@dataclass(eq=False)
class User:
    id: int
    name: str
    bot: bool = False
    dms_open: bool = True

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name.lower(),
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    channels: list[Channel] = field(default_factory=list)
    permissions: dict[int, int] = field(default_factory=dict)
    """Member user id -> permission bits."""
    bot_member: bool = True

    def payload(self, bot: User) -> dict[str, Any]:
        everyone = {
            "id": str(self.id),
            "name": "@everyone",
            "permissions": str(MEMBER_PERMISSIONS),
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "owner_id": str(next(iter(self.permissions), bot.id)),
            "roles": [everyone],
            "emojis": [],
            "stickers": [],
            "features": [],
            "channels": [channel.payload() for channel in self.channels],
            "threads": [],
            "members": [_member(bot, BOT_PERMISSIONS)],
            "member_count": len(self.permissions) + 1,
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "large": False,
            "unavailable": False,
            "joined_at": _now_iso(),
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
        }


def _member(user: User, permissions: int) -> dict[str, Any]:
    return {
        "user": user.payload(),
        "roles": [],
        "joined_at": _now_iso(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "nick": None,
        "avatar": None,
        "premium_since": None,
        "communication_disabled_until": None,
        "permissions": str(permissions),
    }


@dataclass(eq=False)
class Channel:
    id: int
    name: str | None
    guild: Guild | None = None
    recipient: User | None = None
    """The person at the other end of a DM channel."""
    bot_can_post: bool = True

    @property
    def is_dm(self) -> bool:
        return self.guild is None

    def payload(self) -> dict[str, Any]:
        if self.guild is None:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": 1,
                "last_message_id": None,
                "recipients": [self.recipient.payload()],
            }
        return {
            "id": str(self.id),
            "type": 0,
            "guild_id": str(self.guild.id),
            "name": self.name,
            "position": self.guild.channels.index(self),
            "permission_overwrites": [],
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_EVERYONE = re.compile(r"@(?:everyone|here)")
_ESCAPED = re.compile(r"\\([^0-9A-Za-z\s])")


@dataclass(eq=False)
class Sent:
    """A message as Discord stored it: in a channel, a DM, or as an interaction's (ephemeral) reply."""

    id: int
    channel: Channel
    payload: dict[str, Any]
    files: list[tuple[str, bytes]]
    ephemeral: bool = False
    interaction: Interaction | None = None
    token: str | None = None
    """The bot token it was posted with (None: an interaction's reply, which uses the interaction's)."""
    repeats: list[str] = field(default_factory=list)
    """The tokens of later posts with the same enforced nonce, each dropped as a repeat."""

    @property
    def content(self) -> str:
        return self.payload.get("content") or ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.payload.get("embeds") or []

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [c for row in self.payload.get("components") or [] for c in row.get("components", [])]

    def button(self, label: str) -> dict[str, Any]:
        found = [b for b in self.buttons if b.get("label") == label]
        if not found:
            raise AssertionError(f"no button {label!r}; buttons: {[b.get('label') for b in self.buttons]}")
        return found[0]

    @property
    def pings(self) -> set[int]:
        """User ids this message notifies: mentioned in the content and allowed to ping."""
        mentioned = {int(user) for user in _USER_MENTION.findall(self.content)}
        allowed = self.payload.get("allowed_mentions")
        if allowed is None or "users" in allowed.get("parse", []):
            return mentioned
        return mentioned & {int(user) for user in allowed.get("users", [])}

    @property
    def pings_roles(self) -> bool:
        mentioned = bool(_ROLE_MENTION.search(self.content))
        allowed = self.payload.get("allowed_mentions")
        if allowed is None or "roles" in allowed.get("parse", []):
            return mentioned
        return bool(
            {int(r) for r in _ROLE_MENTION.findall(self.content)} & {int(r) for r in allowed.get("roles", [])}
        )

    @property
    def pings_everyone(self) -> bool:
        allowed = self.payload.get("allowed_mentions")
        parsed = allowed is None or "everyone" in allowed.get("parse", [])
        return parsed and bool(_EVERYONE.search(self.content))

    @property
    def markdown(self) -> str:
        """Content and embeds as the raw markdown Discord received."""
        pieces = [self.content]
        for embed in self.embeds:
            pieces += [embed.get("title") or "", embed.get("description") or ""]
            pieces += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
            pieces.append((embed.get("footer") or {}).get("text") or "")
        return "\n".join(piece for piece in pieces if piece)

    @property
    def text(self) -> str:
        """Roughly what a person reads: escapes and bold markers resolved, zero-width spaces gone."""
        return _ESCAPED.sub(r"\1", self.markdown.replace("**", "")).replace("\u200b", "")

    def api(self, bot: User, application_id: int) -> dict[str, Any]:
        mentioned = [int(user) for user in _USER_MENTION.findall(self.content)]
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel.id),
            "author": bot.payload(),
            "content": self.content,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": self.pings_everyone,
            "mentions": [
                {"id": str(user), "username": str(user), "discriminator": "0", "avatar": None}
                for user in mentioned
            ],
            "mention_roles": [],
            "attachments": [
                {
                    "id": str(snowflake()),
                    "filename": name,
                    "size": len(content),
                    "url": f"http://127.0.0.1/attachments/{self.id}/{name}",
                    "proxy_url": f"http://127.0.0.1/attachments/{self.id}/{name}",
                }
                for name, content in self.files
            ],
            "embeds": self.embeds,
            "components": self.payload.get("components") or [],
            "pinned": False,
            "type": 20 if self.interaction is not None else 0,
            "flags": (self.payload.get("flags") or 0) | (EPHEMERAL if self.ephemeral else 0),
        }
        if self.channel.guild is not None:
            data["guild_id"] = str(self.channel.guild.id)
        if self.interaction is not None:
            data["application_id"] = str(application_id)
            data["webhook_id"] = str(application_id)
        if "nonce" in self.payload:
            data["nonce"] = self.payload["nonce"]
        return data


@dataclass(eq=False)
class Interaction:
    id: int
    token: str
    type: int
    user: User
    channel: Channel
    data: dict[str, Any]
    created: float
    message: Sent | None = None
    """The message a clicked button is on."""
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    messages: list[Sent] = field(default_factory=list)
    """The response message and the followups, in order."""

    @property
    def acknowledged(self) -> bool:
        return bool(self.callbacks)

    @property
    def response_type(self) -> int | None:
        return self.callbacks[0]["type"] if self.callbacks else None

    @property
    def deferred(self) -> bool:
        return self.response_type == DEFERRED_MESSAGE

    @property
    def modal(self) -> dict[str, Any] | None:
        return self.callbacks[0]["data"] if self.response_type == MODAL else None

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        return self.callbacks[0]["data"]["choices"] if self.response_type == CHOICES else None


@dataclass
class _Trouble:
    """The next `times` requests matching method and path get a 429 (`status` None) or `status`."""

    method: str
    path: re.Pattern[str]
    times: int
    retry_after: float = 0.0
    is_global: bool = False
    status: int | None = None


class _Gateway:
    """One gateway connection, with discord.py's zlib-stream compression when it asks for it."""

    def __init__(self, ws: web.WebSocketResponse, compress: bool) -> None:
        self.ws = ws
        self.compressor = zlib.compressobj() if compress else None
        self.sequence = 0
        self.intents = 0
        self.token: str | None = None
        """The token it identified with (None until IDENTIFY)."""

    async def send(self, op: int, d: Any = None, t: str | None = None) -> None:
        s = None
        if op == 0:
            self.sequence += 1
            s = self.sequence
        raw = json.dumps({"op": op, "d": d, "s": s, "t": t})
        if self.compressor is None:
            await self.ws.send_str(raw)
        else:
            data = self.compressor.compress(raw.encode()) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class DiscordEmulator:
    """Discord, as far as the bot can tell. Start it, point ``DISCORD_API_URL`` at `api_url`, and
    let a test create guilds, channels and people, then act as those people."""

    def __init__(self, token: str = "emulated-bot-token", *, tokens: Iterable[str] = ()) -> None:
        self.token = token
        self.tokens = frozenset({token, *tokens})
        """Every token accepted for the bot. Discord gives a bot one; more let a test run several
        processes as the same bot and still tell apart what each sent (`Sent.token`)."""
        self.application_id = snowflake()
        self.bot = User(self.application_id, "Retro", bot=True)
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        """Synced application commands by guild id (None: global)."""
        self.interactions: dict[int, Interaction] = {}
        self.sent: list[Sent] = []
        self.requests: list[tuple[str, str, int]] = []
        """(method, path, status) of every REST request."""
        self.errors: list[tuple[str, str, int, int]] = []
        """(method, path, status, Discord error code) of every error answered."""
        self.identified = asyncio.Event()
        self.on_accept: Callable[[Sent], None] | None = None
        """Called with each message as it is stored, before its sender hears the answer: a test can
        act at exactly that moment (kill the sending process, make the next request a 429)."""
        self._gateways: list[_Gateway] = []
        """The open, identified gateway sessions, oldest first."""
        self._troubles: list[_Trouble] = []
        self._nonces: dict[str, tuple[float, Sent]] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        for method, path, handler in self._routes():
            app.router.add_route(method, API + path, handler)
        app.router.add_get("/gateway", self._gateway_socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- the world ----------------------------------------------------------------------------

    def add_guild(self, name: str) -> Guild:
        guild = Guild(snowflake(), name)
        self.guilds[guild.id] = guild
        return guild

    def add_channel(self, guild: Guild, name: str) -> Channel:
        channel = Channel(snowflake(), name, guild)
        guild.channels.append(channel)
        self.channels[channel.id] = channel
        return channel

    def add_user(self, name: str, guild: Guild, *, manage_guild: bool = False) -> User:
        user = User(snowflake(), name)
        self.users[user.id] = user
        guild.permissions[user.id] = MEMBER_PERMISSIONS | (MANAGE_GUILD if manage_guild else 0)
        return user

    @property
    def connected(self) -> list[str]:
        """The tokens of the open gateway sessions, oldest first."""
        return [gateway.token for gateway in self._gateways if gateway.token is not None]

    def dm_channel(self, user: User) -> Channel | None:
        return next((c for c in self.channels.values() if c.recipient is user), None)

    def messages_in(self, channel: Channel) -> list[Sent]:
        """Messages posted in a channel (not interaction replies)."""
        return [m for m in self.sent if m.channel is channel and m.interaction is None]

    def dms_to(self, user: User) -> list[Sent]:
        channel = self.dm_channel(user)
        return [] if channel is None else self.messages_in(channel)

    def rate_limit(
        self, method: str, path: str, *, times: int = 1, retry_after: float = 0.25, is_global: bool = False
    ) -> None:
        """Answer the next `times` requests matching `method` and the `path` regex with a 429."""
        self._troubles.append(_Trouble(method, re.compile(path), times, retry_after, is_global))

    def fail(self, method: str, path: str, status: int, *, times: int = 1) -> None:
        """Answer the next `times` requests matching `method` and the `path` regex with `status`
        (a 5xx: Discord having a bad moment)."""
        self._troubles.append(_Trouble(method, re.compile(path), times, status=status))

    async def until(self, predicate: Callable[[], bool], what: str) -> None:
        """Wait for the bot to do something. The limit only keeps a broken test from hanging; it
        asserts nothing about timing."""
        async with self._changed:
            try:
                async with asyncio.timeout(HANG_GUARD):
                    await self._changed.wait_for(predicate)
            except TimeoutError:
                raise AssertionError(f"timed out waiting for {what}") from None

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def ready(self) -> None:
        """Wait until the bot identified on the gateway and synced its commands."""
        await self.until(
            lambda: self.identified.is_set() and bool(self.commands), "the bot to connect and sync"
        )

    # -- acting as people ---------------------------------------------------------------------

    async def slash(self, user: User, channel: Channel, subcommand: str, /, **options: Any) -> Interaction:
        """`user` runs ``/retro <subcommand>`` with typed options in `channel`."""
        data = self._command_data(channel, subcommand, options, focused=None)
        return await self._interact(APPLICATION_COMMAND, user, channel, data)

    async def autocomplete(
        self, user: User, channel: Channel, subcommand: str, focused: str, /, **options: Any
    ) -> list[dict[str, Any]]:
        """The choices the bot offers while `user` types option `focused` (its value in `options`)."""
        data = self._command_data(channel, subcommand, options, focused=focused)
        interaction = await self._interact(AUTOCOMPLETE, user, channel, data)
        await self.until(lambda: interaction.acknowledged, "autocomplete choices")
        assert interaction.choices is not None
        return interaction.choices

    async def click(self, user: User, message: Sent, label: str) -> Interaction:
        """`user` clicks the button labelled `label` on `message`."""
        if message.ephemeral and (message.interaction is None or message.interaction.user is not user):
            raise AssertionError("only the person who ran the command sees an ephemeral message")
        if message.channel.is_dm and message.channel.recipient is not user:
            raise AssertionError("that DM belongs to someone else")
        button = message.button(label)
        data = {"custom_id": button["custom_id"], "component_type": 2}
        return await self._interact(COMPONENT, user, message.channel, data, message)

    async def submit(self, user: User, opened: Interaction, values: Mapping[str, str | bool]) -> Interaction:
        """`user` fills in and submits the modal that `opened` answered with."""
        modal = opened.modal
        if modal is None:
            raise AssertionError(f"that interaction opened no modal (response type {opened.response_type})")
        if opened.user is not user:
            raise AssertionError("only the person a modal opened for can submit it")
        unknown = set(values)
        components = []
        for label in modal["components"]:
            component = label["component"]
            custom_id = component["custom_id"]
            unknown.discard(custom_id)
            value = values.get(custom_id)
            components.append(
                {"type": 18, "id": label.get("id", 0), "component": _submitted(component, value)}
            )
        if unknown:
            raise AssertionError(f"the modal has no inputs {sorted(unknown)}")
        data = {"custom_id": modal["custom_id"], "components": components}
        return await self._interact(MODAL_SUBMIT, user, opened.channel, data)

    async def remove_bot(self, guild: Guild) -> None:
        """Someone kicks the bot from `guild`."""
        guild.bot_member = False
        await self._dispatch("GUILD_DELETE", {"id": str(guild.id)})

    async def add_bot(self, guild: Guild, *, while_offline: bool = False) -> None:
        """Someone invites the bot (back) into `guild`. While the bot is offline, nothing is
        dispatched: the guild is simply among those of its next READY."""
        guild.bot_member = True
        if while_offline:
            return
        # A join carries no "unavailable" flag; the guilds of READY come with "unavailable": false.
        payload = guild.payload(self.bot)
        del payload["unavailable"]
        await self._dispatch("GUILD_CREATE", payload)

    async def drop_gateway(self) -> None:
        """The gateway connections break, as Discord's do now and then (close code 4000, "unknown
        error": the client reconnects). Sessions can't be resumed here, so the bot has to
        identify again; `ready` waits for that."""
        self.identified.clear()
        for gateway in list(self._gateways):
            await gateway.ws.close(code=4000, message=b"Unknown error.")

    async def reply(self, interaction: Interaction, index: int = 0) -> Sent:
        """The `index`-th message the bot answered `interaction` with (response or followup)."""
        await self.until(lambda: len(interaction.messages) > index, f"reply #{index} to the interaction")
        return interaction.messages[index]

    async def posted(self, channel: Channel, count: int = 1) -> list[Sent]:
        await self.until(
            lambda: len(self.messages_in(channel)) >= count, f"{count} message(s) in #{channel.name}"
        )
        return self.messages_in(channel)

    # -- gateway ------------------------------------------------------------------------------

    async def _gateway_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        compress = request.query.get("compress")
        if compress not in (None, "zlib-stream"):
            await ws.close(code=4000, message=b"unsupported compression")
            return ws
        gateway = _Gateway(ws, compress == "zlib-stream")
        await gateway.send(10, {"heartbeat_interval": 41_250})
        try:
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                op = message.get("op")
                if op == 1:
                    await gateway.send(11)
                elif op == 2:
                    await self._identify(gateway, message["d"])
                elif op == 6:
                    # No sessions to resume here: ask for a fresh IDENTIFY, as Discord would.
                    await gateway.send(9, False)
        finally:
            self._sockets.discard(ws)
            if gateway in self._gateways:
                self._gateways.remove(gateway)
        return ws

    async def _identify(self, gateway: _Gateway, d: Mapping[str, Any]) -> None:
        token = d.get("token")
        if token not in self.tokens:
            await gateway.ws.close(code=4004, message=b"Authentication failed.")
            return
        gateway.intents = int(d.get("intents", 0))
        if gateway.intents & PRIVILEGED_INTENTS:
            await gateway.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        gateway.token = token
        if gateway not in self._gateways:
            self._gateways.append(gateway)
        guilds = [g for g in self.guilds.values() if g.bot_member]
        await gateway.send(
            0,
            {
                "v": 10,
                "user": self.bot.payload(),
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": secrets.token_hex(16),
                "resume_gateway_url": self.gateway_url,
                "application": {"id": str(self.application_id), "flags": 0},
                "private_channels": [],
            },
            "READY",
        )
        if gateway.intents & GUILDS_INTENT:
            for guild in guilds:
                await gateway.send(0, guild.payload(self.bot), "GUILD_CREATE")
        self.identified.set()
        await self._notify()

    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        if not self._gateways:
            raise AssertionError("the bot is not connected to the gateway")
        # To the newest session only: an event handled by two processes would be answered twice.
        await self._gateways[-1].send(0, data, event)

    # -- interactions -------------------------------------------------------------------------

    def _command_data(
        self, channel: Channel, subcommand: str, options: Mapping[str, Any], focused: str | None
    ) -> dict[str, Any]:
        scope = channel.guild.id if channel.guild is not None else None
        command = next((c for c in self.commands.get(scope, []) if c["name"] == "retro"), None)
        if command is None:
            command = next((c for c in self.commands.get(None, []) if c["name"] == "retro"), None)
        if command is None:
            raise AssertionError("/retro is not registered where this person is")
        sub = next(
            (o for o in command.get("options", []) if o["name"] == subcommand and o["type"] == 1), None
        )
        if sub is None:
            raise AssertionError(f"/retro has no subcommand {subcommand!r}")
        specs = {o["name"]: o for o in sub.get("options", [])}
        given = []
        resolved: dict[str, dict[str, Any]] = {}
        for name, value in options.items():
            spec = specs.get(name)
            if spec is None:
                raise AssertionError(f"/retro {subcommand} has no option {name!r}; it has {sorted(specs)}")
            if name == focused:
                if not spec.get("autocomplete"):
                    raise AssertionError(f"option {name!r} of /retro {subcommand} has no autocomplete")
                given.append({"name": name, "type": spec["type"], "value": str(value), "focused": True})
                continue
            given.append({"name": name, "type": spec["type"], "value": _option_value(spec, value, resolved)})
        if focused is None:
            missing = [n for n, s in specs.items() if s.get("required") and n not in options]
            if missing:
                raise AssertionError(f"Discord won't send /retro {subcommand} without {missing}")
        data: dict[str, Any] = {
            "id": command["id"],
            "name": "retro",
            "type": 1,
            "options": [{"name": subcommand, "type": 1, "options": given}],
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    async def _interact(
        self, kind: int, user: User, channel: Channel, data: dict[str, Any], message: Sent | None = None
    ) -> Interaction:
        interaction = Interaction(
            snowflake(),
            secrets.token_urlsafe(32),
            kind,
            user,
            channel,
            data,
            asyncio.get_running_loop().time(),
            message,
        )
        self.interactions[interaction.id] = interaction
        payload: dict[str, Any] = {
            "id": str(interaction.id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": interaction.token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "app_permissions": str(BOT_PERMISSIONS),
            "channel": channel.payload(),
            "channel_id": str(channel.id),
        }
        if channel.guild is not None:
            guild = channel.guild
            payload |= {
                "guild_id": str(guild.id),
                "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
                "guild_locale": "en-US",
                "member": _member(user, guild.permissions.get(user.id, 0)),
                "context": 0,
                "authorizing_integration_owners": {"0": str(guild.id)},
            }
        else:
            payload |= {"user": user.payload(), "context": 1, "authorizing_integration_owners": {"0": "0"}}
        if message is not None:
            payload["message"] = message.api(self.bot, self.application_id)
        await self._dispatch("INTERACTION_CREATE", payload)
        return interaction

    # -- REST ---------------------------------------------------------------------------------

    def _routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/users/@me", self._me),
            ("GET", "/oauth2/applications/@me", self._application),
            ("GET", "/gateway/bot", self._gateway_bot),
            ("PUT", "/applications/{app}/commands", self._sync),
            ("PUT", "/applications/{app}/guilds/{guild}/commands", self._sync),
            ("POST", "/interactions/{id}/{token}/callback", self._callback),
            ("POST", "/webhooks/{app}/{token}", self._followup),
            ("POST", "/channels/{channel}/messages", self._channel_message),
            ("POST", "/users/@me/channels", self._open_dm),
        ]

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path.removeprefix(API)
        response = await self._answer(request, handler, path)
        self.requests.append((request.method, path, response.status))
        return response

    async def _answer(self, request: web.Request, handler: Handler, path: str) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        trouble = next(
            (
                t
                for t in self._troubles
                if t.times > 0 and t.method == request.method and t.path.fullmatch(path)
            ),
            None,
        )
        if trouble is not None:
            trouble.times -= 1
            await self._notify()
            if trouble.status is None:
                return _too_many_requests(trouble)
            return _json({"message": "Service Unavailable", "code": 0}, status=trouble.status)
        needs_token = not path.startswith(("/webhooks/", "/interactions/"))
        authorization = request.headers.get("Authorization", "")
        bot_token = authorization.removeprefix("Bot ") if authorization.startswith("Bot ") else None
        request["bot_token"] = bot_token  # for the handler that records who posted (`Sent.token`)
        try:
            if needs_token and bot_token not in self.tokens:
                raise DiscordError(401, 0, "401: Unauthorized")
            response = await handler(request)
        except DiscordError as error:
            self.errors.append((request.method, path, error.status, error.code))
            response = error.response()
        except web.HTTPNotFound:
            self.errors.append((request.method, path, 404, 0))
            response = DiscordError(404, 0, "404: Not Found").response()
        response.headers["Via"] = "1.1 google"
        await self._notify()
        return response

    async def _me(self, request: web.Request) -> web.Response:
        return _json(self.bot.payload() | {"verified": True, "mfa_enabled": False})

    async def _application(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": str(self.application_id),
                "name": "Retro",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": {"id": str(snowflake()), "username": "owner", "discriminator": "0", "avatar": None},
                "verify_key": secrets.token_hex(32),
                "flags": 0,
                "team": None,
                "summary": "",
                "interactions_endpoint_url": None,
            }
        )

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        return _json(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _sync(self, request: web.Request) -> web.Response:
        if int(request.match_info["app"]) != self.application_id:
            raise DiscordError(403, 50001, "Missing Access")
        guild = request.match_info.get("guild")
        scope = int(guild) if guild else None
        if scope is not None and scope not in self.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        commands = await request.json()
        for index, command in enumerate(commands):
            _check_command(command, str(index))
        stored = []
        for command in commands:
            entry = command | {
                "id": str(snowflake()),
                "application_id": str(self.application_id),
                "version": "1",
            }
            if scope is not None:
                entry["guild_id"] = str(scope)
            entry.setdefault("default_member_permissions", None)
            entry.setdefault("options", [])
            stored.append(entry)
        self.commands[scope] = stored
        return _json(stored)

    async def _callback(self, request: web.Request) -> web.StreamResponse:
        interaction = self.interactions.get(int(request.match_info["id"]))
        if interaction is None or interaction.token != request.match_info["token"]:
            raise DiscordError(404, 10062, "Unknown interaction")
        if asyncio.get_running_loop().time() - interaction.created > DEADLINE:
            raise DiscordError(404, 10062, "Unknown interaction")
        if interaction.acknowledged:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        payload, files = await _body(request)
        kind = payload.get("type")
        data = payload.get("data") or {}
        if kind not in ALLOWED_CALLBACKS[interaction.type]:
            raise _invalid(
                "type", f"response type {kind} is not valid for interaction type {interaction.type}"
            )
        created: Sent | None = None
        if kind == MESSAGE:
            _check_message(data, files)
            created = self._store(
                interaction.channel, data, files, interaction, bool((data.get("flags") or 0) & EPHEMERAL)
            )
        elif kind == UPDATE_MESSAGE:
            _check_message(data, files, partial=True)
            assert interaction.message is not None
            interaction.message.payload |= data
        elif kind == CHOICES:
            _check_choices(data)
        elif kind == MODAL:
            _check_modal(data)
        interaction.callbacks.append({"type": kind, "data": data})
        if created is not None:
            interaction.messages.append(created)
        if request.query.get("with_response") not in ("1", "true"):
            return web.Response(status=204)
        body: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_loading": kind == DEFERRED_MESSAGE,
                "response_message_ephemeral": bool((data.get("flags") or 0) & EPHEMERAL),
            }
        }
        if created is not None:
            body["interaction"]["response_message_id"] = str(created.id)
            body["resource"] = {"type": kind, "message": created.api(self.bot, self.application_id)}
        return _json(body)

    def _by_token(self, request: web.Request) -> Interaction:
        token = request.match_info["token"]
        interaction = next((i for i in self.interactions.values() if i.token == token), None)
        if int(request.match_info["app"]) != self.application_id or interaction is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        if not interaction.acknowledged or interaction.response_type in (MODAL, CHOICES):
            raise DiscordError(404, 10015, "Unknown Webhook")
        if asyncio.get_running_loop().time() - interaction.created > TOKEN_LIFETIME:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        return interaction

    async def _followup(self, request: web.Request) -> web.StreamResponse:
        interaction = self._by_token(request)
        payload, files = await _body(request)
        _check_message(payload, files)
        if interaction.deferred and not interaction.messages:
            # The first followup after a deferral replaces the "thinking..." message and keeps the
            # deferral's visibility.
            ephemeral = bool((interaction.callbacks[0]["data"].get("flags") or 0) & EPHEMERAL)
        else:
            ephemeral = bool((payload.get("flags") or 0) & EPHEMERAL)
        sent = self._store(interaction.channel, payload, files, interaction, ephemeral)
        interaction.messages.append(sent)
        if request.query.get("wait") in ("1", "true"):
            return _json(sent.api(self.bot, self.application_id))
        return web.Response(status=204)

    async def _channel_message(self, request: web.Request) -> web.Response:
        channel = self.channels.get(int(request.match_info["channel"]))
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        if channel.guild is not None and not (channel.guild.bot_member and channel.bot_can_post):
            raise DiscordError(403, 50001, "Missing Access")
        if channel.recipient is not None and not channel.recipient.dms_open:
            raise DiscordError(403, 50007, "Cannot send messages to this user")
        payload, files = await _body(request)
        _check_message(payload, files)
        nonce = payload.get("nonce")
        now = asyncio.get_running_loop().time()
        if nonce is not None and payload.get("enforce_nonce"):
            seen = self._nonces.get(str(nonce))
            if seen is not None and now - seen[0] < NONCE_WINDOW:
                seen[1].repeats.append(request["bot_token"])
                return _json(seen[1].api(self.bot, self.application_id))
        sent = self._store(channel, payload, files, None, False, request["bot_token"])
        if nonce is not None:
            self._nonces[str(nonce)] = (now, sent)
        return _json(sent.api(self.bot, self.application_id))

    async def _open_dm(self, request: web.Request) -> web.Response:
        body = await request.json()
        user = self.users.get(int(body.get("recipient_id", 0)))
        if user is None:
            raise DiscordError(400, 50033, "Invalid Recipient(s)")
        channel = self.dm_channel(user)
        if channel is None:
            channel = Channel(snowflake(), None, recipient=user)
            self.channels[channel.id] = channel
        return _json(channel.payload())

    def _store(
        self,
        channel: Channel,
        payload: dict[str, Any],
        files: list[tuple[str, bytes]],
        interaction: Interaction | None,
        ephemeral: bool,
        token: str | None = None,
    ) -> Sent:
        sent = Sent(snowflake(), channel, payload, files, ephemeral, interaction, token)
        self.sent.append(sent)
        if self.on_accept is not None:
            self.on_accept(sent)
        return sent


# -- request parsing and Discord's rules ---------------------------------------------------------


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # Exactly "application/json", as Discord sends it: discord.py parses JSON only for that value.
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


async def _body(request: web.Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The JSON payload and attached files of a request (JSON, or multipart with payload_json)."""
    if not request.content_type.startswith("multipart/"):
        return (await request.json() if request.can_read_body else {}), []
    payload: dict[str, Any] = {}
    files: list[tuple[str, bytes]] = []
    reader = await request.multipart()
    async for part in reader:
        if part.name == "payload_json":
            payload = json.loads(await part.text())  # type: ignore[union-attr]
        else:
            files.append((part.filename or "file", bytes(await part.read())))  # type: ignore[union-attr]
    return payload, files


def _too_many_requests(limit: _Trouble) -> web.Response:
    return _json(
        {
            "message": "You are being rate limited.",
            "retry_after": limit.retry_after,
            "global": limit.is_global,
        },
        status=429,
        headers={
            "Retry-After": str(math.ceil(limit.retry_after)),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + limit.retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{limit.retry_after:.3f}",
            "X-RateLimit-Bucket": "emulated-bucket",
            "X-RateLimit-Scope": "shared" if not limit.is_global else "global",
            "Via": "1.1 google",
        },
    )


def _check_message(
    payload: Mapping[str, Any], files: list[tuple[str, bytes]], *, partial: bool = False
) -> None:
    content = payload.get("content") or ""
    embeds = payload.get("embeds") or []
    components = payload.get("components") or []
    if not partial and not (content or embeds or files or components):
        raise DiscordError(400, 50006, "Cannot send an empty message")
    if len(content) > 2000:
        raise _invalid("content", "Must be 2000 or fewer in length.")
    if len(embeds) > 10:
        raise _invalid("embeds", "Must be 10 or fewer in length.")
    total = 0
    for index, embed in enumerate(embeds):
        total += _check_embed(embed, f"embeds.{index}")
    if total > 6000:
        raise _invalid("embeds", "Embed size exceeds maximum size of 6000")
    if len(files) > 10:
        raise _invalid("files", "Must be 10 or fewer in length.")
    nonce = payload.get("nonce")
    if nonce is not None and len(str(nonce)) > 25:
        raise _invalid("nonce", "Must be 25 or fewer in length.")
    allowed = payload.get("allowed_mentions")
    if allowed is not None and "users" in allowed.get("parse", []) and allowed.get("users"):
        raise _invalid("allowed_mentions", "parse users and a users list are mutually exclusive")
    _check_components(components)


def _check_embed(embed: Mapping[str, Any], path: str) -> int:
    limits = {"title": 256, "description": 4096}
    size = 0
    for key, limit in limits.items():
        value = embed.get(key) or ""
        if len(value) > limit:
            raise _invalid(f"{path}.{key}", f"Must be {limit} or fewer in length.")
        size += len(value)
    fields = embed.get("fields") or []
    if len(fields) > 25:
        raise _invalid(f"{path}.fields", "Must be 25 or fewer in length.")
    for index, item in enumerate(fields):
        name, value = item.get("name") or "", item.get("value") or ""
        if (not name.strip() and name != "\u200b") or len(name) > 256:
            raise _invalid(f"{path}.fields.{index}.name", "Must be between 1 and 256 in length.")
        if (not value.strip() and value != "\u200b") or len(value) > 1024:
            raise _invalid(f"{path}.fields.{index}.value", "Must be between 1 and 1024 in length.")
        size += len(name) + len(value)
    footer = (embed.get("footer") or {}).get("text") or ""
    if len(footer) > 2048:
        raise _invalid(f"{path}.footer.text", "Must be 2048 or fewer in length.")
    if size + len(footer) > 6000:
        raise _invalid(path, "Embed size exceeds maximum size of 6000")
    return size + len(footer)


def _check_components(rows: list[Mapping[str, Any]]) -> None:
    if len(rows) > 5:
        raise _invalid("components", "Must be 5 or fewer in length.")
    seen: set[str] = set()
    for r, row in enumerate(rows):
        items = row.get("components") or []
        if row.get("type") != 1 or not 1 <= len(items) <= 5:
            raise _invalid(f"components.{r}", "An action row holds 1 to 5 components.")
        for c, item in enumerate(items):
            custom_id = item.get("custom_id") or ""
            if item.get("type") == 2 and item.get("style") != 5:
                if not 1 <= len(custom_id) <= 100:
                    raise _invalid(
                        f"components.{r}.components.{c}.custom_id", "Must be between 1 and 100 in length."
                    )
                if custom_id in seen:
                    raise _invalid(
                        f"components.{r}.components.{c}.custom_id", "Component custom id cannot be duplicated"
                    )
                seen.add(custom_id)
            if len(item.get("label") or "") > 80:
                raise _invalid(f"components.{r}.components.{c}.label", "Must be 80 or fewer in length.")


def _check_choices(data: Mapping[str, Any]) -> None:
    choices = data.get("choices") or []
    if len(choices) > 25:
        raise _invalid("data.choices", "Must be 25 or fewer in length.")
    for index, choice in enumerate(choices):
        if not 1 <= len(choice.get("name") or "") <= 100:
            raise _invalid(f"data.choices.{index}.name", "Must be between 1 and 100 in length.")
        if isinstance(choice.get("value"), str) and len(choice["value"]) > 100:
            raise _invalid(f"data.choices.{index}.value", "Must be 100 or fewer in length.")


def _check_modal(data: Mapping[str, Any]) -> None:
    if not 1 <= len(data.get("title") or "") <= 45:
        raise _invalid("data.title", "Must be between 1 and 45 in length.")
    if not 1 <= len(data.get("custom_id") or "") <= 100:
        raise _invalid("data.custom_id", "Must be between 1 and 100 in length.")
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        raise _invalid("data.components", "Must be between 1 and 5 in length.")
    for index, label in enumerate(components):
        path = f"data.components.{index}"
        if label.get("type") != 18:
            raise _invalid(path, "Modal components go in labels.")
        if not 1 <= len(label.get("label") or "") <= 45:
            raise _invalid(f"{path}.label", "Must be between 1 and 45 in length.")
        if len(label.get("description") or "") > 100:
            raise _invalid(f"{path}.description", "Must be 100 or fewer in length.")
        component = label.get("component") or {}
        kind = component.get("type")
        if kind == 4:
            maximum = component.get("max_length", 4000)
            if maximum > 4000 or len(component.get("value") or "") > maximum:
                raise _invalid(
                    f"{path}.component", "A text input's value must fit its max_length (at most 4000)."
                )
            if len(component.get("placeholder") or "") > 100:
                raise _invalid(f"{path}.component.placeholder", "Must be 100 or fewer in length.")
        elif kind == 3:
            if not 1 <= len(component.get("options") or []) <= 25:
                raise _invalid(f"{path}.component.options", "Must be between 1 and 25 in length.")
        elif kind != 23:
            raise _invalid(f"{path}.component", f"component type {kind} is not allowed in a modal")


def _check_command(command: Mapping[str, Any], path: str) -> None:
    name = command.get("name") or ""
    if not re.fullmatch(r"[-_a-z0-9]{1,32}", name):
        raise _invalid(f"{path}.name", "Command name is invalid")
    if command.get("type", 1) == 1 and not 1 <= len(command.get("description") or "") <= 100:
        raise _invalid(f"{path}.description", "Must be between 1 and 100 in length.")
    options = command.get("options") or []
    if len(options) > 25:
        raise _invalid(f"{path}.options", "Must be 25 or fewer in length.")
    required_done = False
    for index, option in enumerate(options):
        if option.get("type") in (1, 2):
            _check_command(option, f"{path}.options.{index}")
            continue
        if not re.fullmatch(r"[-_a-z0-9]{1,32}", option.get("name") or ""):
            raise _invalid(f"{path}.options.{index}.name", "Option name is invalid")
        if not 1 <= len(option.get("description") or "") <= 100:
            raise _invalid(f"{path}.options.{index}.description", "Must be between 1 and 100 in length.")
        if option.get("required"):
            if required_done:
                raise _invalid(
                    f"{path}.options.{index}", "Required options must be placed before non-required options"
                )
        else:
            required_done = True
        if len(option.get("choices") or []) > 25:
            raise _invalid(f"{path}.options.{index}.choices", "Must be 25 or fewer in length.")
        if option.get("choices") and option.get("autocomplete"):
            raise _invalid(f"{path}.options.{index}", "Autocomplete and choices are mutually exclusive")


def _option_value(spec: Mapping[str, Any], value: Any, resolved: dict[str, dict[str, Any]]) -> Any:
    """A typed option value as the Discord client would send it, checked against the option."""
    kind = spec["type"]
    choices = [c["value"] for c in spec.get("choices") or []]
    if kind == 3:
        value = str(value)
    elif kind == 4:
        value = int(value)
    elif kind == 5:
        value = bool(value)
    elif kind == 7:
        channel: Channel = value
        resolved.setdefault("channels", {})[str(channel.id)] = channel.payload() | {
            "permissions": str(MEMBER_PERMISSIONS)
        }
        value = str(channel.id)
    if choices and value not in choices:
        raise AssertionError(f"option {spec['name']!r} only offers {choices}")
    return value


def _submitted(component: Mapping[str, Any], value: str | bool | None) -> dict[str, Any]:
    """One input of a submitted modal, as the Discord client fills it in."""
    custom_id = component["custom_id"]
    kind = component["type"]
    if kind == 4:
        text = str(value) if value is not None else component.get("value") or ""
        if component.get("required", True) and not text:
            raise AssertionError(f"the modal won't submit without {custom_id!r}")
        if len(text) > component.get("max_length", 4000):
            raise AssertionError(f"{custom_id!r} takes at most {component.get('max_length')} characters")
        return {"type": 4, "id": component.get("id", 0), "custom_id": custom_id, "value": text}
    if kind == 3:
        options = [o["value"] for o in component.get("options", [])]
        picked = (
            str(value)
            if value is not None
            else next((o["value"] for o in component["options"] if o.get("default")), None)
        )
        if picked is not None and picked not in options:
            raise AssertionError(f"{custom_id!r} only offers {options}")
        if picked is None and component.get("required", True):
            raise AssertionError(f"the modal won't submit without {custom_id!r}")
        return {
            "type": 3,
            "id": component.get("id", 0),
            "custom_id": custom_id,
            "values": [picked] if picked else [],
        }
    checked = bool(value) if value is not None else bool(component.get("default", False))
    return {"type": 23, "id": component.get("id", 0), "custom_id": custom_id, "value": checked}
