"""Test helpers: the whole bot on an injected clock. People type through the fake chat, the clock
jumps from one due time to the next, and each tick delivers through a keyed fake sender. Nothing
sleeps."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from adapters.fake import FakeChat, FakeSender, ManualClock
from bot.core.messages import render_plain
from bot.core.model import ItemKind, ItemStatus, ScheduledItem
from bot.core.ports import Outgoing
from bot.scheduling.tick import Ticker, TickReport
from bot.storage.database import Database
from bot.storage.repositories.scheduling import item_record
from bot.storage.tables import ScheduledItemRow

MAX_STEPS = 500
"""A run that needs more ticks than this is a bug (something due that never goes)."""


@dataclass
class Delivered:
    at: datetime
    outgoing: Outgoing

    @property
    def text(self) -> str:
        return render_plain(self.outgoing.message)

    @property
    def user(self) -> str | None:
        return self.outgoing.destination.user_id


@dataclass
class Bot:
    chat: FakeChat
    clock: ManualClock
    sender: FakeSender
    ticker: Ticker
    database: Database
    delivered: list[Delivered] = field(default_factory=list)

    async def tick(self) -> TickReport:
        before = len(self.sender.sent)
        report = await self.ticker.tick()
        self.delivered += [Delivered(self.clock.now, o) for o in self.sender.sent[before:]]
        return report

    async def next_run_at(self) -> datetime | None:
        async with self.database.unit_of_work() as uow:
            return await uow.session.scalar(
                select(ScheduledItemRow.run_at)
                .where(ScheduledItemRow.status == ItemStatus.PENDING.value)
                .order_by(ScheduledItemRow.run_at)
                .limit(1)
            )

    async def run_until(self, until: datetime) -> None:
        """Move the clock from one due time to the next, ticking at each, up to `until`."""
        for _ in range(MAX_STEPS):
            upcoming = await self.next_run_at()
            if upcoming is None or upcoming > until:
                self.clock.set(max(until, self.clock.now))
                await self.tick()
                return
            self.clock.set(max(upcoming, self.clock.now))
            await self.tick()
        raise AssertionError(f"still busy after {MAX_STEPS} ticks")

    def to(self, user: str | None) -> list[Delivered]:
        return [d for d in self.delivered if d.user == user]

    async def items(self, kind: ItemKind | None = None) -> list[ScheduledItem]:
        async with self.database.unit_of_work() as uow:
            query = select(ScheduledItemRow).order_by(ScheduledItemRow.id)
            if kind is not None:
                query = query.where(ScheduledItemRow.kind == kind.value)
            return [item_record(row) for row in await uow.session.scalars(query)]


def local(zone: str, *args: int) -> datetime:
    """An instant given by its wall clock in `zone` (the first one when the hour repeats)."""
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # type: ignore[misc]


def wall(at: datetime, zone: str) -> datetime:
    """What the wall clock in `zone` shows at `at` (naive)."""
    return at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


class Crash(BaseException):
    """Stands in for the process dying mid-send: nothing after it in the tick runs."""


@dataclass
class KeyedSink:
    """A sender that counts every attempt and shows each message it accepts. Idempotent like
    Discord's nonce (a repeat of a key is dropped), or not, like Slack (a repeat shows twice).
    `crash_after_send` dies right after handing a message over; `failures` are raised on the next
    attempts; `hold`, when set, makes each send wait for it."""

    platform: str = "fake"
    idempotent: bool = True
    attempts: list[str] = field(default_factory=list)
    shown: list[Outgoing] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)
    crash_after_send: bool = False
    hold: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once a send has begun."""

    async def send(self, outgoing: Outgoing) -> None:
        self.entered.set()
        if self.hold is not None:
            await self.hold.wait()
        self.attempts.append(outgoing.key)
        if self.failures:
            raise self.failures.pop(0)
        if not (self.idempotent and outgoing.key in self.keys):
            self.shown.append(outgoing)
        if self.crash_after_send:
            raise Crash

    @property
    def keys(self) -> list[str]:
        return [o.key for o in self.shown]
