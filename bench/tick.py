"""How a tick scales: its cost must follow the number of due items, not the number pending.

One command (`make bench-tick`, or `python bench/tick.py`): for SQLite and, when reachable,
PostgreSQL, it fills a fresh database with 10,000 due lesson prompts (10,000 members, one private
message each) plus items that are not due yet, so that 10,000 and then 1,000,000 items are
pending, and times one tick that claims and hands off all 10,000 through a no-op sender.

PostgreSQL: `RETRO_BENCH_POSTGRES_URL` names a server database to create the bench database from
(default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres); the bench database is dropped
afterwards. Nothing here is asserted: the figures go in the README's performance section.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import delete, insert, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.model import Depth, ItemKind, ItemStatus, LessonPromptState, Outcome, TeamRef, WorkingHours
from bot.core.ports import Outgoing
from bot.core.similarity import LexicalMatcher
from bot.scheduling.policy import SchedulePolicy
from bot.scheduling.tick import Ticker
from bot.storage.database import Database
from bot.storage.migrate import upgrade
from bot.storage.tables import DeliveryRow, MemberRow, MisstepRow, ScheduledItemRow

PLATFORM = "bench"
TEAMS = 100
CHUNK = 10_000
OUT = Path(__file__).parent / "out"
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


class NoOpSender:
    """Accepts everything at once: the bench measures the bot, not a platform."""

    platform = PLATFORM
    idempotent = True

    async def send(self, outgoing: Outgoing) -> None:
        return None


@dataclass(frozen=True)
class Figure:
    backend: str
    pending: int
    due: int
    seconds: float
    report: str

    @property
    def per_second(self) -> float:
        return self.due / self.seconds


async def seed(database: Database, due: int, pending: int, now: datetime) -> None:
    """`due` lesson prompts due a minute ago, and `pending - due` team posts due over the next
    weeks (the tick must not even look at those)."""
    async with database.unit_of_work() as uow:
        teams = [
            await uow.teams.add(TeamRef(PLATFORM, "W1", f"C{i}"), f"team {i}", "UTC", now)
            for i in range(TEAMS)
        ]
        session = uow.session
        members = [
            {
                "platform": PLATFORM,
                "workspace": "W1",
                "user_id": f"U{i}",
                "display_name": f"Member {i}",
                "created_at": now,
            }
            for i in range(due)
        ]
        member_ids = await _insert_returning_ids(session, MemberRow, members)
        missteps = [
            {
                "team_id": teams[i % TEAMS].id,
                "number": i // TEAMS + 1,
                "what": f"misstep {i}: the nightly export skipped a table",
                "depth": Depth.SETBACK.value,
                "anonymous": False,
                "author_id": member_ids[i],
                "created_at": now - timedelta(days=1),
                "prompt_state": LessonPromptState.WAITING.value,
                "outcome": Outcome.OPEN.value,
            }
            for i in range(due)
        ]
        misstep_ids = await _insert_returning_ids(session, MisstepRow, missteps)
        rows = [
            _item(
                teams[i % TEAMS].id,
                ItemKind.LESSON_PROMPT,
                now - timedelta(minutes=1),
                now,
                misstep_ids[i],
                member_ids[i],
            )
            for i in range(due)
        ]
        for start in range(0, pending - due, CHUNK):
            rows += [
                _item(
                    teams[i % TEAMS].id, ItemKind.ROUND_SUMMARY, now + timedelta(minutes=1 + i % 40_000), now
                )
                for i in range(start, min(start + CHUNK, pending - due))
            ]
            if len(rows) >= CHUNK:
                await session.execute(insert(ScheduledItemRow), rows)
                rows = []
        if rows:
            await session.execute(insert(ScheduledItemRow), rows)
        await uow.commit()


def _item(
    team_id: int,
    kind: ItemKind,
    due: datetime,
    now: datetime,
    misstep_id: int | None = None,
    member_id: int | None = None,
) -> dict[str, object]:
    return {
        "team_id": team_id,
        "platform": PLATFORM,
        "kind": kind.value,
        "misstep_id": misstep_id,
        "member_id": member_id,
        "occurrence": 0,
        "due_at": due,
        "run_at": due,
        "window_start": due - timedelta(days=3) if kind is ItemKind.ROUND_SUMMARY else None,
        "status": ItemStatus.PENDING.value,
        "attempts": 0,
        "created_at": now,
    }


async def _insert_returning_ids(
    session: AsyncSession, table: type[MemberRow | MisstepRow], rows: list[dict[str, object]]
) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        statement = insert(table).returning(table.id, sort_by_parameter_order=True)
        ids += [row[0] for row in await session.execute(statement, rows[start : start + CHUNK])]
    return ids


async def run_one(url: str, backend: str, pending: int, due: int, repeat: int) -> Figure:
    database = Database.connect(url)
    try:
        await upgrade(database)
        now = datetime.now(UTC)
        started = time.perf_counter()
        await seed(database, due, pending, now)
        await analyze(database)
        print(
            f"  {backend}: seeded {pending:,} pending ({due:,} due) in {time.perf_counter() - started:.0f} s"
        )
        # Every hour is a working hour here, so that the bench measures delivery, not waiting.
        hours = WorkingHours(clock_time(0, 0), clock_time(23, 59))
        policy = SchedulePolicy(working_hours=hours, weekdays=frozenset(range(7)))
        times = []
        for _ in range(repeat):
            ticker = Ticker(database, lambda: now, {PLATFORM: NoOpSender()}, policy, LexicalMatcher())
            started = time.perf_counter()
            report = await ticker.tick()
            times.append(time.perf_counter() - started)
            if report["sent"] != due:
                raise SystemExit(f"{backend}: the tick sent {report['sent']} of {due} ({report})")
            await rearm(database)
        return Figure(backend, pending, due, statistics.median(times), str(report))
    finally:
        await database.close()


async def analyze(database: Database) -> None:
    """The database as a running bot's would be after a bulk load: table statistics (autovacuum)
    and, on SQLite, the write-ahead log checkpointed (not left to the tick that comes next)."""
    if database.engine.dialect.name == "postgresql":
        async with database.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))
        return
    path = database.engine.url.database
    assert path is not None

    def settle_file() -> None:
        # Outside SQLAlchemy: the bot's SQLite connections begin every transaction IMMEDIATE.
        with closing(sqlite3.connect(path)) as connection:
            connection.execute("ANALYZE")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    await asyncio.to_thread(settle_file)


async def rearm(database: Database) -> None:
    """Make the same prompts due again, as they were before the tick, for the next round."""
    async with database.unit_of_work() as uow:
        await uow.session.execute(delete(DeliveryRow))
        await uow.session.execute(
            delete(ScheduledItemRow).where(ScheduledItemRow.kind == ItemKind.LESSON_REMINDER.value)
        )
        await uow.session.execute(
            update(ScheduledItemRow)
            .where(ScheduledItemRow.kind == ItemKind.LESSON_PROMPT.value)
            .values(status=ItemStatus.PENDING.value, sent_at=None)
        )
        await uow.session.execute(update(MisstepRow).values(prompt_state=LessonPromptState.WAITING.value))
        await uow.commit()
    await analyze(database)


async def sqlite_url(pending: int) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"tick-{pending}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 (before anything runs)
    return f"sqlite+aiosqlite:///{path}"


async def postgres_url(admin: str, name: str) -> str | None:
    import asyncpg

    dsn = make_url(admin).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError) as error:
        print(f"  postgres: skipped, {admin} is not reachable ({type(error).__name__})")
        return None
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


async def drop_postgres(admin: str, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(
        make_url(admin).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await connection.close()


async def main(sizes: list[int], due: int, backends: list[str], repeat: int) -> None:
    admin = os.environ.get("RETRO_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    figures: list[Figure] = []
    for backend in backends:
        for pending in sizes:
            if backend == "sqlite":
                figures.append(await run_one(await sqlite_url(pending), backend, pending, due, repeat))
                continue
            name = f"retro_bench_tick_{os.getpid()}"
            url = await postgres_url(admin, name)
            if url is None:
                break
            try:
                figures.append(await run_one(url, backend, pending, due, repeat))
            finally:
                await drop_postgres(admin, name)
    print()
    print("| backend | pending | due | one tick (median) | items/s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for f in figures:
        print(f"| {f.backend} | {f.pending:,} | {f.due:,} | {f.seconds:.1f} s | {f.per_second:,.0f} |")
    print()
    for backend in backends:
        runs = {f.pending: f for f in figures if f.backend == backend}
        if len(runs) == len(sizes) and len(sizes) > 1:
            small, large = runs[min(sizes)], runs[max(sizes)]
            print(
                f"{backend}: tick time with {large.pending:,} pending / with {small.pending:,} pending "
                f"= {large.seconds / small.seconds:.2f}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--pending", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument(
        "--backend", choices=("sqlite", "postgres"), nargs="+", default=["sqlite", "postgres"]
    )
    parser.add_argument("--repeat", type=int, default=3, help="ticks per size; the median is shown")
    arguments = parser.parse_args()
    asyncio.run(main(sorted(arguments.pending), arguments.due, arguments.backend, arguments.repeat))
