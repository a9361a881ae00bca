"""The composition root: `build_app` wires storage, engine, scheduler and adapters at run time.
Nothing is built at import time and nothing is global."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.core.clock import Clock, system_clock
from bot.core.engine import Engine
from bot.core.similarity import LexicalMatcher, Matcher
from bot.settings import Settings, SettingsError
from bot.storage.database import Database, is_sqlite
from bot.storage.migrate import current_revision, head_revision, upgrade

log = logging.getLogger(__name__)


class Service(Protocol):
    """Something the app runs until it finishes or is cancelled: a chat adapter, the heartbeat."""

    name: str

    async def run(self) -> None: ...


class SchemaOutOfDate(Exception):
    pass


def build_matcher(settings: Settings) -> Matcher:
    if settings.matcher == "lexical":
        return LexicalMatcher()
    raise SettingsError(f"RETRO_MATCHER: unknown matcher {settings.matcher!r}; use lexical")


def build_engine(settings: Settings, database: Database, clock: Clock) -> Engine:
    """The engine with everything it reacts with; tests build theirs here too."""
    return Engine(database, clock, build_matcher(settings), default_timezone=settings.timezone)


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

    async def run(self) -> None:
        """Run every service until the first one finishes (the terminal chat at end of input)."""
        tasks = [asyncio.create_task(s.run(), name=s.name) for s in self.services]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.database.close()


async def build_app(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    extra_services: Sequence[Service] = (),
    terminal: bool | None = None,
) -> App:
    """Wire the whole bot. With no platform tokens (or `terminal=True`) the terminal chat runs."""
    database = await prepare_database(settings)
    engine = build_engine(settings, database, clock)
    app = App(settings, database, engine, clock, list(extra_services))
    if terminal or (terminal is None and not (settings.slack_enabled or settings.discord_enabled)):
        from adapters.terminal import TerminalChat

        app.services.append(TerminalChat.from_settings(engine, settings))
    return app
