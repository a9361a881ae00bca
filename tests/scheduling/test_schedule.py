"""The schedule commands, the team's weekly posts, and pauses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.core.commands import schedule as cmd
from bot.core.commands.base import UsageError
from bot.core.commands.grammar import GRAMMAR
from bot.core.model import ItemKind, ItemStatus, WeeklyTime, WorkingHours
from tests.scheduling.helpers import Bot, local, wall

BERLIN = "Europe/Berlin"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schedule", cmd.ShowSchedule()),
        ("schedule tz europe/berlin", cmd.TeamTimezone(BERLIN)),
        ("schedule retro fri 15:00", cmd.TeamPostAt(ItemKind.RETRO_ROUND, WeeklyTime(4, time(15, 0)))),
        ("schedule digest Monday 9:30", cmd.TeamPostAt(ItemKind.DIGEST, WeeklyTime(0, time(9, 30)))),
        ("schedule off digest", cmd.TeamPostSwitch(ItemKind.DIGEST, False)),
        ("schedule digest off", cmd.TeamPostSwitch(ItemKind.DIGEST, False)),
        ("schedule on retro", cmd.TeamPostSwitch(ItemKind.RETRO_ROUND, True)),
        ("tz", cmd.MyTimezone()),
        ("tz Asia/Kolkata", cmd.MyTimezone("Asia/Kolkata")),
        ("tz reset", cmd.MyTimezone(reset=True)),
        ("hours 08:30-16:30", cmd.MyHours(WorkingHours(time(8, 30), time(16, 30)))),
        ("hours reset", cmd.MyHours(reset=True)),
        ("pause", cmd.Pause()),
        ("pause 5d", cmd.Pause(length=timedelta(days=5))),
        ("pause 2 weeks", cmd.Pause(length=timedelta(days=14))),
        ("pause until 2026-12-10", cmd.Pause(until=date(2026, 12, 10))),
        ("resume", cmd.Resume()),
    ],
)
def test_schedule_commands_parse(text: str, expected: object) -> None:
    assert GRAMMAR.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("schedule tz Berlin", "Did you mean `Europe/Berlin`?"),
        ("schedule tz Europe/Berln", "Did you mean `Europe/Berlin`"),
        ("tz new york", "Give one timezone"),
        ("tz New_Yrok", "`America/New_York`"),
        ("tz Mars/Olympus", "Use an IANA name like `Europe/Berlin`"),
        ("schedule retro someday 15:00", "write it like `/retro schedule retro fri 15:00`"),
        ("schedule retro fri 25:00", "write it like `/retro schedule retro fri 15:00`"),
        ("schedule lunch fri 12:00", "say `retro` or `digest`"),
        ("schedule digest", "Say a day and a time"),
        ("hours 17:00-09:00", "must start before they end"),
        ("hours nine to five", "`/retro hours 09:00-17:00`"),
        ("pause until tomorrow", "`/retro pause until 2026-12-10`"),
        ("pause 0d", "1 day up to a year"),
        ("pause 400d", "1 day up to a year"),
        ("resume now", "takes nothing after it"),
    ],
)
def test_bad_schedule_input_gets_a_friendly_answer_saying_what_to_type(text: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        GRAMMAR.parse(text)
    assert says in caught.value.message


async def test_schedule_shows_the_team_defaults_and_the_callers_own(bot: Bot) -> None:
    await bot.chat.say("ana", "oops setback the demo crashed", timezone="Asia/Kolkata")
    shown = await bot.chat.say("ana", "schedule")
    assert "Team timezone: UTC" in shown
    assert "Retro round: Fridays at 15:00 (next on Friday at 15:00)" in shown
    assert "Weekly digest: Mondays at 09:00 (next on 30 Nov at 09:00)" in shown
    assert "Your timezone: Asia/Kolkata" in shown
    assert "Your working hours: 09:00-17:00, mon,tue,wed,thu,fri" in shown
    assert "Coming up for you: lesson prompt tomorrow at 09:00" in shown
    assert "schedule" in await bot.chat.say("ana", "help")


async def test_team_posts_go_out_at_their_local_time_across_dst(bot: Bot) -> None:
    bot.clock.set(datetime(2026, 10, 12, 8, 0, tzinfo=UTC))  # Monday
    reply = await bot.chat.say("ana", "schedule tz Europe/Berlin")
    assert "The team's timezone is now Europe/Berlin." in reply
    await bot.run_until(datetime(2026, 11, 3, 0, 0, tzinfo=UTC))
    posts = bot.to(None)
    rounds = [p for p in posts if p.outgoing.message.title == "Retro round"]
    assert [wall(p.at, BERLIN) for p in rounds] == [
        datetime(2026, 10, 16, 15, 0),
        datetime(2026, 10, 23, 15, 0),
        datetime(2026, 10, 30, 15, 0),  # after the change to winter time
    ]
    assert rounds[1].at - rounds[0].at == timedelta(days=7)
    assert rounds[2].at - rounds[1].at == timedelta(days=7, hours=1)
    assert "I'll post what came in on Monday at 09:00" in rounds[0].text
    summaries = [p for p in posts if p.outgoing.message.title == "Retro round summary"]
    assert [wall(p.at, BERLIN) for p in summaries] == [
        datetime(2026, 10, 19, 9, 0),
        datetime(2026, 10, 26, 9, 0),
        datetime(2026, 11, 2, 9, 0),
    ]
    digests = [p for p in posts if p not in rounds and p not in summaries]
    assert [wall(p.at, BERLIN) for p in digests] == [
        datetime(2026, 10, 19, 9, 0),
        datetime(2026, 10, 26, 9, 0),
        datetime(2026, 11, 2, 9, 0),
    ]


async def test_changing_and_stopping_team_posts_replans_them(bot: Bot) -> None:
    reply = await bot.chat.say("ana", "schedule retro thu 16:30")
    assert "Retro round: Thursdays at 16:30 (UTC). The next one is on Thursday at 16:30." in reply
    assert "Weekly digest: off. Turn it back on" in await bot.chat.say("ana", "schedule off digest")
    pending = {i.kind: i.due_at for i in await bot.items() if i.status is ItemStatus.PENDING}
    assert pending == {ItemKind.RETRO_ROUND: datetime(2026, 11, 26, 16, 30, tzinfo=UTC)}
    await bot.run_until(bot.clock.now + timedelta(days=14))
    assert not [
        d for d in bot.to(None) if d.outgoing.message.title and "digest" in d.outgoing.message.title.lower()
    ]
    assert "back on, Mondays at 09:00" in await bot.chat.say("ana", "schedule on digest")
    pending = {i.kind: i.due_at for i in await bot.items() if i.status is ItemStatus.PENDING}
    assert pending[ItemKind.DIGEST] == datetime(2026, 12, 14, 9, 0, tzinfo=UTC)


async def test_a_members_own_timezone_and_hours_decide_when_they_are_asked(bot: Bot) -> None:
    await bot.chat.say("ana", "tz Asia/Kolkata")
    reply = await bot.chat.say("ana", "hours 07:30-15:30")
    assert "between 07:30 and 15:30 (Asia/Kolkata)" in reply
    reply = await bot.chat.say(
        "ana", "oops setback the vendor call was double booked", timezone="Europe/Paris"
    )
    assert "tomorrow at 07:30 your time (Asia/Kolkata)" in reply  # hers wins over the platform's
    await bot.run_until(bot.clock.now + timedelta(days=1, hours=4))
    [prompt] = bot.to("ana")
    assert wall(prompt.at, "Asia/Kolkata") == datetime(2026, 11, 24, 7, 30)


async def test_a_pause_holds_everything_then_it_comes_once_in_one_message(bot: Bot) -> None:
    await bot.chat.say("ana", "oops setback the offsite booking fell through")
    await bot.chat.say("ana", "oops fall the launch slipped a month")
    reply = await bot.chat.say("ana", "pause until 2026-12-07")
    assert "Paused: no messages from me until 7 Dec at 00:00 your time. 2 prompts will wait" in reply
    await bot.run_until(datetime(2026, 12, 6, 23, 59, tzinfo=UTC))
    assert bot.to("ana") == []
    await bot.run_until(datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
    [together] = bot.to("ana")
    assert together.at == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert "#1 teach you?" in together.text
    assert "#2 teach you?" in together.text


async def test_resume_releases_what_waited_at_the_next_working_time(bot: Bot) -> None:
    await bot.chat.say("ana", "pause 2w")
    await bot.chat.say("ana", "oops setback the printer ate the contract")
    await bot.run_until(bot.clock.now + timedelta(days=3))
    assert bot.to("ana") == []
    reply = await bot.chat.say("ana", "resume")
    assert "Welcome back." in reply
    await bot.run_until(bot.clock.now + timedelta(hours=1))
    [prompt] = bot.to("ana")
    assert "#1 teach you?" in prompt.text
    assert "You're not paused" in await bot.chat.say("ana", "resume")


async def test_resume_brings_forward_what_the_pause_held_even_if_not_due_yet(bot: Bot) -> None:
    await bot.chat.say("ana", "pause 14d")
    await bot.chat.say("ana", "oops setback the printer ate the contract")
    [held] = await bot.items(ItemKind.LESSON_PROMPT)
    assert held.due_at == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # tomorrow morning, were she here
    assert held.run_at > held.due_at + timedelta(days=10)
    reply = await bot.chat.say("ana", "resume")
    [released] = await bot.items(ItemKind.LESSON_PROMPT)
    assert released.run_at == held.due_at
    await bot.run_until(held.due_at + timedelta(hours=1))
    [prompt] = bot.to("ana")
    assert prompt.at == held.due_at
    assert "#1 teach you?" in prompt.text
    assert "Welcome back. 1 prompt held by the pause will come when due, in your working hours." in reply


async def test_pause_until_a_day_that_already_began_is_refused(bot: Bot) -> None:
    reply = await bot.chat.say("ana", "pause until 2026-11-23")
    assert "has already begun where you are" in reply
    assert "You're not paused" in await bot.chat.say("ana", "pause")


async def test_oops_reply_says_when_the_prompt_comes_in_the_members_time(bot: Bot) -> None:
    bot.clock.set(local("America/New_York", 2026, 11, 27, 16, 30))  # Friday afternoon
    reply = await bot.chat.say("ben", "oops fall the data center move failed", timezone="America/New_York")
    assert "I'll ask you what it taught you on Tuesday at 09:00 your time (America/New_York)." in reply
