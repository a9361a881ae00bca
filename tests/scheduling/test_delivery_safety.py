"""Delivery when things change under it: a resend that is no longer needed or has lost its
recipient, one item that cannot be prepared in a batch, a send whose answer was lost, the round
summary's matching kept off the event loop, and old request keys pruned by the tick."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from adapters.fake import FakeChat, ManualClock
from bot.core import prompts
from bot.core.messages import Message, render_plain
from bot.core.model import ItemKind, ItemStatus, Misstep, Outcome
from bot.core.ports import TransientError, Uncertain
from bot.core.similarity import Document, LexicalMatcher, Match, Matcher
from bot.scheduling.policy import SchedulePolicy
from bot.scheduling.tick import Ticker
from bot.storage.database import Database
from bot.storage.repositories.scheduling import DeliveryState, NewItem
from bot.storage.tables import DeliveryRow, InvocationRow, MisstepRow, ScheduledItemRow
from tests.scheduling.helpers import Bot, Crash, KeyedSink

POLICY = SchedulePolicy()
TUESDAY_NINE = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
"""When a setback logged on the Monday the tests start on gets its lesson prompt."""
PRIVATE_NOTE = "only you see this message"
"""What an anonymous author's prompt says: it must never reach the channel."""


def ticker(database: Database, clock: ManualClock, sink: KeyedSink, matcher: Matcher | None = None) -> Ticker:
    return Ticker(database, clock, {sink.platform: sink}, POLICY, matcher or LexicalMatcher())


async def delivery_of(database: Database, item_id: int) -> DeliveryRow:
    async with database.unit_of_work() as uow:
        row = await uow.session.scalar(select(DeliveryRow).where(DeliveryRow.item_id == item_id))
        assert row is not None
        return row


async def assert_every_misstep_reached_an_outcome(bot: Bot) -> None:
    """Nothing of a conversation is left waiting or stranded in a bundle, and each misstep ended."""
    left = [
        (i.kind, i.status)
        for i in await bot.items()
        if i.misstep_id is not None and i.status in (ItemStatus.PENDING, ItemStatus.BUNDLED)
    ]
    assert left == []
    async with bot.database.unit_of_work() as uow:
        outcomes = list(await uow.session.scalars(select(MisstepRow.outcome).order_by(MisstepRow.number)))
    assert outcomes
    assert Outcome.OPEN.value not in outcomes


async def fail_first_attempt(bot: Bot) -> None:
    """Run up to the first lesson prompt, whose one attempt meets a transient error."""
    first = min(i.run_at for i in await bot.items(ItemKind.LESSON_PROMPT))
    bot.sender.failures = [TransientError("503")]
    await bot.run_until(first)
    assert next(i.status for i in await bot.items(ItemKind.LESSON_PROMPT)) is ItemStatus.PENDING
    assert bot.delivered == []


# -- resends ---------------------------------------------------------------------------------


async def test_a_retry_after_the_lesson_came_in_is_dropped_and_never_goes_to_the_channel(bot: Bot) -> None:
    await bot.chat.say("ana", "oops fall anon the migration wiped the orders table")
    await fail_first_attempt(bot)
    # The author's address is erased as the lesson comes in, while the prompt waits for its retry.
    await bot.chat.say("ana", "learned #1 migrations get a dry run on a copy first")
    await bot.run_until(bot.clock.now + timedelta(days=40))
    assert not any(PRIVATE_NOTE in d.text for d in bot.to(None))
    assert not any("#1 teach you?" in d.text or "about #1" in d.text for d in bot.delivered)
    [prompt] = await bot.items(ItemKind.LESSON_PROMPT)
    assert (prompt.status, prompt.last_error) == (ItemStatus.CANCELLED, "the lesson came in")
    assert (await delivery_of(bot.database, prompt.id)).state == DeliveryState.FAILED
    assert any("Did the lesson from #1 stick?" in d.text for d in bot.to("ana"))
    await assert_every_misstep_reached_an_outcome(bot)


