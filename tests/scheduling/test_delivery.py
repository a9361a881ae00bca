"""Delivery: claimed atomically, recorded once, sent once; crashes, 429s, failures, rejections,
restarts and stopped workspaces."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adapters.fake import FakeChat, ManualClock
from bot.core.engine import Engine
from bot.core.messages import render_plain
from bot.core.model import ItemKind, ItemStatus
from bot.core.ports import Outgoing, RateLimited, Rejected, TransientError
from bot.core.similarity import LexicalMatcher
from bot.scheduling import planner
from bot.scheduling.policy import SchedulePolicy
from bot.scheduling.tick import SEND_CONCURRENCY, Ticker
from bot.settings import Settings
from bot.storage.database import Database
from bot.storage.repositories.scheduling import NewItem
from bot.storage.tables import DeliveryRow, ScheduledItemRow
from tests.scheduling.helpers import Crash, KeyedSink

POLICY = SchedulePolicy()
TUESDAY_NINE = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
"""When a setback logged on the Monday the tests start on gets its lesson prompt."""
SUMMARY = ScheduledItemRow.kind == ItemKind.ROUND_SUMMARY.value


def ticker(database: Database, clock: ManualClock, sink: KeyedSink, batch_size: int = 200) -> Ticker:
    return Ticker(database, clock, {sink.platform: sink}, POLICY, LexicalMatcher(), batch_size=batch_size)


async def seed_posts(
    chat: FakeChat, database: Database, count: int, due: datetime, platform: str = "fake"
) -> None:
    """`count` channel posts due at `due` for the chat's team (round summaries)."""
    await chat.say("ana", "schedule off retro")
    await chat.say("ana", "schedule off digest")
    async with database.unit_of_work() as uow:
        team = await uow.teams.find(chat.team)
        assert team is not None
        posts = [
            NewItem(team.id, platform, ItemKind.ROUND_SUMMARY, due, window_start=due - timedelta(days=3))
            for _ in range(count)
        ]
        await uow.outbox.plan(posts, due)
        await uow.commit()


async def statuses(database: Database, kind: ItemKind) -> list[ItemStatus]:
    async with database.unit_of_work() as uow:
        rows = await uow.session.scalars(
            select(ScheduledItemRow.status)
            .where(ScheduledItemRow.kind == kind.value)
            .order_by(ScheduledItemRow.id)
        )
        return [ItemStatus(s) for s in rows]


async def prompt_due(chat: FakeChat, clock: ManualClock) -> None:
    """A setback whose lesson prompt is due now."""
    await chat.say("ana", "oops setback the release notes were empty")
    clock.set(TUESDAY_NINE)


