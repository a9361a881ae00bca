"""The outbound side: scheduled prompts, retro rounds and digests sent through the Web API.

`SlackSender` implements `bot.core.ports.Sender`. A DM is ``conversations.open`` then
``chat.postMessage``; a channel post goes to the team's channel. It never retries by itself: the
scheduler's delivery layer decides, from the error raised, whether to wait (`RateLimited`, with
Slack's ``Retry-After``), back off (`TransientError`), give up for good (`Rejected`), or leave
alone a message that may already be out (`Uncertain`).

Slack has no idempotency key: a message sent twice shows twice. So a send does its invisible
steps first (opening the DM; reserving and uploading files, which show nowhere until
``files.completeUploadExternal`` shares them), and any failure there is safe to retry. Then come
the visible writes: each part of the message, then sharing its files. Only two failures of the
first write are known to have posted nothing: one Slack answered with a refusal (a 429, an error
code such as ``channel_not_found``), and a connection that could not be made at all. Any other
failure of a write (the connection dropped after the request went out, a timeout, a 5xx,
``internal_error``) may have posted it, and once a part is out every failure leaves the message
half sent: both are `Uncertain`, never resent blindly.

The interactive side (replies, announcements) retries single requests through slack-sdk instead;
`NoRepeatedPosts` keeps those retries from repeating a post whose answer was lost.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.translate import PLATFORM, fallback_text, slack_messages
from bot.core.messages import Attachment
from bot.core.ports import (
    DeliveryError,
    Destination,
    Outgoing,
    RateLimited,
    Rejected,
    TransientError,
    Uncertain,
)

TokenFor = Callable[[str], Awaitable[str | None]]
"""The bot token for a workspace (team id), or None when the app is not installed there."""

TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
"""Slack error codes worth another try. Every other error is final: `channel_not_found`,
`is_archived`, `not_in_channel`, `user_not_found`, `account_inactive`, `cannot_dm_bot`,
`invalid_auth`, `token_revoked`, `missing_scope`, `invalid_blocks`, ... would fail the same way
again."""

NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
"""Network failures before a request could be written (refused, unresolvable, no connection in
time): Slack saw nothing of it."""
NETWORK = (TimeoutError, aiohttp.ClientError, OSError)
"""Every network failure, `NOT_SENT` included; the others may come after Slack got the request."""

REPEATABLE = frozenset(
    {
        "auth.test",
        "users.info",
        "conversations.open",
        "views.publish",
        "views.update",
        "files.getUploadURLExternal",
    }
)
"""Web API methods a repeat cannot make show twice: reads, and updates that set the same thing again."""


def error_code(error: SlackApiError) -> str:
    """Slack's error code (``channel_not_found``), or the HTTP status when the body had none.
    Only this is ever logged: a response may echo the message, i.e. what people typed."""
    data = error.response.data
    code = data.get("error") if isinstance(data, dict) else None
    return code or f"HTTP {error.response.status_code}"


def delivery_error(status: int, headers: Mapping[str, str], code: str) -> DeliveryError:
    """What a failed Web API call that changes nothing visible means for the delivery layer."""
    if status == 429 or code == "ratelimited":
        retry_after = headers.get("Retry-After") or headers.get("retry-after") or "1"
        try:
            return RateLimited(max(float(retry_after), 0.0))
        except ValueError:
            return RateLimited(1.0)
    if status >= 500 or code in TRANSIENT_ERRORS:
        return TransientError(code)
    return Rejected(code)


def failed_call(error: Exception) -> DeliveryError:
    """A failed invisible step (or a write known to have posted nothing) for the delivery layer."""
    if isinstance(error, SlackApiError):
        response = error.response
        return delivery_error(response.status_code, response.headers, error_code(error))
    return TransientError(f"network: {type(error).__name__}")


def failed_write(error: Exception, written: int, writes: int) -> DeliveryError:
    """A failed visible write, after `written` of the send's `writes` went out."""
    outcome = failed_call(error)
    if written == 0 and (isinstance(outcome, RateLimited | Rejected) or isinstance(error, NOT_SENT)):
        return outcome
    reason = error_code(error) if isinstance(error, SlackApiError) else f"network: {type(error).__name__}"
    if written == 0:
        return Uncertain(f"{reason}; it may have been posted")
    return Uncertain(f"{reason} after {written} of {writes} parts were posted")


class SlackSender:
    """Sends `Outgoing` messages to Slack with the workspace's bot token."""

    platform = PLATFORM
    idempotent = False
    """Slack has no idempotency key for chat.postMessage: a repeat would show twice."""

    def __init__(self, token_for: TokenFor, api_url: str) -> None:
        self.token_for = token_for
        self.api_url = api_url

    async def send(self, outgoing: Outgoing) -> None:
        token = await self.token_for(outgoing.destination.team.workspace)
        if token is None:
            raise Rejected("app_not_installed")
        async with aiohttp.ClientSession() as session:
            # No retry handlers: retrying (and waiting) is the delivery layer's decision.
            client = AsyncWebClient(token=token, base_url=self.api_url, session=session, retry_handlers=[])
            try:
                channel = await self._channel(client, outgoing.destination)
                files = [await self._upload(client, session, a) for a in outgoing.message.attachments]
            except (SlackApiError, *NETWORK) as error:
                raise failed_call(error) from None
            writes = [
                functools.partial(
                    client.chat_postMessage, channel=channel, text=chunk.text, blocks=chunk.blocks
                )
                for chunk in slack_messages(outgoing.message, outgoing.destination.team)
            ]
            if files:
                writes.append(
                    functools.partial(
                        client.files_completeUploadExternal,
                        files=files,
                        channel_id=channel,
                        initial_comment=fallback_text(outgoing.message),
                    )
                )
            for written, write in enumerate(writes):
                try:
                    await write()
                except (SlackApiError, *NETWORK) as error:
                    raise failed_write(error, written, len(writes)) from None

    async def _channel(self, client: AsyncWebClient, destination: Destination) -> str:
        if destination.user_id is None:
            return destination.team.channel
        opened = await client.conversations_open(users=destination.user_id)
        return opened["channel"]["id"]

    async def _upload(
        self, client: AsyncWebClient, session: aiohttp.ClientSession, attachment: Attachment
    ) -> dict[str, str | None]:
        """Reserve and upload a file, not yet shared anywhere (the first two of files.uploadV2's
        three steps); the entry `files.completeUploadExternal` shares it with."""
        reserved = await client.files_getUploadURLExternal(
            filename=attachment.filename, length=len(attachment.content)
        )
        timeout = aiohttp.ClientTimeout(total=client.timeout)
        async with session.post(reserved["upload_url"], data=attachment.content, timeout=timeout) as response:
            if response.status != 200:
                raise TransientError(f"upload: HTTP {response.status}")
        return {"id": reserved["file_id"], "title": attachment.filename}


class NoRepeatedPosts(AsyncRetryHandler):
    """slack-sdk's retry of connection errors (``AsyncConnectionErrorRetryHandler``), minus the
    repeat that could show a message twice: a request whose answer was lost is sent again only
    for a `REPEATABLE` method. A post (``chat.postMessage``, a response_url, sharing a file) is
    sent again only when the connection could not be made at all."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if isinstance(error, NOT_SENT):
            return True
        method = urllib.parse.urlsplit(request.url).path.rsplit("/", 1)[-1]
        connection_lost = isinstance(error, aiohttp.ServerConnectionError | aiohttp.ClientOSError)
        return connection_lost and method in REPEATABLE
