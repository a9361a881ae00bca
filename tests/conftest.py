"""Shared fixtures: a fresh, migrated database per test (SQLite always, PostgreSQL when
RETRO_TEST_DATABASE_URL is set), an injected clock, the engine and the fake chat."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapters.fake import FakeChat, ManualClock
from bot.app import build_engine
from bot.core.engine import Engine
from bot.settings import Settings
from bot.storage.database import Database, is_sqlite
from bot.storage.migrate import upgrade

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
"""A Monday morning in UTC, the default start of every test's clock."""

POSTGRES_URL = os.environ.get("RETRO_TEST_DATABASE_URL")
REQUIRE_POSTGRES = os.environ.get("RETRO_REQUIRE_POSTGRES") == "1"
NO_POSTGRES = (
    "PostgreSQL tests need RETRO_TEST_DATABASE_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
)

_counter = itertools.count()


def _admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_execute(url: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_admin_dsn(url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    database = Database.connect(url)
    try:
        await upgrade(database)
    finally:
        await database.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "retro.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """A migrated template database; each test gets a copy (CREATE DATABASE ... TEMPLATE)."""
    if not POSTGRES_URL:
        yield None
        return
    name = f"retro_tpl_{os.getpid()}"
    asyncio.run(
        _pg_execute(POSTGRES_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    )
    asyncio.run(_migrate(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)))
    yield name
    asyncio.run(_pg_execute(POSTGRES_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@asynccontextmanager
async def fresh_postgres(template: str | None) -> AsyncIterator[str]:
    """A new PostgreSQL database copied from the migrated template, dropped afterwards."""
    if template is None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"RETRO_REQUIRE_POSTGRES is set but {NO_POSTGRES}")
        pytest.skip(NO_POSTGRES)
    assert POSTGRES_URL is not None
    name = f"retro_t_{os.getpid()}_{next(_counter)}"
    await _pg_execute(POSTGRES_URL, f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await _pg_execute(POSTGRES_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_template: str | None
) -> AsyncIterator[str]:
    """A fresh, migrated database for one test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "retro.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    async with fresh_postgres(postgres_template) as url:
        yield url


@pytest.fixture
async def postgres_url(postgres_template: str | None) -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database, for tests that are about PostgreSQL itself."""
    async with fresh_postgres(postgres_template) as url:
        yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database.connect(database_url)
    yield db
    await db.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
def engine(settings: Settings, database: Database, clock: ManualClock) -> Engine:
    return build_engine(settings, database, clock)


@pytest.fixture
def chat(engine: Engine) -> FakeChat:
    return FakeChat(engine)


@asynccontextmanager
async def locked(database_url: str, *tables: str) -> AsyncIterator[None]:
    """A slow database, for real rather than patched: another writer holds it, so every unit of
    work of the bot waits until the block ends. SQLite: the write lock (BEGIN IMMEDIATE, waited
    for in aiosqlite's thread, so the bot's loop runs on). PostgreSQL: exclusive locks on
    `tables` (default: teams, which every command reads first)."""
    database = Database.connect(database_url)
    try:
        async with database.engine.connect() as connection:
            await connection.begin()
            if not is_sqlite(database_url):
                names = ", ".join(tables or ("teams",))
                await connection.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
            yield
            await connection.rollback()
    finally:
        await database.close()
