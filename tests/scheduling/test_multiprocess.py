"""Several real worker processes on one PostgreSQL database: each ticks, none sends twice, and
one killed with SIGKILL mid-tick loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.core.model import Depth, ItemKind, ItemStatus, TeamRef
from bot.storage.database import Database
from bot.storage.repositories.scheduling import NewItem
from bot.storage.tables import DeliveryRow, ScheduledItemRow

ROOT = Path(__file__).resolve().parents[2]
TEAMS, PROMPTS, POSTS = 20, 1_000, 2_000
KILL_AFTER = 40
"""The victim is killed while handing over its 40th message, before the sink answers."""
RATE_LIMITED_AT = {300, 1_200, 2_100}
"""The sink answers these requests with a 429 and a Retry-After, as platforms do."""
WORKERS = 3
DEADLINE = 300
"""Seconds before the test gives up waiting (a hang is a failure, not a slow pass)."""


class Sink:
    """The keyed delivery sink: accepts each key once and drops repeats, counting every attempt."""

    def __init__(self) -> None:
        self.delivered: Counter[str] = Counter()
        self.attempts: list[tuple[str, int]] = []
        self.victim: asyncio.subprocess.Process | None = None
        self.victim_keys: set[str] = set()
        self.killed = asyncio.Event()
        self.done = asyncio.Event()
        self.expected = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        key, pid = body["key"], body["pid"]
        self.attempts.append((key, pid))
        if len(self.attempts) in RATE_LIMITED_AT:
            return web.Response(status=429, headers={"Retry-After": "0.5"})
        first = key not in self.delivered
        self.delivered[key] += 1
        if self.victim is not None and pid == self.victim.pid:
            self.victim_keys.add(key)
            if len(self.victim_keys) == KILL_AFTER and not self.killed.is_set():
                # Accepted, but the worker dies before hearing so: its delivery stays `sending`.
                self.victim.send_signal(signal.SIGKILL)
                self.killed.set()
        if first and len(self.delivered) == self.expected:
            self.done.set()
        return web.Response(text="ok" if first else "repeat dropped")


async def seed(database: Database, due: datetime) -> list[str]:
    """Lesson prompts for 1,000 missteps of 1,000 members and 2,000 channel posts, all due.
    Returns the delivery keys expected at the sink."""
    items: list[NewItem] = []
    async with database.unit_of_work() as uow:
        teams = [
            await uow.teams.add(TeamRef("fake", "W1", f"C{i}"), f"team {i}", "UTC", due) for i in range(TEAMS)
        ]
        for i in range(PROMPTS):
            team = teams[i % TEAMS]
            member = await uow.members.upsert("fake", "W1", f"U{i}", f"Member {i}", None, due)
            misstep = await uow.missteps(team.id).add(
                number=await uow.teams.next_misstep_number(team.id),
                what=f"misstep {i}",
                goal=None,
                depth=Depth.SETBACK,
                tags=(),
                anonymous=False,
                author_id=member.id,
                now=due,
            )
            items.append(NewItem(team.id, "fake", ItemKind.LESSON_PROMPT, due, misstep.id, member.id))
        items += [
            NewItem(
                teams[i % TEAMS].id, "fake", ItemKind.ROUND_SUMMARY, due, window_start=due - timedelta(days=3)
            )
            for i in range(POSTS)
        ]
        await uow.outbox.plan(items, due)
        await uow.commit()
        rows = await uow.session.execute(select(ScheduledItemRow.id, ScheduledItemRow.occurrence))
        return [f"retro-{item_id}-{occurrence}" for item_id, occurrence in rows]


async def start_worker(database_url: str, sink_url: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "RETRO_DATABASE_URL": database_url,
        "XDG_CONFIG_HOME": str(ROOT / "tests" / "no-such-config"),
        "RETRO_TICK_INTERVAL": "0.2s",
        "RETRO_CLAIM_LEASE": "10s",
        "RETRO_LOG_LEVEL": "WARNING",
        # Members are reachable around the clock, whenever the test runs.
        "RETRO_WORKING_HOURS": "00:00-23:59",
        "RETRO_WEEKDAYS": "mon-sun",
        "SINK_URL": sink_url,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.scheduling.worker", cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_three_workers_one_killed_mid_tick_deliver_everything_exactly_once(
    database_url: str, database: Database
) -> None:
    expected = await seed(database, datetime.now(UTC) - timedelta(seconds=1))
    sink = Sink()
    sink.expected = len(expected)
    server = web.Application()
    server.router.add_post("/deliver", sink.handle)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}/deliver"
    workers = [await start_worker(database_url, url) for _ in range(WORKERS)]
    sink.victim = workers[0]
    try:
        await asyncio.wait_for(sink.killed.wait(), DEADLINE)
        assert await workers[0].wait() == -signal.SIGKILL
        workers.append(await start_worker(database_url, url))  # the restart
        await asyncio.wait_for(sink.done.wait(), DEADLINE)
        await asyncio.wait_for(_all_settled(database, len(expected)), DEADLINE)
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
            await worker.wait()
        await runner.cleanup()

    assert sorted(sink.delivered) == sorted(expected)
    resent = {key for key, count in sink.delivered.items() if count > 1}
    assert resent, "the send caught by the kill was resent with its key (and dropped as a repeat)"
    assert resent <= sink.victim_keys  # only what the killed worker had in flight
    async with database.unit_of_work() as uow:
        states = Counter((await uow.session.execute(select(DeliveryRow.state))).scalars())
        reminders = await uow.session.scalar(
            select(func.count()).where(ScheduledItemRow.kind == ItemKind.LESSON_REMINDER.value)
        )
    assert states == {"sent": len(expected)}
    assert reminders == PROMPTS  # each prompt's next step planned exactly once


async def _all_settled(database: Database, count: int) -> None:
    """Wait until the database shows every item sent (the sink may hear of a send first)."""
    while True:
        async with database.unit_of_work() as uow:
            sent = await uow.session.scalar(
                select(func.count()).where(
                    ScheduledItemRow.status == ItemStatus.SENT.value,
                    ScheduledItemRow.kind != ItemKind.LESSON_REMINDER.value,
                )
            )
        if sent == count:
            return
        await asyncio.sleep(0.2)
