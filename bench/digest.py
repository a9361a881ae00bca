"""Bench: the weekly digest at scale (10,000 teams, 2,000,000 missteps of history).

    .venv/bin/python bench/digest.py [--backend sqlite|postgres|both] [--teams N] [--missteps N]

For each backend it creates a database of its own (a temporary SQLite file; a `retro_bench_digest`
database on the PostgreSQL server of RETRO_BENCH_POSTGRES_URL, dropped afterwards), migrates it,
bulk-loads two years of generated history (SQLite: one transaction of `executemany`; PostgreSQL:
COPY), runs ANALYZE, and then, in a fresh child process so that its peak memory is its own:

* builds every team's digest figures for one week (`TeamDigest.figures`, the SQL part), counting
  the statements each one sends with a `before_cursor_execute` listener;
* builds complete digests (figures, words and the trend chart PNG) for a sample of teams, to time
  a whole digest; the chart is most of it, so the all-teams figure is extrapolated from that.

It prints how it measured next to each figure. Nothing here is asserted: tests prove the counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event
from sqlalchemy.engine import make_url

from bot.core.digest.figures import DigestWindow
from bot.core.digest.render import render_digest
from bot.core.digest.week import Week
from bot.scheduling.policy import SchedulePolicy
from bot.storage.database import Database
from bot.storage.migrate import upgrade

POSTGRES_URL = os.environ.get("RETRO_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
BENCH_DB = "retro_bench_digest"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
"""Monday noon UTC: in every bench timezone the last full week is 2026-W47."""
WEEK = Week(2026, 47)
HISTORY = timedelta(weeks=104)
TIMEZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Pacific/Chatham",
)
TAGS = ("deploys", "onboarding", "tooling", "data", "meetings", "communication", "security", "teaching")
DEPTHS = ("stumble", "stumble", "stumble", "setback", "setback", "fall")
MEMBERS_PER_TEAM = 6
FLUSH_ROWS = 50_000

COLUMNS = {
    "workspaces": ("id", "platform", "workspace", "created_at"),
    "teams": ("id", "platform", "workspace", "channel", "name", "timezone", "misstep_seq", "created_at"),
    "members": ("id", "platform", "workspace", "user_id", "display_name", "created_at"),
    "missteps": (
        "id",
        "team_id",
        "number",
        "what",
        "goal",
        "depth",
        "anonymous",
        "author_id",
        "created_at",
        "prompt_state",
        "prompt_closed_at",
        "check_window_closed_at",
        "outcome",
        "outcome_at",
    ),
    "misstep_tags": ("misstep_id", "tag", "team_id"),
    "lessons": (
        "id",
        "team_id",
        "misstep_id",
        "text",
        "commitment",
        "owner_id",
        "created_at",
        "updated_at",
        "renewed_at",
    ),
    "checks": ("id", "team_id", "misstep_id", "answer", "answered_by", "answered_at"),
    "recurrences": (
        "id",
        "team_id",
        "misstep_id",
        "earlier_id",
        "status",
        "score",
        "created_at",
        "decided_at",
        "decided_by",
    ),
}

CHECK_AFTER = SchedulePolicy().check_after


# -- the generated history ------------------------------------------------------------------


def history(teams: int, missteps: int, seed: int = 7) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(table, row) for a deterministic history; datetimes naive UTC, as the database stores them."""
    rng = random.Random(seed)
    start = (NOW - HISTORY).replace(tzinfo=None)
    span = HISTORY.total_seconds()
    created = start - timedelta(days=1)
    yield "workspaces", (1, "bench", "W", created)
    ids = {"missteps": 0, "lessons": 0, "checks": 0, "recurrences": 0}
    for team in range(1, teams + 1):
        count = missteps // teams + (team <= missteps % teams)
        yield "teams", (team, "bench", "W", f"C{team}", f"team {team}", TIMEZONES[team % 6], count, created)
        first_member = (team - 1) * MEMBERS_PER_TEAM + 1
        members = range(first_member, first_member + MEMBERS_PER_TEAM)
        for member in members:
            yield "members", (member, "bench", "W", f"U{member}", f"person {member}", created)
        times = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(count))
        with_lesson: list[int] = []
        for number, at in enumerate(times, 1):
            ids["missteps"] += 1
            misstep = ids["missteps"]
            author = rng.choice(members)
            anonymous = rng.random() < 0.1
            lesson_at = at + timedelta(days=rng.uniform(0.2, 3))
            has_lesson = rng.random() < 0.65 and lesson_at < NOW.replace(tzinfo=None)
            outcome, outcome_at, closed_at, window_at, prompt = "open", None, None, None, "prompted"
            if has_lesson:
                roll = rng.random()
                decided = lesson_at + timedelta(days=rng.uniform(14, 21))
                if decided < NOW.replace(tzinfo=None) and roll < 0.75:
                    outcome, outcome_at = ("learning", decided) if roll < 0.6 else ("failing", decided)
                    if roll < 0.3:
                        window_at = decided
            elif at + timedelta(days=5) < NOW.replace(tzinfo=None) and rng.random() < 0.6:
                prompt, closed_at = "closed", at + timedelta(days=5)
                outcome, outcome_at = "failing", closed_at
            yield (
                "missteps",
                (
                    misstep,
                    team,
                    number,
                    f"misstep {number} of team {team}",
                    None if rng.random() < 0.15 else "ship the thing",
                    rng.choice(DEPTHS),
                    anonymous,
                    None if anonymous else author,
                    at,
                    prompt,
                    closed_at,
                    window_at,
                    outcome,
                    outcome_at,
                ),
            )
            for tag in rng.sample(TAGS, rng.randint(0, 2)):
                yield "misstep_tags", (misstep, tag, team)
            if has_lesson:
                ids["lessons"] += 1
                yield (
                    "lessons",
                    (
                        ids["lessons"],
                        team,
                        misstep,
                        f"lesson of {number}",
                        "next time do it differently",
                        rng.choice(members),
                        lesson_at,
                        lesson_at,
                        lesson_at,
                    ),
                )
                if outcome_at is not None and window_at is None:
                    ids["checks"] += 1
                    answer = "stuck" if outcome == "learning" else "recurred"
                    yield "checks", (ids["checks"], team, misstep, answer, rng.choice(members), outcome_at)
                if with_lesson and rng.random() < 0.04:
                    earlier = rng.choice(with_lesson)
                    ids["recurrences"] += 1
                    yield (
                        "recurrences",
                        (
                            ids["recurrences"],
                            team,
                            misstep,
                            earlier,
                            "confirmed",
                            0.8,
                            at,
                            at + timedelta(hours=2),
                            author,
                        ),
                    )
                with_lesson.append(misstep)


