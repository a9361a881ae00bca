"""The scheduler's way out to Discord: prompts as DMs, rounds and digests in the team's channel."""

from __future__ import annotations

import hashlib

import aiohttp
import discord

from adapters.discord.client import RetroClient
from adapters.discord.translate import PLATFORM, render
from adapters.discord.views import send_kwargs
from bot.core.messages import Message, code, mention, paragraph
from bot.core.ports import Outgoing, RateLimited, Rejected, TransientError

CANNOT_DM = 50007
"""Discord's "Cannot send messages to this user": DMs closed, or no server shared any more."""


def dm_closed(user_id: str) -> Message:
    """The nudge in the team's channel when someone's DMs are closed. It says nothing about what is
    waiting: that could be an anonymous misstep's prompt."""
    return Message(
        blocks=(
            paragraph(
                mention(user_id), " I have something waiting for you: run ", code("/retro status"), "."
            ),
        )
    )


def nonce(key: str, part: int) -> str:
    """A message nonce for one part of a delivery: stable across retries, within Discord's 25
    characters. Sent with ``enforce_nonce``, so Discord drops a repeat of the same part."""
    return hashlib.blake2b(f"{key}#{part}".encode(), digest_size=12).hexdigest()


class DiscordSender:
    """Sends `Outgoing` messages through the bot's client (over REST; the gateway isn't needed).

    Idempotent: every part goes out with a nonce derived from the delivery key. Discord only
    remembers nonces for "the past few minutes", which is why the claim lease (after which a
    crashed send is retried) defaults to two minutes; a retry much later than that could show twice."""

    platform = PLATFORM
    idempotent = True

    def __init__(self, client: RetroClient) -> None:
        self.client = client

    async def send(self, outgoing: Outgoing) -> None:
        try:
            await self.client.ensure_login()
            await self._send(outgoing)
        except discord.RateLimited as error:
            raise RateLimited(error.retry_after) from None
        except discord.HTTPException as error:
            if error.status >= 500:
                raise TransientError(f"Discord answered {error.status}") from None
            raise Rejected(
                f"Discord refused it: {error.status} (code {error.code}) {error.text}"[:200]
            ) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise TransientError(f"Discord unreachable: {type(error).__name__}") from None

    async def close(self) -> None:
        """Close the client's connections (`retro tick` logs in just to send)."""
        await self.client.close()

    async def _send(self, outgoing: Outgoing) -> None:
        team, user = outgoing.destination.team, outgoing.destination.user_id
        channel = self.client.get_partial_messageable(int(team.channel), guild_id=int(team.workspace))
        if user is None:
            await self._post(channel, outgoing.message, team.workspace, outgoing.key)
            return
        dm = await self.client.create_dm(discord.Object(int(user)))
        try:
            await self._post(dm, outgoing.message, team.workspace, outgoing.key)
        except discord.Forbidden as error:
            if error.code != CANNOT_DM:
                raise
            await self._post(channel, dm_closed(user), team.workspace, f"{outgoing.key}/dm-closed")

    async def _post(self, channel: discord.abc.Messageable, message: Message, guild: str, key: str) -> None:
        for index, part in enumerate(render(message, guild)):
            await channel.send(nonce=nonce(key, index), **send_kwargs(part))
