"""The in-memory adapter: the whole bot driven from a test with no network (after errbot's test
backend). People "type" commands, the engine answers, and scheduled messages land in a sink."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.engine import Engine
from bot.core.messages import Reply, render_plain
from bot.core.model import TeamRef
from bot.core.ports import Actor, DeliveryError, Invocation, Outgoing

PLATFORM = "fake"


class ManualClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.now += delta if delta is not None else timedelta(**kwargs)
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when


@dataclass
class FakeSender:
    """A keyed delivery sink: records what was sent and drops a repeat of the same key, as a
    platform with idempotency keys would. `failures` queues errors to raise on the next sends."""

    platform: str = PLATFORM
    idempotent: bool = True
    sent: list[Outgoing] = field(default_factory=list)
    failures: list[DeliveryError] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)

    async def send(self, outgoing: Outgoing) -> None:
        if self.failures:
            raise self.failures.pop(0)
        if outgoing.key in self.keys:
            return
        self.keys.add(outgoing.key)
        self.sent.append(outgoing)

    def texts(self, user_id: str | None = None) -> list[str]:
        return [
            render_plain(o.message) for o in self.sent if user_id is None or o.destination.user_id == user_id
        ]


@dataclass
class FakeChat:
    """People in one fake team channel talking to the engine."""

    engine: Engine
    workspace: str = "W1"
    channel: str = "C1"

    @property
    def team(self) -> TeamRef:
        return TeamRef(PLATFORM, self.workspace, self.channel)

    async def invoke(
        self,
        user: str,
        text: str,
        values: Mapping[str, str] | None = None,
        key: str | None = None,
        timezone: str | None = None,
    ) -> Reply:
        actor = Actor(user_id=user, display_name=user.capitalize(), timezone=timezone)
        return await self.engine.handle(Invocation(self.team, actor, text, values=values, key=key))

    async def say(self, user: str, text: str, **kwargs: object) -> str:
        """The private reply as plain text, the way the terminal shows it."""
        reply = await self.invoke(user, text, **kwargs)  # type: ignore[arg-type]
        return "\n\n".join(render_plain(m) for m in reply.private)

    def elsewhere(self, workspace: str = "W2", channel: str = "C9") -> FakeChat:
        """The same engine, seen from another team."""
        return FakeChat(self.engine, workspace, channel)