async def test_forgetting_an_anonymous_author_puts_what_rode_in_their_prompt_back_in_the_queue(
    bot: Bot,
) -> None:
    await bot.chat.say("ana", "oops setback anon I pushed the wrong config")
    await bot.chat.say("ana", "oops setback the release notes were empty")
    await fail_first_attempt(bot)
    lead, rider = await bot.items(ItemKind.LESSON_PROMPT)
    assert (rider.status, rider.lead_id) == (ItemStatus.BUNDLED, lead.id)
    await bot.chat.say("ana", "learned #1 configs go through review")
    [lead, rider] = await bot.items(ItemKind.LESSON_PROMPT)
    assert (rider.status, rider.lead_id) == (ItemStatus.PENDING, None)  # no link to the author left
    await bot.run_until(bot.clock.now + timedelta(days=40))
    assert not any(PRIVATE_NOTE in d.text for d in bot.to(None))
    texts = [d.text for d in bot.to("ana")]
    assert not any("#1 teach you?" in t for t in texts)
    assert ["nudge" in t for t in texts if "#2 teach you?" in t] == [False, True]  # prompt, reminder
    lead, rider = await bot.items(ItemKind.LESSON_PROMPT)
    assert (lead.status, rider.status) == (ItemStatus.CANCELLED, ItemStatus.SENT)
    await assert_every_misstep_reached_an_outcome(bot)


@pytest.mark.parametrize("learned", [1, 2], ids=["the lead's lesson", "a rider's lesson"])
async def test_a_retry_leaves_out_the_prompts_whose_lesson_came_in(bot: Bot, learned: int) -> None:
    await bot.chat.say("ana", "oops setback the build cache was stale")
    await bot.chat.say("ana", "oops setback the test data was wrong")
    await fail_first_attempt(bot)
    await bot.chat.say("ana", f"learned #{learned} check it before the run")
    await bot.run_until(bot.clock.now + timedelta(hours=1))
    still = 3 - learned
    [retry] = bot.to("ana")
    assert f"#{still} teach you?" in retry.text
    assert f"#{learned} teach you?" not in retry.text
    by_number = dict(zip((1, 2), await bot.items(ItemKind.LESSON_PROMPT), strict=True))
    assert (by_number[learned].status, by_number[learned].last_error) == (
        ItemStatus.CANCELLED,
        "the lesson came in",
    )
    assert by_number[still].status is ItemStatus.SENT
    await bot.run_until(bot.clock.now + timedelta(days=40))
    await assert_every_misstep_reached_an_outcome(bot)


