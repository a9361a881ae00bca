"""A `retro` worker process for the multi-process test (`python -m tests.scheduling.worker`).

It is the production app, built by `bot.app.build_app` from the environment's settings: the
APScheduler heartbeat, the tick, the claim, the delivery records, the retries. One thing is
swapped, the way every test swaps it: the `Sender`. This one hands each message to the test's
keyed sink over HTTP, with its delivery key, the way Discord's nonce lets a platform drop a repeat.
"""

from __future__ import annotations

import asyncio
import os

import aiohttp

from bot.app import build_app
from bot.core.ports import Outgoing, RateLimited, TransientError
from bot.logs import configure_logging
from bot.settings import load_settings


class HttpSink:
    platform = "fake"
    idempotent = True

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.session = session

    async def send(self, outgoing: Outgoing) -> None:
        payload = {"key": outgoing.key, "pid": os.getpid(), "to": outgoing.destination.user_id}
        async with self.session.post(self.url, json=payload) as response:
            if response.status == 429:
                raise RateLimited(float(response.headers["Retry-After"]))
            if response.status != 200:
                raise TransientError(f"sink answered {response.status}")


async def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    async with aiohttp.ClientSession() as session:
        app = await build_app(settings, terminal=False, senders=[HttpSink(os.environ["SINK_URL"], session)])
        await app.run()


if __name__ == "__main__":
    asyncio.run(main())
