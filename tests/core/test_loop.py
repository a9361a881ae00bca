"""The misstep -> lesson -> check loop, driven through the fake adapter."""

from __future__ import annotations

from adapters.fake import FakeChat


async def test_oops_replies_with_team_scoped_numbers(chat: FakeChat) -> None:
    assert "Logged #1" in await chat.say("ana", "oops the deploy broke #deploys")
    assert "Logged #2" in await chat.say("ben", "oops the demo laptop had no adapter")
    other = chat.elsewhere()
    assert "Logged #1" in await other.say("cy", "oops forgot the standup")


async def test_lesson_then_stuck_check_makes_the_misstep_learning(chat: FakeChat) -> None:
    await chat.say("ana", "oops the deploy skipped migrations #deploys")
    await chat.say("ana", "learned migrations are not automatic next time: run them in the pipeline")
    reply = await chat.say("ben", "check #1 stuck")
    assert "learning (failing = learning)" in reply
    story = await chat.say("ana", "status #1")
    assert "Outcome: learning" in story
    assert "run them in the pipeline (owner: Ana)" in story


async def test_another_teams_number_is_not_found(chat: FakeChat) -> None:
    await chat.say("ana", "oops secret thing happened in team one")
    reply = await chat.elsewhere().say("eve", "status #1")
    assert "can't find #1" in reply
    assert "secret" not in reply
