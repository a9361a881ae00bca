"""The two doors between the core and the adapters.

In: an adapter turns a platform payload into an `Invocation` and awaits `Engine.handle`.
Out: the delivery layer hands an `Outgoing` message to the adapter's `Sender`, which either
returns (the platform accepted it) or raises one of the `DeliveryError`s below so the scheduler
knows whether to wait, retry or give up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.core.messages import Message
from bot.core.model import TeamRef


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind an invocation, as the platform knows them."""

    user_id: str
    display_name: str
    timezone: str | None = None
    """The platform's idea of the person's IANA timezone, when it has one (Slack does)."""
    manages_workspace: bool = False
    """The platform lets this person manage the workspace (Discord's Manage Server permission), as
    `/retro setup` requires."""


@dataclass(frozen=True, slots=True)
class WorkspaceTeam:
    """Where an invocation goes on platforms where a workspace is one team (a Discord guild): the
    workspace's team, whichever channel the invocation comes from. On first use the team starts in
    `channel`; None (a click in a direct message) starts none."""

    platform: str
    workspace: str
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class Invocation:
    """One request to the engine: a command line, or a submitted form.

    `text` is everything after ``/retro`` (``"oops the deploy broke #deploys"``). For a form
    submission or a platform's typed options, `text` names the form's command (``"oops"``) and
    `values` holds the inputs by name, so free text never has to be re-parsed.
    """

    team: TeamRef | WorkspaceTeam
    """The team's channel (a channel is a team), or the workspace's one team."""
    actor: Actor
    text: str
    values: Mapping[str, str] | None = None
    key: str | None = None
    """The platform's unique id for this request; a redelivery with the same key does nothing."""
    channel_name: str | None = field(default=None)
    """A human name for the team's channel, used when the team is created on first use."""


@dataclass(frozen=True, slots=True)
class HomeSection:
    """One team's part of a member's home: its buttons run in that team."""

    team: TeamRef
    message: Message


@dataclass(frozen=True, slots=True)
class Home:
    """A member's home in a workspace (Slack's App Home): an intro, then a section per team they
    take part in, with their own open missteps and the team's latest lessons."""

    intro: Message
    sections: tuple[HomeSection, ...] = ()


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a prompt goes: a member's private messages, or the team's channel when `user_id` is None."""

    team: TeamRef
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    destination: Destination
    message: Message
    key: str
    """The delivery key (scheduled item and occurrence). A sender that can make the platform drop
    a repeat by key (Discord's message nonce) passes it on."""


class DeliveryError(Exception):
    """Base of what a `Sender` raises when a message did not go out."""


class RateLimited(DeliveryError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited; retry after {retry_after:g}s")
        self.retry_after = retry_after


class TransientError(DeliveryError):
    """Worth retrying with backoff: timeouts, 5xx, a dropped connection."""


class Uncertain(DeliveryError):
    """The request may have reached the platform (the answer was lost, or only some parts of a
    long message went out): resending could show it twice where repeats can't be dropped."""


class Rejected(DeliveryError):
    """The platform refused for good (user gone, channel archived, bot removed); never retried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Sender(Protocol):
    """An adapter's outbound side, one per platform."""

    platform: str
    idempotent: bool
    """True when a repeated send with the same `Outgoing.key` cannot show twice on the platform."""

    async def send(self, outgoing: Outgoing) -> None: ...