async def test_a_send_caught_by_a_crash_is_not_resent_once_the_lesson_came_in(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await chat.say("ana", "oops setback anon lost the meeting notes")
    clock.set(TUESDAY_NINE)
    sink = KeyedSink(idempotent=True, crash_after_send=True)
    with pytest.raises(Crash):
        await ticker(database, clock, sink).tick()
    sink.crash_after_send = False
    await chat.say("ana", "learned #1 notes go in the shared doc")
    clock.advance(POLICY.claim_lease)
    report = await ticker(database, clock, sink).tick()
    assert report["cancelled"] == 1
    assert len(sink.attempts) == 1  # not even a repeat the platform would drop: it might go elsewhere
    async with database.unit_of_work() as uow:
        prompt = await uow.session.scalar(
            select(ScheduledItemRow).where(ScheduledItemRow.kind == ItemKind.LESSON_PROMPT.value)
        )
    assert prompt is not None
    assert prompt.status == ItemStatus.CANCELLED.value
    # It may have arrived, so it still counts against the no-nagging cap.
    assert (await delivery_of(database, prompt.id)).state == DeliveryState.UNKNOWN


async def test_a_private_retry_whose_recipient_is_gone_fails_and_never_goes_to_the_channel(bot: Bot) -> None:
    await bot.chat.say("ana", "oops setback the release notes were empty")
    await fail_first_attempt(bot)
    [prompt] = await bot.items(ItemKind.LESSON_PROMPT)
    async with bot.database.unit_of_work() as uow:  # its address was erased meanwhile
        await uow.session.execute(
            update(ScheduledItemRow).where(ScheduledItemRow.id == prompt.id).values(member_id=None)
        )
        await uow.commit()
    await bot.run_until(bot.clock.now + timedelta(hours=1))
    assert bot.delivered == []
    [prompt] = await bot.items(ItemKind.LESSON_PROMPT)
    assert (prompt.status, prompt.last_error) == (ItemStatus.FAILED, "the recipient is no longer known")
    # The conversation goes on as after any failed message.
    assert [i.status for i in await bot.items(ItemKind.LESSON_REMINDER)] == [ItemStatus.PENDING]


# -- one bad item ----------------------------------------------------------------------------


class BrokenMatcher:
    """A matcher that falls over, its error quoting what it was given (as a real one might)."""

    name = "broken"

    def rank(self, query: Document, documents: Sequence[Document]) -> list[Match]:
        raise RuntimeError(f"cannot rank {query.text}")

    def suggest(self, query: Document, documents: Sequence[Document]) -> list[Match]:
        raise RuntimeError(f"cannot match {query.text}")


async def test_an_item_that_cannot_be_composed_fails_alone_and_the_batch_goes_on(
    chat: FakeChat, database: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    await chat.say("ana", "oops setback the secret rotation broke staging")
    await chat.say("ben", "oops setback the dashboard showed yesterday")
    async with database.unit_of_work() as uow:
        team = await uow.teams.find(chat.team)
        assert team is not None
        # A round summary due just before the prompts, so it is the first item of the batch.
        summary = NewItem(
            team.id, "fake", ItemKind.ROUND_SUMMARY, TUESDAY_NINE - timedelta(hours=1), window_start=clock.now
        )
        await uow.outbox.plan([summary], clock.now)
        await uow.commit()
    clock.set(TUESDAY_NINE)
    sink = KeyedSink()
    with caplog.at_level(logging.ERROR):
        report = await ticker(database, clock, sink, BrokenMatcher()).tick()
    assert (report["failed"], report["sent"]) == (1, 2)
    assert {o.destination.user_id for o in sink.shown} == {"ana", "ben"}
    assert "RuntimeError" in caplog.text
    assert "secret rotation" not in caplog.text
    clock.advance(hours=1)
    assert (await ticker(database, clock, sink, BrokenMatcher()).tick())["failed"] == 0  # not taken again
    assert "Round summary, Tue 24 Nov 08:00: not delivered: could not be prepared (RuntimeError)" in (
        await chat.say("ana", "status")
    )


async def test_a_prompt_that_cannot_be_composed_fails_alone_and_its_bundle_goes_out(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    compose = prompts.lesson_prompt

    def lesson_prompt(misstep: Misstep, reminder: bool = False) -> Message:
        if misstep.number == 2:
            raise ValueError("broken")
        return compose(misstep, reminder)

    monkeypatch.setattr(prompts, "lesson_prompt", lesson_prompt)
    for what in ("the build cache was stale", "the test data was wrong", "the flag was on"):
        await bot.chat.say("ana", f"oops setback {what}")
    await bot.run_until(TUESDAY_NINE)
    [bundle] = bot.to("ana")
    assert "#1 teach you?" in bundle.text
    assert "#3 teach you?" in bundle.text
    assert [i.status for i in await bot.items(ItemKind.LESSON_PROMPT)] == [
        ItemStatus.SENT,
        ItemStatus.FAILED,
        ItemStatus.SENT,
    ]
    # Like any message that failed, it does not stop the conversation: every misstep ends.
    await bot.run_until(bot.clock.now + timedelta(days=30))
    await assert_every_misstep_reached_an_outcome(bot)


# -- sends whose answer was lost -------------------------------------------------------------


async def test_an_uncertain_send_is_retried_with_its_key_where_the_platform_drops_repeats(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await chat.say("ana", "oops setback the release notes were empty")
    clock.set(TUESDAY_NINE)
    sink = KeyedSink(idempotent=True, failures=[Uncertain("the answer was lost")])
    assert (await ticker(database, clock, sink).tick())["retrying"] == 1
    async with database.unit_of_work() as uow:
        prompt = await uow.session.scalar(
            select(ScheduledItemRow).where(ScheduledItemRow.kind == "lesson_prompt")
        )
    assert prompt is not None
    assert prompt.last_error == "the answer was lost"
    clock.set(prompt.run_at)
    assert (await ticker(database, clock, sink).tick())["sent"] == 1
    assert len(sink.attempts) == 2
    assert len(set(sink.attempts)) == 1  # the same key both times


async def test_an_uncertain_send_is_never_resent_where_the_platform_cannot_drop_repeats(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await chat.say("ana", "oops setback the release notes were empty")
    clock.set(TUESDAY_NINE)
    sink = KeyedSink(idempotent=False, failures=[Uncertain("2 of 3 parts went out")])
    assert (await ticker(database, clock, sink).tick())["unknown"] == 1
    clock.advance(days=1)
    await ticker(database, clock, sink).tick()
    assert len(sink.attempts) == 1
    assert "may not have arrived" in await chat.say("ana", "status")
    async with database.unit_of_work() as uow:
        reminders = list(
            await uow.session.scalars(
                select(ScheduledItemRow.status).where(ScheduledItemRow.kind == "lesson_reminder")
            )
        )
    assert reminders == [ItemStatus.PENDING.value]  # the conversation goes on


# -- the round summary's matching ------------------------------------------------------------


class LoopWatcher(LexicalMatcher):
    """The lexical matcher, noting each call made on the event loop's thread."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.on_loop = 0

    def suggest(self, query: Document, documents: Sequence[Document]) -> list[Match]:
        self.calls += 1
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # a worker thread: no loop runs here
        else:
            self.on_loop += 1
        return super().suggest(query, documents)


async def test_the_round_summary_matches_in_a_worker_thread(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    for what in (
        "the deploy skipped the migrations",
        "the deploy skipped migrations again",
        "coffee ran out",
    ):
        await chat.say("ana", f"oops {what}")
    async with database.unit_of_work() as uow:
        team = await uow.teams.find(chat.team)
        assert team is not None
        summary = NewItem(
            team.id, "fake", ItemKind.ROUND_SUMMARY, clock.now + timedelta(hours=1), window_start=clock.now
        )
        await uow.outbox.plan([summary], clock.now)
        await uow.commit()
    clock.advance(hours=1)
    watcher, sink = LoopWatcher(), KeyedSink()
    await ticker(database, clock, sink, watcher).tick()
    [posted] = [o for o in sink.shown if o.destination.user_id is None]
    assert "3 entries came in" in render_plain(posted.message)
    assert watcher.calls > 0
    assert watcher.on_loop == 0


# -- request keys ----------------------------------------------------------------------------


async def test_a_tick_forgets_request_keys_older_than_a_day(
    chat: FakeChat, database: Database, clock: ManualClock
) -> None:
    await chat.invoke("ana", "oops the old one", key="old")
    clock.advance(hours=23)
    await chat.invoke("ana", "oops the recent one", key="recent")
    clock.advance(hours=2)
    await ticker(database, clock, KeyedSink()).tick()
    async with database.unit_of_work() as uow:
        assert list(await uow.session.scalars(select(InvocationRow.key))) == ["recent"]
    # Within the day a redelivery still does nothing.
    await chat.invoke("ana", "oops the recent one", key="recent")
    async with database.unit_of_work() as uow:
        assert len(list(await uow.session.scalars(select(MisstepRow.id)))) == 2
