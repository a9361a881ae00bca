"""Each process's heartbeat: APScheduler 3.x beats every `tick_interval` on the app's event loop,
and each beat starts a tick. Its job store lives in memory and is never shared: what is due lives
in the database, and the heartbeat only decides how often this process looks."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduling.tick import Ticker

log = logging.getLogger(__name__)


class Heartbeat:
    """A `Service` that ticks until cancelled."""

    name = "scheduler"

    def __init__(self, ticker: Ticker, interval: timedelta) -> None:
        self.ticker = ticker
        self.interval = interval

    async def beat(self) -> None:
        try:
            report = await self.ticker.tick()
        except Exception:
            # One bad tick (the database away for a moment) must not stop the next one.
            log.exception("tick failed; the next one will try again")
            return
        if report.counts:
            log.info("tick: %s", report)

    async def run(self) -> None:
        # The scheduler only wakes this task; the tick runs here, in the service's own task, so
        # that stopping the app stops a tick cleanly (its transaction rolled back, its connection
        # returned) before the database is closed. Beats during a long tick collapse into one.
        due = asyncio.Event()

        async def wake() -> None:
            due.set()

        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        scheduler.add_job(
            wake,
            "interval",
            seconds=self.interval.total_seconds(),
            next_run_time=datetime.now(UTC),
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.start()
        try:
            while True:
                await due.wait()
                due.clear()
                await self.beat()
        finally:
            scheduler.shutdown(wait=False)
