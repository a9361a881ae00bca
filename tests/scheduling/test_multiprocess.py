"""Several real `retro run` processes on one PostgreSQL database, each running the real Discord
adapter against the Discord emulator: each ticks, none shows a message twice, and one killed with
SIGKILL mid-tick loses nothing.

Nothing is swapped: the workers are the installed console command, configured by the environment
as an operator would. The emulator is the keyed sink: the Discord sender posts every message with a
nonce derived from its delivery key (``enforce_nonce``), and the emulator drops a repeated nonce.
Each worker logs in with its own token, so every message says which process posted it.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.discord.sender import nonce
from bot.core.model import Depth, ItemKind, ItemStatus, TeamRef
from bot.storage.database import Database
from bot.storage.repositories.scheduling import NewItem
from bot.storage.tables import DeliveryRow, ScheduledItemRow
from tests.emulators.discord import DiscordEmulator, Guild, Sent, User

RETRO = Path(sys.executable).parent / "retro"
"""The console command `pip install` put next to this Python: what an operator runs."""
GUILDS, PROMPTS, POSTS = 20, 1_000, 2_000
"""On Discord a guild is one team: 20 guilds with a channel each, 50 members in each guild."""
WORKERS = 3
VICTIM, RESTARTED = "worker-0", "worker-0-restarted"
TOKENS = [*(f"worker-{n}" for n in range(WORKERS)), RESTARTED]
"""One bot token per process (the emulator accepts them all as the same bot), so every message
says which process posted it. The victim comes back under a new token: its resends are told apart
from what it posted before it died."""
KILL_AT = 40
"""The victim is killed while the emulator accepts its 40th message, before it hears the answer."""
RATE_LIMITED_AT = {300, 1_200, 2_100}
"""After this many messages, the next post is answered with a 429 and a retry_after, as Discord does."""
MESSAGES = r"/channels/\d+/messages"
DEADLINE = 300
"""Seconds before the test gives up waiting (a hang is a failure, not a slow pass)."""
POLL = 0.1


class Watch:
    """The test's hand on the emulator, at the moment it accepts each message."""

    def __init__(self, discord: DiscordEmulator) -> None:
        self.discord = discord
        self.victim: asyncio.subprocess.Process | None = None
        self.victim_posted = 0
        self.killed = False

    def accepted(self, sent: Sent) -> None:
        if len(self.discord.sent) in RATE_LIMITED_AT:
            self.discord.rate_limit("POST", MESSAGES, retry_after=0.5)
        if sent.token == VICTIM and self.victim is not None:
            self.victim_posted += 1
            if self.victim_posted == KILL_AT:
                # Stored, but the worker dies before the answer is even written: its delivery
                # stays `sending`, with the rest of its batch.
                self.victim.send_signal(signal.SIGKILL)
                self.killed = True


async def seed(database: Database, discord: DiscordEmulator, due: datetime) -> list[str]:
    """Lesson prompts (DMs) for 1,000 missteps of 1,000 members and 2,000 round summaries in the
    teams' channels, all due, all to guilds, channels and people the emulator knows. Returns the
    delivery keys."""
    guilds: list[Guild] = [discord.add_guild(f"Guild {g}") for g in range(GUILDS)]
    channels = [discord.add_channel(guild, "retro") for guild in guilds]
    people: list[User] = [discord.add_user(f"Member {i}", guilds[i % GUILDS]) for i in range(PROMPTS)]
    items: list[NewItem] = []
    async with database.unit_of_work() as uow:
        teams = [
            await uow.teams.add(TeamRef("discord", str(guild.id), str(channel.id)), guild.name, "UTC", due)
            for guild, channel in zip(guilds, channels, strict=True)
        ]
        for i, person in enumerate(people):
            team = teams[i % GUILDS]
            member = await uow.members.upsert(
                "discord", team.ref.workspace, str(person.id), person.name, None, due
            )
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
            items.append(NewItem(team.id, "discord", ItemKind.LESSON_PROMPT, due, misstep.id, member.id))
        # The summaries cover the three days before `due`, when nothing was logged: short messages
        # of one part (one nonce) each.
        items += [
            NewItem(
                teams[i % GUILDS].id,
                "discord",
                ItemKind.ROUND_SUMMARY,
                due,
                window_start=due - timedelta(days=3),
            )
            for i in range(POSTS)
        ]
        await uow.outbox.plan(items, due)
        await uow.commit()
        rows = await uow.session.execute(select(ScheduledItemRow.id, ScheduledItemRow.occurrence))
        return [f"retro-{item_id}-{occurrence}" for item_id, occurrence in rows]


