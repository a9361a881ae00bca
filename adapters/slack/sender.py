"""The outbound side: scheduled prompts, retro rounds and digests sent through the Web API.

`SlackSender` implements `bot.core.ports.Sender`. A DM is ``conversations.open`` then
``chat.postMessage``; a channel post goes to the team's channel. It never retries by itself: the
scheduler's delivery layer decides, from the error raised, whether to wait (`RateLimited`, with
Slack's ``Retry-After``), back off (`TransientError`) or give up for good (`Rejected`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.translate import PLATFORM, fallback_text, slack_messages
from bot.core.ports import DeliveryError, Outgoing, RateLimited, Rejected, TransientError

TokenFor = Callable[[str], Awaitable[str | None]]
"""The bot token for a workspace (team id), or None when the app is not installed there."""

TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
"""Slack error codes worth another try. Every other error is final: `channel_not_found`,
`is_archived`, `not_in_channel`, `user_not_found`, `account_inactive`, `cannot_dm_bot`,
`invalid_auth`, `token_revoked`, `missing_scope`, `invalid_blocks`, ... would fail the same way
again."""


def error_code(error: SlackApiError) -> str:
    """Slack's error code (``channel_not_found``), or the HTTP status when the body had none.
    Only this is ever logged: a response may echo the message, i.e. what people typed."""
    data = error.response.data
    code = data.get("error") if isinstance(data, dict) else None
    return code or f"HTTP {error.response.status_code}"


def delivery_error(status: int, headers: Mapping[str, str], code: str) -> DeliveryError:
    """What a failed Web API call means for the delivery layer."""
    if status == 429 or code == "ratelimited":
        retry_after = headers.get("Retry-After") or headers.get("retry-after") or "1"
        try:
            return RateLimited(max(float(retry_after), 0.0))
        except ValueError:
            return RateLimited(1.0)
    if status >= 500 or code in TRANSIENT_ERRORS:
        return TransientError(code)
    return Rejected(code)


class SlackSender:
    """Sends `Outgoing` messages to Slack with the workspace's bot token."""

    platform = PLATFORM
    idempotent = False
    """Slack has no idempotency key for chat.postMessage: a repeat would show twice."""

    def __init__(self, token_for: TokenFor, api_url: str) -> None:
        self.token_for = token_for
        self.api_url = api_url

    async def send(self, outgoing: Outgoing) -> None:
        team = outgoing.destination.team
        token = await self.token_for(team.workspace)
        if token is None:
            raise Rejected("app_not_installed")
        # No retry handlers: retrying (and waiting) is the delivery layer's decision, and a
        # connection-level retry could post a message twice.
        client = AsyncWebClient(token=token, base_url=self.api_url, retry_handlers=[])
        try:
            channel = team.channel
            if outgoing.destination.user_id is not None:
                opened = await client.conversations_open(users=outgoing.destination.user_id)
                channel = opened["channel"]["id"]
            for chunk in slack_messages(outgoing.message, team):
                await client.chat_postMessage(channel=channel, text=chunk.text, blocks=chunk.blocks)
            for attachment in outgoing.message.attachments:
                await client.files_upload_v2(
                    channel=channel,
                    content=attachment.content,
                    filename=attachment.filename,
                    title=attachment.filename,
                    initial_comment=fallback_text(outgoing.message),
                )
        except SlackApiError as error:
            response = error.response
            raise delivery_error(response.status_code, response.headers, error_code(error)) from None
        except (TimeoutError, SlackRequestError, aiohttp.ClientError, OSError) as error:
            raise TransientError(f"network: {type(error).__name__}") from None