def batches(rows: Iterator[tuple[str, tuple[Any, ...]]]) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """The rows grouped by table, every table flushed together in `COLUMNS` order (parents before
    children, for the foreign keys) whenever `FLUSH_ROWS` have piled up."""
    buffers: dict[str, list[tuple[Any, ...]]] = {table: [] for table in COLUMNS}
    pending = 0
    for table, row in rows:
        buffers[table].append(row)
        pending += 1
        if pending >= FLUSH_ROWS:
            yield from ((t, b) for t, b in buffers.items() if b)
            buffers = {table: [] for table in COLUMNS}
            pending = 0
    yield from ((t, b) for t, b in buffers.items() if b)


# -- loading ---------------------------------------------------------------------------------


def sqlite_value(value: Any) -> Any:
    # SQLAlchemy's SQLite DateTime stores this exact text; the digest compares against it.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def load_sqlite(path: str, teams: int, missteps: int) -> dict[str, int]:
    counts = dict.fromkeys(COLUMNS, 0)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("BEGIN")
    for table, rows in batches(history(teams, missteps)):
        columns = COLUMNS[table]
        connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [tuple(sqlite_value(v) for v in row) for row in rows],
        )
        counts[table] += len(rows)
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.close()
    return counts


async def load_postgres(url: str, teams: int, missteps: int) -> dict[str, int]:
    import asyncpg

    counts = dict.fromkeys(COLUMNS, 0)
    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        async with connection.transaction():
            for table, rows in batches(history(teams, missteps)):
                await connection.copy_records_to_table(table, records=rows, columns=COLUMNS[table])
                counts[table] += len(rows)
        for table in ("workspaces", "teams", "members", "missteps", "lessons", "checks", "recurrences"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return counts


async def admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


# -- measuring (in a child process) ----------------------------------------------------------


async def measure(url: str, sample: int) -> dict[str, Any]:
    database = Database.connect(url)
    statements = 0

    def count(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        nonlocal statements
        # SQLite's BEGIN IMMEDIATE (see bot.storage.database) opens the unit of work, not the digest.
        statements += not statement.startswith("BEGIN")

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    async with database.unit_of_work() as uow:
        teams = await uow.teams.all()
    per_digest: set[int] = set()
    figures_of = {}
    started = time.perf_counter()
    for team in teams:
        window = DigestWindow.for_week(WEEK, team.timezone, NOW, CHECK_AFTER)
        async with database.unit_of_work() as uow:
            before = statements
            figures = await uow.digest(team.id).figures(window)
            per_digest.add(statements - before)
        if len(figures_of) < sample:
            figures_of[team.name] = figures
    sql_seconds = time.perf_counter() - started
    started = time.perf_counter()
    pngs = sum(bool(render_digest(name, f).attachments) for name, f in figures_of.items())
    render_seconds = time.perf_counter() - started
    await database.close()
    return {
        "teams": len(teams),
        "sql_seconds": sql_seconds,
        "statements_per_digest": sorted(per_digest),
        "sample": len(figures_of),
        "sample_with_chart": pngs,
        "render_seconds": render_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# -- driver ----------------------------------------------------------------------------------


def run_backend(backend: str, teams: int, missteps: int, sample: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sqlite":
            path = str(Path(tmp) / "bench.db")
            url = f"sqlite+aiosqlite:///{path}"
        else:
            url = make_url(POSTGRES_URL).set(database=BENCH_DB).render_as_string(hide_password=False)
            asyncio.run(admin(POSTGRES_URL, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
            asyncio.run(admin(POSTGRES_URL, f"CREATE DATABASE {BENCH_DB}"))
        try:
            asyncio.run(migrate(url))
            started = time.perf_counter()
            if backend == "sqlite":
                counts = load_sqlite(path, teams, missteps)
            else:
                counts = asyncio.run(load_postgres(url, teams, missteps))
            load_seconds = time.perf_counter() - started
            rows = sum(counts.values())
            rate = rows / load_seconds
            print(f"\n== {backend}: loaded {rows:,} rows in {load_seconds:.0f} s ({rate:,.0f} rows/s)")
            print("   " + ", ".join(f"{table} {n:,}" for table, n in counts.items()))
            child = subprocess.run(
                [sys.executable, __file__, "--measure", url, "--sample", str(sample)],
                capture_output=True,
                text=True,
                check=True,
            )
            report(json.loads(child.stdout))
        finally:
            if backend == "postgres":
                asyncio.run(admin(POSTGRES_URL, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))


async def migrate(url: str) -> None:
    database = Database.connect(url)
    await upgrade(database)
    await database.close()


def report(result: dict[str, Any]) -> None:
    teams, sql = result["teams"], result["sql_seconds"]
    per_render = result["render_seconds"] / max(result["sample"], 1)
    print(
        f"   figures for all {teams:,} teams, week {WEEK}: {sql:.1f} s ({1000 * sql / teams:.2f} ms per team)"
    )
    counted = result["statements_per_digest"]
    print(f"   SQL statements per digest: {counted} (counted for every team with before_cursor_execute)")
    print(
        f"   words + chart PNG: {1000 * per_render:.0f} ms per digest "
        f"(timed over {result['sample']} teams, {result['sample_with_chart']} with a chart)"
    )
    print(
        f"   all {teams:,} complete digests, one after another: about {sql + per_render * teams:,.0f} s "
        "(the figures measured, the rendering extrapolated from the sample)"
    )
    print(f"   peak memory of the measuring process: {result['peak_rss_mb']:.0f} MB (ru_maxrss)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--teams", type=int, default=10_000)
    parser.add_argument("--missteps", type=int, default=2_000_000)
    parser.add_argument("--sample", type=int, default=300, help="complete digests rendered and timed")
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(measure(args.measure, args.sample))))
        return
    print(
        f"retro digest bench: {args.teams:,} teams, {args.missteps:,} missteps "
        f"over {HISTORY.days // 7} weeks, "
        f"timezones {', '.join(TIMEZONES)}; digests of {WEEK} as of {NOW:%Y-%m-%d %H:%M} UTC; "
        f"{os.cpu_count()} CPUs"
    )
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        run_backend(backend, args.teams, args.missteps, args.sample)


if __name__ == "__main__":
    main()