async def test_concurrent_ticks_claim_disjoint_items_and_deliver_each_once(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await seed_posts(chat, database, 300, clock.now)
    sink = KeyedSink()
    first, second = ticker(database, clock, sink, 50), ticker(database, clock, sink, 50)
    reports = await asyncio.gather(first.tick(), second.tick())
    assert sum(r["sent"] for r in reports) == 300
    assert len(sink.attempts) == len(set(sink.attempts)) == 300
    assert await statuses(database, ItemKind.ROUND_SUMMARY) == [ItemStatus.SENT] * 300


async def test_a_claim_is_one_atomic_statement_that_never_hands_an_item_out_twice(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await seed_posts(chat, database, 40, clock.now)

    async def claim(worker: str) -> set[int]:
        async with database.unit_of_work() as uow:
            claimed = await uow.outbox.claim(clock.now, ["fake"], 25, worker, POLICY.claim_lease)
            await uow.commit()
        return {item.id for item in claimed}

    a, b = await asyncio.gather(claim("a"), claim("b"))
    assert not a & b
    assert len(a | b) == 40
    assert await claim("c") == set()  # everything is leased


async def test_items_of_a_crashed_tick_are_taken_again_once_the_lease_runs_out(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await seed_posts(chat, database, 3, clock.now)
    async with database.unit_of_work() as uow:
        assert len(await uow.outbox.claim(clock.now, ["fake"], 10, "crashed", POLICY.claim_lease)) == 3
        await uow.commit()
    sink = KeyedSink()
    assert (await ticker(database, clock, sink).tick())["sent"] == 0
    clock.advance(POLICY.claim_lease)
    assert (await ticker(database, clock, sink).tick())["sent"] == 3
    assert len(sink.attempts) == 3


async def test_a_send_caught_by_a_crash_is_resent_with_the_same_key_where_the_platform_drops_repeats(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await prompt_due(chat, clock)
    sink = KeyedSink(idempotent=True, crash_after_send=True)
    with pytest.raises(Crash):
        await ticker(database, clock, sink).tick()
    sink.crash_after_send = False
    clock.advance(POLICY.claim_lease)
    await ticker(database, clock, sink).tick()
    assert len(sink.attempts) == 2
    assert len(set(sink.attempts)) == 1  # the same key both times
    assert len(sink.shown) == 1
    assert await statuses(database, ItemKind.LESSON_PROMPT) == [ItemStatus.SENT]


async def test_a_send_caught_by_a_crash_is_never_resent_where_the_platform_cannot_drop_repeats(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await prompt_due(chat, clock)
    sink = KeyedSink(idempotent=False, crash_after_send=True)
    with pytest.raises(Crash):
        await ticker(database, clock, sink).tick()
    sink.crash_after_send = False
    clock.advance(POLICY.claim_lease)
    report = await ticker(database, clock, sink).tick()
    assert report["unknown"] == 1
    assert len(sink.attempts) == len(sink.shown) == 1
    assert await statuses(database, ItemKind.LESSON_PROMPT) == [ItemStatus.UNKNOWN]
    status = await chat.say("ana", "status")
    assert "Lesson prompt for #1" in status
    assert "may not have arrived" in status
    # The conversation goes on: the reminder is planned as if the prompt had arrived.
    assert await statuses(database, ItemKind.LESSON_REMINDER) == [ItemStatus.PENDING]


async def test_a_tick_that_lost_its_lease_midway_does_not_settle_twice(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await prompt_due(chat, clock)
    slow = KeyedSink(hold=asyncio.Event())
    stuck = asyncio.create_task(ticker(database, clock, slow).tick())
    await slow.entered.wait()  # the slow tick recorded its delivery and is mid-send
    clock.advance(POLICY.claim_lease)
    fast = KeyedSink()
    fast.shown = slow.shown  # one platform, seen through two processes' senders
    await ticker(database, clock, fast).tick()
    slow.hold.set()
    await stuck
    assert len(slow.shown) == 1
    assert await statuses(database, ItemKind.LESSON_PROMPT) == [ItemStatus.SENT]
    assert await statuses(database, ItemKind.LESSON_REMINDER) == [ItemStatus.PENDING]


async def test_a_delivery_is_recorded_once_per_item_and_occurrence(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await seed_posts(chat, database, 1, clock.now)
    await ticker(database, clock, KeyedSink()).tick()
    async with database.unit_of_work() as uow:
        delivery = await uow.session.scalar(select(DeliveryRow))
        assert delivery is not None
        uow.session.add(
            DeliveryRow(
                item_id=delivery.item_id,
                occurrence=delivery.occurrence,
                state="sending",
                created_at=clock.now,
            )
        )
        with pytest.raises(IntegrityError):
            await uow.session.flush()


async def test_rate_limit_waits_retry_after_and_holds_that_platform_for_the_tick(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await seed_posts(chat, database, 3, clock.now)
    sink = KeyedSink(failures=[RateLimited(120)])
    start = clock.now
    report = await ticker(database, clock, sink, batch_size=1).tick()
    assert report["retrying"] == 1
    assert len(sink.attempts) == 1  # the other two were not even tried against a 429
    clock.set(start + timedelta(seconds=119))
    assert (await ticker(database, clock, sink).tick())["sent"] == 2
    assert len(sink.shown) == 2
    clock.set(start + timedelta(seconds=120))
    assert (await ticker(database, clock, sink).tick())["sent"] == 1
    assert len(sink.shown) == 3
    assert len(set(sink.keys)) == 3


async def test_transient_errors_back_off_with_jitter_then_the_item_fails(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await seed_posts(chat, database, 1, clock.now)
    sink = KeyedSink(failures=[TransientError("503")] * planner.MAX_ATTEMPTS)
    tried_at = []
    for _ in range(planner.MAX_ATTEMPTS):
        async with database.unit_of_work() as uow:
            run_at = await uow.session.scalar(select(ScheduledItemRow.run_at).where(SUMMARY))
        assert run_at is not None
        clock.set(run_at)
        await ticker(database, clock, sink).tick()
        tried_at.append(run_at)
    assert len(sink.attempts) == planner.MAX_ATTEMPTS
    for attempt, (earlier, later) in enumerate(itertools.pairwise(tried_at), start=1):
        ceiling = min(planner.RETRY_CAP, planner.RETRY_BASE * 2 ** (attempt - 1))
        assert ceiling / 2 <= later - earlier <= ceiling
    async with database.unit_of_work() as uow:
        item = await uow.session.scalar(select(ScheduledItemRow).where(SUMMARY))
    assert item is not None
    assert item.status == ItemStatus.FAILED.value
    assert item.last_error == f"gave up after {planner.MAX_ATTEMPTS} attempts: 503"


async def test_a_permanent_rejection_fails_with_its_reason_and_the_queue_goes_on(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await seed_posts(chat, database, 3, clock.now)
    sink = KeyedSink(failures=[Rejected("channel_not_found")])
    report = await ticker(database, clock, sink, batch_size=1).tick()
    assert (report["failed"], report["sent"]) == (1, 2)
    assert len(sink.attempts) == 3
    clock.advance(days=1)
    await ticker(database, clock, sink).tick()
    assert len(sink.attempts) == 3  # never retried
    assert "not delivered: channel_not_found" in await chat.say("ana", "status")


async def test_a_team_post_late_within_the_grace_period_goes_once(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    due = clock.now
    await seed_posts(chat, database, 1, due)
    clock.set(due + POLICY.grace_period)  # the bot was down until now
    sink = KeyedSink()
    assert (await ticker(database, clock, sink).tick())["sent"] == 1
    clock.advance(hours=1)
    await ticker(database, clock, sink).tick()
    assert len(sink.attempts) == 1


async def test_a_team_post_later_than_the_grace_period_is_missed_and_next_week_comes_as_usual(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await chat.say("ana", "schedule off digest")
    await chat.say("ana", "schedule retro mon 10:00")  # the first is today at 10:00
    clock.set(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))  # the bot was down for a week
    sink = KeyedSink()
    report = await ticker(database, clock, sink).tick()
    assert report["missed"] == 1
    assert sink.attempts == []
    async with database.unit_of_work() as uow:
        rounds = list(
            await uow.session.scalars(
                select(ScheduledItemRow).where(
                    ScheduledItemRow.kind == ItemKind.RETRO_ROUND.value,
                    ScheduledItemRow.status != ItemStatus.CANCELLED.value,  # the default Friday one
                )
            )
        )
    assert [(r.status, r.due_at) for r in rounds] == [
        (ItemStatus.MISSED.value, datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        (ItemStatus.PENDING.value, datetime(2026, 12, 7, 10, 0, tzinfo=UTC)),  # not one per missed week
    ]
    assert await statuses(database, ItemKind.ROUND_SUMMARY) == []  # no round, no summary


async def test_a_member_prompt_found_late_at_night_waits_for_the_morning(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await prompt_due(chat, clock)
    clock.set(TUESDAY_NINE.replace(hour=21))  # down from 09:00 to 21:00
    sink = KeyedSink()
    assert (await ticker(database, clock, sink).tick())["deferred"] == 1
    clock.set(TUESDAY_NINE + timedelta(days=1))
    assert (await ticker(database, clock, sink).tick())["sent"] == 1


async def test_a_stopped_workspace_gets_no_sends(
    chat: FakeChat, engine: Engine, database: Database, clock: ManualClock
) -> None:
    await seed_posts(chat, database, 2, clock.now)
    await engine.stop_workspace("fake", "W1", "app uninstalled")
    sink = KeyedSink()
    assert (await ticker(database, clock, sink).tick())["failed"] == 2
    assert sink.attempts == []
    assert "sends to this workspace are stopped (app uninstalled)" in await chat.say("ana", "status")


async def test_a_process_claims_only_what_it_has_a_sender_for(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await seed_posts(chat, database, 2, clock.now, platform="slack")
    sink = KeyedSink()
    report = await ticker(database, clock, sink).tick()
    assert not report.counts
    assert await statuses(database, ItemKind.ROUND_SUMMARY) == [ItemStatus.PENDING] * 2


async def test_items_of_another_teams_misstep_are_never_loaded(
    chat: FakeChat, database: Database, clock: ManualClock, settings: Settings
) -> None:
    await chat.say("ana", "oops setback secret thing in team one")
    other = chat.elsewhere()
    await other.say("eve", "schedule")
    async with database.unit_of_work() as uow:
        mine = await uow.teams.find(chat.team)
        theirs = await uow.teams.find(other.team)
        assert mine is not None
        assert theirs is not None
        misstep = await uow.missteps(mine.id).by_number(1)
        assert misstep is not None
        eve = await uow.members.find("fake", other.workspace, "eve")
        assert eve is not None
        # Corrupted rows pointing at another team's misstep: the tick must not use it. The reminder
        # would quote it to eve, were the misstep loaded for her team's item.
        await uow.outbox.plan(
            [
                NewItem(theirs.id, "fake", ItemKind.CHECK, clock.now, misstep.id, None),
                NewItem(theirs.id, "fake", ItemKind.LESSON_REMINDER, clock.now, misstep.id, eve.id),
            ],
            clock.now,
        )
        await uow.commit()
    sink = KeyedSink()
    await ticker(database, clock, sink).tick()
    assert not any("secret" in render_plain(o.message) for o in sink.shown)
    async with database.unit_of_work() as uow:
        reminder = await uow.session.scalar(
            select(ScheduledItemRow).where(ScheduledItemRow.kind == ItemKind.LESSON_REMINDER.value)
        )
    assert reminder is not None
    assert (reminder.status, reminder.last_error) == (ItemStatus.CANCELLED.value, "the misstep is gone")


async def test_a_slow_batch_hands_back_what_it_could_not_start_in_the_first_half_of_its_lease(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await seed_posts(chat, database, SEND_CONCURRENCY + 2, clock.now)

    class Slow(KeyedSink):
        async def send(self, outgoing: Outgoing) -> None:
            await super().send(outgoing)
            clock.advance(POLICY.claim_lease / 2 + timedelta(seconds=1))  # a very slow platform

    slow = Slow()
    report = await ticker(database, clock, slow).tick()
    # The sends under way finish; the two still waiting for a free slot are handed back unstarted
    # and taken again under a fresh lease: each message is attempted once.
    assert (report["sent"], report["retrying"]) == (SEND_CONCURRENCY + 2, 2)
    assert len(slow.attempts) == len(set(slow.attempts)) == SEND_CONCURRENCY + 2
