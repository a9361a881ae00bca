"""`/retro digest` through the engine, and the command-line progress bar."""

from __future__ import annotations

import io

from adapters.fake import FakeChat, ManualClock
from bot.progress import ProgressBar


async def test_a_new_team_gets_the_welcome(chat: FakeChat) -> None:
    reply = await chat.invoke("ana", "digest")
    [message] = reply.private
    assert message.title == "Welcome to retro, C1"
    assert not reply.announcements


async def test_preview_shows_this_week_so_far_privately(chat: FakeChat, clock: ManualClock) -> None:
    await chat.say("ana", "oops setback anon the deploy skipped the migrations #deploys")
    clock.advance(hours=2)
    text = await chat.say("ben", "digest")
    assert "week of 23 Nov 2026 (so far)" in text
    assert "Missteps logged: 1" in text
    assert "1 setback" in text
    assert "Ana" not in text


async def test_a_named_week_and_bad_weeks(chat: FakeChat) -> None:
    await chat.say("ana", "oops the demo laptop had no adapter")
    assert "week of 23 Nov 2026 (so far)" in await chat.say("ana", "digest 2026-w48")
    assert "Welcome to retro" in await chat.say("ana", "digest 2026-W47")  # before the first misstep
    assert "hasn't started yet; this week is 2026-W48" in await chat.say("ana", "digest 2026-W49")
    assert "isn't a week I know" in await chat.say("ana", "digest next tuesday")
    assert "isn't a week I know" in await chat.say("ana", "digest 2026-W54")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_in_place_on_a_terminal_only() -> None:
    terminal = Terminal()
    with ProgressBar("importing", terminal) as bar:
        for done in range(0, 2001, 100):
            bar(done, 2000)
    drawn = terminal.getvalue()
    assert drawn.count("\r") == 21
    assert drawn.endswith("\rimporting [##############################] 100% (2,000/2,000)\n")

    piped = io.StringIO()
    with ProgressBar("importing", piped) as bar:
        bar(1, 2)
    assert piped.getvalue() == ""
