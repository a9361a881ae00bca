"""The Alembic migrations and the table declarations describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from bot.storage.database import Database
from bot.storage.migrate import current_revision, head_revision, is_up_to_date, upgrade
from bot.storage.tables import Base


async def test_the_migrated_schema_matches_the_table_declarations(database: Database) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with database.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_a_migrated_database_is_at_head(database: Database) -> None:
    assert await current_revision(database) == head_revision()
    assert await is_up_to_date(database)


async def test_upgrading_an_up_to_date_database_changes_nothing(database: Database) -> None:
    await upgrade(database)
    assert await current_revision(database) == head_revision()
