"""A second empty database on the same backend as `database`, for imports."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.database import Database, is_sqlite
from tests.conftest import fresh_postgres


@pytest.fixture
async def empty_database(
    database_url: str, tmp_path: Path, sqlite_template: Path, postgres_template: str | None
) -> AsyncIterator[Database]:
    if is_sqlite(database_url):
        path = tmp_path / "empty.db"
        shutil.copy(sqlite_template, path)
        db = Database.connect(f"sqlite+aiosqlite:///{path}")
        yield db
        await db.close()
        return
    async with fresh_postgres(postgres_template) as url:
        db = Database.connect(url)
        yield db
        await db.close()
