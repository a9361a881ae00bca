"""The whole loop on an injected clock: oops -> prompt at the right local time -> reminder ->
lesson -> check -> outcome, for members in different timezones and across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.core.model import ItemKind, ItemStatus, LessonPromptState, Outcome, ScheduledItem
from bot.storage.tables import DeliveryRow, MisstepRow, ScheduledItemRow
from tests.scheduling.helpers import Bot, local, wall

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


async def misstep_row(bot: Bot, number: int) -> MisstepRow:
    async with bot.database.unit_of_work() as uow:
        row = await uow.session.scalar(select(MisstepRow).where(MisstepRow.number == number))
        assert row is not None
        return row


async def test_whole_cycle_for_members_in_different_timezones_across_dst(bot: Bot) -> None:
    bot.clock.set(datetime(2026, 10, 19, 11, 0, tzinfo=UTC))  # Monday, 13:00 in Berlin (CEST)
    reply = await bot.chat.say("ana", "oops setback the deploy skipped the migrations", timezone=BERLIN)
    assert "I'll ask you what it taught you tomorrow at 09:00 your time (Europe/Berlin)" in reply

    await bot.run_until(datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    [prompt] = bot.to("ana")
    assert wall(prompt.at, BERLIN) == datetime(2026, 10, 20, 9, 0)
    assert "What did #1 teach you?" in prompt.text
    assert "[Add the lesson: /retro learned #1]" in prompt.text

    await bot.run_until(datetime(2026, 10, 22, 12, 0, tzinfo=UTC))
    reminder = bot.to("ana")[1]
    assert wall(reminder.at, BERLIN) == datetime(2026, 10, 22, 9, 0)  # two working days later
    assert "One last nudge" in reminder.text

    reply = await bot.chat.say(
        "ana", "learned #1 migrations are part of the deploy next time: run them in the pipeline"
    )
    assert "I'll check in whether it stuck on 5 Nov at 14:00 your time (Europe/Berlin)" in reply

    # Ben is in New York, where summer time ends a week after Berlin's.
    bot.clock.set(local(NEW_YORK, 2026, 10, 26, 16, 0))
    reply = await bot.chat.say("ben", "oops the invoice run used last month's rates", timezone=NEW_YORK)
    assert "tomorrow at 12:00 your time (America/New_York)" in reply
    await bot.run_until(local(NEW_YORK, 2026, 10, 27, 13, 0))
    [ben_prompt] = bot.to("ben")
    assert wall(ben_prompt.at, NEW_YORK) == datetime(2026, 10, 27, 12, 0)  # 1 working hour + 3
    await bot.chat.say("ben", "learned rates come from the current sheet")

    await bot.run_until(datetime(2026, 11, 5, 18, 0, tzinfo=UTC))
    check = bot.to("ana")[2]
    assert wall(check.at, BERLIN) == datetime(2026, 11, 5, 14, 0)  # 14:00 CET now, was CEST
    assert check.at == datetime(2026, 11, 5, 13, 0, tzinfo=UTC)
    assert "Did the lesson from #1 stick?" in check.text
    assert "run them in the pipeline" in check.text
    assert "Outcome: learning" in await bot.chat.say("ana", "check #1 stuck")

    await bot.run_until(local(NEW_YORK, 2026, 11, 10, 14, 0))
    [_, ben_check] = bot.to("ben")
    assert wall(ben_check.at, NEW_YORK) == datetime(2026, 11, 10, 13, 0)  # EST now, was EDT
    reply = await bot.chat.say("ben", "check #2 unsure")
    assert "I'll ask once more whether it stuck on 24 Nov at 14:00 your time" in reply

    await bot.run_until(datetime(2026, 12, 10, 0, 0, tzinfo=UTC))
    [_, _, again] = bot.to("ben")
    assert wall(again.at, NEW_YORK) == datetime(2026, 11, 24, 14, 0)  # 14 days after the answer
    assert "As promised, asking once more" in again.text
    # No answer: the window closes a week later with no recurrence, and that is learning.
    ben_misstep = await misstep_row(bot, 2)
    assert ben_misstep.outcome == Outcome.LEARNING.value
    assert ben_misstep.check_window_closed_at == local(NEW_YORK, 2026, 12, 1, 14, 0)
    assert len(bot.to("ana")) == 3  # prompt, reminder, check: nothing more


async def test_unanswered_prompt_and_reminder_make_it_failing_and_the_asking_stops(bot: Bot) -> None:
    await bot.chat.say("ana", "oops the standup notes went to the wrong channel")
    await bot.run_until(bot.clock.now + timedelta(days=30))
    prompts = bot.to("ana")
    assert len(prompts) == 2
    assert "One last nudge" in prompts[1].text
    row = await misstep_row(bot, 1)
    assert row.outcome == Outcome.FAILING.value
    assert row.prompt_state == LessonPromptState.CLOSED.value
    # A lesson later still turns it around once it sticks.
    await bot.chat.say("ana", "learned #1 check the channel before posting")
    await bot.run_until(bot.clock.now + timedelta(days=15))
    assert "Outcome: learning" in await bot.chat.say("ana", "check #1 stuck")


async def test_a_lesson_before_the_prompt_means_no_prompt_and_a_check_instead(bot: Bot) -> None:
    await bot.chat.say("ana", "oops setback forgot the release notes")
    await bot.chat.say("ana", "learned release notes are part of done")
    await bot.run_until(bot.clock.now + timedelta(days=13))
    assert bot.to("ana") == []
    await bot.run_until(bot.clock.now + timedelta(days=2))
    [check] = bot.to("ana")
    assert "Did the lesson from #1 stick?" in check.text


async def test_recurred_answer_makes_it_failing_and_nothing_more_is_asked(bot: Bot) -> None:
    await bot.chat.say("ana", "oops the backup job was off")
    await bot.chat.say("ana", "learned backups need monitoring")
    await bot.run_until(bot.clock.now + timedelta(days=15))
    assert "failing" in await bot.chat.say("ana", "check #1 recurred")
    await bot.run_until(bot.clock.now + timedelta(days=40))
    assert len(bot.to("ana")) == 1
    assert (await misstep_row(bot, 1)).outcome == Outcome.FAILING.value


async def test_unsure_twice_asks_no_more_and_the_window_closes_as_planned(bot: Bot) -> None:
    await bot.chat.say("ana", "oops the release tag was wrong")
    await bot.chat.say("ana", "learned tags come from the pipeline")
    await bot.run_until(bot.clock.now + timedelta(days=15))
    await bot.chat.say("ana", "check #1 unsure")
    await bot.run_until(bot.clock.now + timedelta(days=15))
    reply = await bot.chat.say("ana", "check #1 unsure")
    assert "That was my last ask" in reply
    await bot.run_until(bot.clock.now + timedelta(days=30))
    assert len(bot.to("ana")) == 2
    assert (await misstep_row(bot, 1)).outcome == Outcome.LEARNING.value


async def test_confirmed_repeat_stops_the_earlier_misstep_check(bot: Bot) -> None:
    await bot.chat.say("ana", "oops the staging deploy skipped migrations #deploys")
    await bot.chat.say("ana", "learned migrations run in the pipeline")
    await bot.chat.say("ben", "oops the production deploy skipped migrations #deploys")
    await bot.chat.say("ben", "same #2 #1")
    await bot.run_until(bot.clock.now + timedelta(days=30))
    assert not any("#1 stick" in d.text for d in bot.to("ana"))
    assert (await misstep_row(bot, 1)).outcome == Outcome.FAILING.value


async def test_anonymous_author_is_forgotten_once_no_prompt_needs_them(bot: Bot) -> None:
    await bot.chat.say("ana", "oops setback anon I broke the billing export")
    await bot.run_until(bot.clock.now + timedelta(days=2))
    [prompt] = bot.to("ana")
    assert "only you see this message" in prompt.text
    assert "Ana" not in prompt.text
    await bot.run_until(bot.clock.now + timedelta(days=30))
    row = await misstep_row(bot, 1)
    assert row.outcome == Outcome.FAILING.value
    assert row.author_id is None
    async with bot.database.unit_of_work() as uow:
        recipients = await uow.session.scalars(
            select(ScheduledItemRow.member_id).where(ScheduledItemRow.misstep_id == row.id)
        )
        assert set(recipients) == {None}
        delivered_to = await uow.session.scalars(
            select(DeliveryRow.member_id).where(DeliveryRow.member_id.is_not(None))
        )
        assert list(delivered_to) == []


async def test_anonymous_author_is_forgotten_when_the_lesson_comes_in(bot: Bot) -> None:
    await bot.chat.say("ana", "oops anon lost the meeting notes")
    await bot.run_until(bot.clock.now + timedelta(days=1))
    assert len(bot.to("ana")) == 1
    await bot.chat.say("ana", "learned #1 notes go in the shared doc")
    row = await misstep_row(bot, 1)
    assert row.author_id is None
    lesson_items = [
        i for i in await bot.items() if i.kind in (ItemKind.LESSON_PROMPT, ItemKind.LESSON_REMINDER)
    ]
    assert lesson_items
    assert all(i.member_id is None for i in lesson_items)


async def test_falls_in_quick_succession_lengthen_each_others_cool_down(bot: Bot) -> None:
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    bot.clock.set(monday)
    for what in ("the migration wiped a table", "the rollback failed", "the hotfix broke login"):
        await bot.chat.say("ana", f"oops fall {what}")
    prompts = sorted(i.due_at for i in await bot.items(ItemKind.LESSON_PROMPT))
    assert prompts == [
        datetime(2026, 11, 25, 9, 0, tzinfo=UTC),  # Wednesday
        datetime(2026, 11, 27, 9, 0, tzinfo=UTC),  # Friday
        datetime(2026, 12, 1, 9, 0, tzinfo=UTC),  # Tuesday after
    ]


async def test_prompts_due_together_go_out_as_one_message(bot: Bot) -> None:
    for what in ("the build cache was stale", "the test data was wrong", "the flag was on"):
        await bot.chat.say("ana", f"oops setback {what}")
    await bot.run_until(bot.clock.now + timedelta(days=1, hours=2))
    [bundle] = bot.to("ana")
    assert "3 things from your retro" in bundle.text
    assert all(f"#{n} teach you?" in bundle.text for n in (1, 2, 3))
    items = await bot.items(ItemKind.LESSON_PROMPT)
    assert [i.status for i in items] == [ItemStatus.SENT] * 3
    assert [i.lead_id for i in items] == [None, items[0].id, items[0].id]


async def test_no_member_gets_more_than_three_bot_messages_in_a_week_and_nothing_is_lost(bot: Bot) -> None:
    start = bot.clock.now
    for day in range(5):
        bot.clock.set(start + timedelta(days=day, hours=1))
        await bot.chat.say("ana", f"oops stumble number {day + 1}")
    await bot.run_until(start + timedelta(days=60))
    sent = [d.at for d in bot.to("ana")]
    for at in sent:
        assert sum(at <= other < at + timedelta(days=7) for other in sent) <= 3
    # Every prompt and every reminder went out (some bundled), and every misstep ended.
    for kind in (ItemKind.LESSON_PROMPT, ItemKind.LESSON_REMINDER):
        assert [i.status for i in await bot.items(kind)] == [ItemStatus.SENT] * 5
    texts = "\n".join(d.text for d in bot.to("ana"))
    assert all(f"#{n} teach you?" in texts for n in range(1, 6))
    for number in range(1, 6):
        assert (await misstep_row(bot, number)).outcome == Outcome.FAILING.value


async def pending_checks(bot: Bot) -> list[ScheduledItem]:
    return [i for i in await bot.items(ItemKind.CHECK) if i.status is ItemStatus.PENDING]


async def test_editing_a_late_lesson_that_stuck_keeps_it_learning(bot: Bot) -> None:
    await bot.chat.say("ana", "oops the standup notes went to the wrong channel")
    await bot.run_until(bot.clock.now + timedelta(days=30))
    assert (await misstep_row(bot, 1)).outcome == Outcome.FAILING.value  # the prompt window closed
    assert "Saved the lesson" in await bot.chat.say("ana", "learned #1 chek the channel before posting")
    await bot.run_until(bot.clock.now + timedelta(days=15))
    assert "Outcome: learning" in await bot.chat.say("ana", "check #1 stuck")
    learned = await misstep_row(bot, 1)

    bot.clock.set(bot.clock.now + timedelta(days=3))
    reply = await bot.chat.say("ana", "learned #1 check the channel before posting")
    row = await misstep_row(bot, 1)
    assert (row.outcome, row.outcome_at) == (Outcome.LEARNING.value, learned.outcome_at)
    assert "Updated the lesson for #1" in reply
    assert "check in" not in reply
    await bot.run_until(bot.clock.now + timedelta(days=40))
    assert len(bot.to("ana")) == 3  # prompt, reminder, check: a typo fix asks nothing again


async def test_an_edit_keeps_the_planned_check_and_a_lesson_after_a_recurrence_restarts_it(bot: Bot) -> None:
    await bot.chat.say("ana", "oops setback forgot the release notes")
    await bot.chat.say("ana", "learned release notes are part of done")
    [planned] = await pending_checks(bot)
    bot.clock.set(bot.clock.now + timedelta(days=10))
    reply = await bot.chat.say(
        "ana", "learned #1 release notes are part of done next time: add them to the PR"
    )
    assert "Updated the lesson for #1" in reply
    assert await pending_checks(bot) == [planned]
    await bot.run_until(planned.run_at)
    [check] = bot.to("ana")
    assert check.at == planned.run_at
    assert "add them to the PR" in check.text

    assert "failing" in await bot.chat.say("ana", "check #1 recurred")
    renewed_at = bot.clock.now + timedelta(days=1)
    bot.clock.set(renewed_at)
    reply = await bot.chat.say("ana", "learned #1 a bot checks the release notes")
    assert "I'll check in whether it stuck" in reply  # a new lesson after a repeat: a new clock
    [again] = await pending_checks(bot)
    assert again.due_at >= renewed_at + timedelta(days=14)
    bot.clock.set(bot.clock.now + timedelta(days=2))
    await bot.chat.say("ana", "learned #1 a bot checks the release notes on every PR")
    assert await pending_checks(bot) == [again]  # and editing that one keeps its check


async def test_dismissing_a_confirmed_repeat_puts_the_earlier_check_back(bot: Bot) -> None:
    await bot.chat.say("ana", "oops the staging deploy skipped migrations #deploys")
    await bot.chat.say("ana", "learned migrations run in the pipeline")
    [planned] = await pending_checks(bot)
    bot.clock.set(bot.clock.now + timedelta(days=2))
    await bot.chat.say("ben", "oops the production deploy skipped migrations #deploys")
    await bot.chat.say("ben", "same #2 #1")
    assert await pending_checks(bot) == []
    reply = await bot.chat.say("ben", "dismiss #2 #1")
    assert "The follow-up check of #1 is back on" in reply
    [back] = await pending_checks(bot)
    assert (back.due_at, back.run_at, back.member_id) == (planned.due_at, planned.run_at, planned.member_id)
    await bot.run_until(bot.clock.now + timedelta(days=30))
    assert any("Did the lesson from #1 stick?" in d.text for d in bot.to("ana"))
    assert (await misstep_row(bot, 1)).outcome == Outcome.LEARNING.value  # the window closed


async def test_dismissing_a_repeat_after_the_check_was_answered_asks_nothing_again(bot: Bot) -> None:
    await bot.chat.say("ana", "oops the staging deploy skipped migrations #deploys")
    await bot.chat.say("ana", "learned migrations run in the pipeline")
    await bot.run_until(bot.clock.now + timedelta(days=15))
    await bot.chat.say("ana", "check #1 stuck")
    await bot.chat.say("ben", "oops the production deploy skipped migrations #deploys")
    await bot.chat.say("ben", "same #2 #1")
    reply = await bot.chat.say("ben", "dismiss #2 #1")
    assert "back on" not in reply
    assert await pending_checks(bot) == []
    assert (await misstep_row(bot, 1)).outcome == Outcome.LEARNING.value


async def test_an_edit_by_someone_else_hands_the_check_not_yet_asked_to_them(bot: Bot) -> None:
    await bot.chat.say("ana", "oops setback forgot the release notes")
    await bot.chat.say("ana", "learned release notes are part of done")
    [planned] = await pending_checks(bot)
    bot.clock.set(bot.clock.now + timedelta(days=3))
    reply = await bot.chat.say("ben", "learned #1 release notes are part of done next time: a PR checklist")
    assert "Updated the lesson for #1" in reply
    [handed] = await pending_checks(bot)
    assert handed.member_id != planned.member_id
    assert (handed.due_at, handed.run_at) == (planned.due_at, planned.run_at)
    await bot.run_until(planned.run_at)
    [check] = bot.to("ben")
    assert "a PR checklist" in check.text
    assert bot.to("ana") == []
