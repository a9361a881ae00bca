"""The composition root: `build_app` wires storage, engine, scheduler and adapters at run time.
Nothing is built at import time and nothing is global."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from bot.core.clock import Clock, system_clock
from bot.core.engine import Engine
from bot.core.ports import Sender
from bot.core.similarity import LexicalMatcher, Matcher
from bot.scheduling.heartbeat import Heartbeat
from bot.scheduling.policy import SchedulePolicy
from bot.scheduling.reactions import SchedulingReactions
from bot.scheduling.tick import Ticker
from bot.settings import Settings, SettingsError
from bot.storage.database import Database, is_sqlite
from bot.storage.migrate import current_revision, head_revision, upgrade

log = logging.getLogger(__name__)


class Service(Protocol):
    """Something the app runs until it finishes or is cancelled: a chat adapter, the heartbeat."""

    name: str

    async def run(self) -> None: ...


@runtime_checkable
class Closing(Protocol):
    """A sender that holds a connection between sends, to be closed when the app ends."""

    async def close(self) -> None: ...


class SchemaOutOfDate(Exception):
    pass


def build_matcher(settings: Settings) -> Matcher:
    """The lexical matcher, or a meaning-based one when asked for and installed (else lexical)."""
    if settings.matcher == "lexical":
        return LexicalMatcher()
    if settings.matcher in ("embedding", "mpnet"):
        # Imported only here: both need the optional embeddings extra (numpy, torch).
        try:
            if settings.matcher == "mpnet":
                from bot.core.mpnet import SentenceMatcher

                return SentenceMatcher.load()
            from bot.core.embedding import EmbeddingMatcher

            return EmbeddingMatcher.load()
        except ImportError as error:
            log.warning(
                "RETRO_MATCHER=%s, but %s: spotting repeats with the lexical matcher", settings.matcher, error
            )
            return LexicalMatcher()
    raise SettingsError(
        f"RETRO_MATCHER: unknown matcher {settings.matcher!r}; use lexical, embedding or mpnet"
    )


def build_engine(settings: Settings, database: Database, clock: Clock) -> Engine:
    """The engine with everything it reacts with; tests build theirs here too."""
    policy = SchedulePolicy.from_settings(settings)
    return Engine(
        database,
        clock,
        build_matcher(settings),
        reactions=[SchedulingReactions(policy, clock)],
        policy=policy,
    )


def build_ticker(
    settings: Settings,
    database: Database,
    clock: Clock,
    senders: Mapping[str, Sender],
    matcher: Matcher | None = None,
) -> Ticker:
    """The delivery side: ticks through the senders of the platforms this process serves.

    Pass the engine's matcher to share it (a meaning-based one loads a model); without one, the
    settings' matcher is built."""
    return Ticker(
        database, clock, senders, SchedulePolicy.from_settings(settings), matcher or build_matcher(settings)
    )


async def prepare_database(settings: Settings) -> Database:
    """Connect, and make sure the schema is current.

    The embedded SQLite database upgrades itself: there is nobody else to ask. A PostgreSQL
    database may be shared by several processes and versions, so it is never changed behind the
    operator's back: start-up stops and says which command to run.
    """
    database = Database.connect(settings.database_url)
    current = await current_revision(database)
    if current != head_revision():
        if is_sqlite(settings.database_url):
            await upgrade(database)
            log.info("database %s: upgraded %s -> %s", database.url, current or "empty", head_revision())
        else:
            await database.close()
            state = "has no retro tables yet" if current is None else f"is at revision {current}"
            raise SchemaOutOfDate(
                f"the database {state}, this retro needs {head_revision()}: run `retro db upgrade` first"
            )
    return database


@dataclass
class App:
    settings: Settings
    database: Database
    engine: Engine
    clock: Clock
    services: list[Service] = field(default_factory=list)
    senders: dict[str, Sender] = field(default_factory=dict)
    """The registry the scheduler delivers through, by platform (`Team.ref.platform`)."""

    def add_sender(self, sender: Sender) -> None:
        if sender.platform in self.senders:
            raise ValueError(f"two senders for platform {sender.platform!r}")
        self.senders[sender.platform] = sender

    async def run(self) -> None:
        """Run every service until the first one finishes (the terminal chat at end of input)."""
        # Everything built so far (modules, settings, engine, adapters) lives as long as the app:
        # moved out of the garbage collector's sight, a full collection no longer walks it, which
        # had stalled the event loop for 175-400 ms under load (and Slack's acks with it).
        gc.freeze()
        tasks = [asyncio.create_task(s.run(), name=s.name) for s in self.services]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.close()

    async def close(self) -> None:
        """Let go of connections: senders that keep one open (Discord's client), then the database."""
        for sender in self.senders.values():
            if isinstance(sender, Closing):
                await sender.close()
        await self.database.close()


async def build_app(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    extra_services: Sequence[Service] = (),
    terminal: bool | None = None,
    senders: Sequence[Sender] = (),
    heartbeat: bool = True,
) -> App:
    """Wire the whole bot. With no platform tokens (or `terminal=True`) the terminal chat runs.

    Every process ticks (the heartbeat), delivering through the senders of the platforms it
    serves, plus `senders`; several processes may share one PostgreSQL database.
    """
    database = await prepare_database(settings)
    engine = build_engine(settings, database, clock)
    app = App(settings, database, engine, clock, list(extra_services))
    if settings.slack_enabled:
        from adapters.slack import SlackService

        slack = SlackService(engine, settings, database)
        app.services.append(slack)
        app.add_sender(slack.sender)
    if settings.discord_enabled:
        from adapters.discord import Discord

        discord = Discord.from_settings(engine, settings)
        app.services.append(discord.service)
        app.add_sender(discord.sender)
    if terminal or (terminal is None and not (settings.slack_enabled or settings.discord_enabled)):
        from adapters.terminal import TerminalChat

        chat = TerminalChat.from_settings(engine, settings)
        app.services.append(chat)
        app.add_sender(chat.sender)
    for sender in senders:
        app.add_sender(sender)
    if heartbeat:
        app.services.append(
            Heartbeat(
                build_ticker(settings, database, clock, app.senders, engine.matcher), settings.tick_interval
            )
        )
    return app