async def start_worker(
    database_url: str, discord: DiscordEmulator, token: str, home: Path
) -> asyncio.subprocess.Process:
    """`retro run`, configured by its environment alone. Nothing inherited decides anything: no
    platform tokens, no RETRO_* settings, no config file."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "DISCORD_", "RETRO_"))
    }
    env = inherited | {
        "RETRO_DATABASE_URL": database_url,
        "XDG_CONFIG_HOME": str(home / "no-such-config"),
        "RETRO_TICK_INTERVAL": "0.2s",
        "RETRO_CLAIM_LEASE": "10s",
        "RETRO_LOG_LEVEL": "WARNING",
        # Members are reachable around the clock, whenever the test runs.
        "RETRO_WORKING_HOURS": "00:00-23:59",
        "RETRO_WEEKDAYS": "mon-sun",
        "DISCORD_BOT_TOKEN": token,
        "DISCORD_API_URL": discord.api_url,
    }
    return await asyncio.create_subprocess_exec(
        RETRO, "run", cwd=home, env=env, stdin=asyncio.subprocess.DEVNULL
    )


async def until(
    check: Callable[[], bool | Awaitable[bool]], what: str, alive: Sequence[asyncio.subprocess.Process]
) -> None:
    """Poll the emulator or the database until `check` holds. A worker of `alive` that exits fails
    the test at once; a hang fails it after DEADLINE."""
    try:
        async with asyncio.timeout(DEADLINE):
            while True:
                result = check()
                if await result if inspect.isawaitable(result) else result:
                    return
                exited = [worker.returncode for worker in alive if worker.returncode is not None]
                assert not exited, f"a worker exited ({exited}) while waiting for {what}"
                await asyncio.sleep(POLL)
    except TimeoutError:
        raise AssertionError(f"timed out after {DEADLINE}s waiting for {what}") from None


async def all_settled(database: Database, count: int) -> bool:
    """Whether the database shows every item sent (the emulator may hear of a send first)."""
    async with database.unit_of_work() as uow:
        sent = await uow.session.scalar(
            select(func.count()).where(
                ScheduledItemRow.status == ItemStatus.SENT.value,
                ScheduledItemRow.kind != ItemKind.LESSON_REMINDER.value,
            )
        )
    return sent == count


@pytest.mark.slow
@pytest.mark.wire
@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_three_workers_one_killed_mid_tick_deliver_everything_exactly_once(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    discord = DiscordEmulator(tokens=TOKENS)
    await discord.start()
    workers: list[asyncio.subprocess.Process] = []
    try:
        keys = await seed(database, discord, datetime.now(UTC) - timedelta(seconds=1))
        watch = Watch(discord)
        discord.on_accept = watch.accepted
        workers += [await start_worker(database_url, discord, token, tmp_path) for token in TOKENS[:WORKERS]]
        watch.victim = workers[0]
        await until(lambda: watch.killed, f"the victim's message #{KILL_AT}", workers)
        async with asyncio.timeout(DEADLINE):
            assert await workers[0].wait() == -signal.SIGKILL
        workers.append(await start_worker(database_url, discord, RESTARTED, tmp_path))
        alive = workers[1:]
        await until(lambda: len(discord.sent) >= len(keys), "every message", alive)
        await until(lambda: all_settled(database, len(keys)), "every delivery recorded as sent", alive)
        # The gateway holds a session for each living worker at once.
        await until(lambda: sorted(discord.connected) == sorted(TOKENS[1:]), "three gateway sessions", alive)
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
            await worker.wait()
        await discord.close()

    # Every delivery shows exactly once, as one message with its key's nonce, where it belongs.
    assert sorted(m.payload["nonce"] for m in discord.sent) == sorted(nonce(key, 0) for key in keys)
    assert Counter(m.channel.is_dm for m in discord.sent) == {True: PROMPTS, False: POSTS}
    # What the victim had posted but not yet recorded was posted again, by another worker, with the
    # same nonce, and dropped; nothing anybody else posted was repeated.
    repeated = [m for m in discord.sent if m.repeats]
    assert repeated, "the post caught by the kill was resent with its nonce (and dropped as a repeat)"
    assert {m.token for m in repeated} == {VICTIM}
    assert {token for m in repeated for token in m.repeats} <= set(TOKENS[1:])
    # The 429s were waited out by discord.py and the post retried; Discord refused nothing.
    posts = [status for method, path, status in discord.requests if method == "POST" and "/messages" in path]
    assert posts.count(429) == len(RATE_LIMITED_AT)
    assert discord.errors == []
    async with database.unit_of_work() as uow:
        states = Counter((await uow.session.execute(select(DeliveryRow.state))).scalars())
        reminders = await uow.session.scalar(
            select(func.count()).where(ScheduledItemRow.kind == ItemKind.LESSON_REMINDER.value)
        )
    assert states == {"sent": len(keys)}
    assert reminders == PROMPTS  # each prompt's next step planned exactly once
