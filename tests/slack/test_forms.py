"""Modals and buttons: `/retro oops` with no text, the lesson form, the App Home."""

from __future__ import annotations

import json

import pytest

from bot.app import App
from tests.emulators.slack import SlackEmulator, button, dm_channel, visible_text
from tests.slack.chat import form_opened, open_form, reply_with, say

pytestmark = pytest.mark.wire


def inputs(view: dict) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b["type"] == "input"]


async def test_oops_without_text_opens_the_form_and_submitting_it_logs_the_misstep(
    slack: SlackEmulator, bot: App
) -> None:
    view_id = await open_form(slack, "oops")
    # The placeholder opened at once with the command's trigger; the form replaced it.
    assert [c.method for c in slack.calls if c.method.startswith("views.")] == ["views.open", "views.update"]
    view = slack.views[view_id]
    assert view["title"]["text"] == "Log a misstep"
    assert inputs(view) == ["what", "goal", "depth", "tags", "anonymous"]
    submitted = await slack.submit(
        view_id,
        {
            "what": "the import lost our tags",
            "goal": "set up the account",
            "depth": "setback",
            "tags": "onboarding, imports",
            "anonymous": True,
        },
    )
    assert submitted.status == 200
    assert submitted.body == ""  # an empty ack closes the modal
    reply = await slack.wait_for(lambda: slack.replies_to("U1"))
    text = visible_text(reply[0].blocks)
    assert "Logged #1 (setback): the import lost our tags" in text
    assert "anonymous" in text
    story = await say(slack, "status #1")
    assert "set up the account" in story
    assert "#imports #onboarding" in story
    assert "anonymously" in story


async def test_a_bad_input_is_shown_under_it_in_the_open_form_and_nothing_is_logged(
    slack: SlackEmulator, bot: App
) -> None:
    view_id = await open_form(slack, "oops")
    too_many = ", ".join(f"tag{i}" for i in range(11))
    submitted = await slack.submit(view_id, {"what": "the import lost our tags", "tags": too_many})
    assert submitted.status == 200
    answer = json.loads(submitted.body)
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {"tags": "That's 11 tags; 10 at most, please."}
    assert "Nothing open" in await say(slack, "status")


async def test_the_lesson_form_saves_the_lesson(slack: SlackEmulator, bot: App) -> None:
    await say(slack, "oops the deploy skipped the migrations")
    view_id = await open_form(slack, "learned #1")
    view = slack.views[view_id]
    assert view["title"]["text"] == "Lesson for #1"
    assert inputs(view) == ["lesson", "next_time"]
    await slack.submit(view_id, {"lesson": "migrations come first", "next_time": "a deploy checklist"})
    saved = await reply_with(slack, "Saved the lesson")
    assert "migrations come first" in visible_text(saved.blocks)
    assert "a deploy checklist" in await say(slack, "status #1")


async def test_a_form_for_a_misstep_that_is_not_there_shows_why_in_the_modal(
    slack: SlackEmulator, bot: App
) -> None:
    await slack.command("learned #9")
    view = await slack.wait_for(
        lambda: next((v for v in slack.views.values() if "can't find #9" in visible_text(v["blocks"])), None)
    )
    assert view["close"]["text"] == "Close"
    assert "submit" not in view


async def test_app_home_shows_own_open_missteps_and_the_teams_lessons(slack: SlackEmulator, bot: App) -> None:
    await say(slack, "oops the build broke #ci")
    await say(slack, "oops the demo laptop had no charger")
    await say(slack, "learned #2 pack the charger next time: a demo checklist")
    await say(slack, "oops Grace's own thing", user="U2")
    await say(slack, "oops a private channel thing", channel="CSECRET", user="U2")
    await slack.event({"type": "app_home_opened", "user": "U1", "channel": dm_channel("U1"), "tab": "home"})
    home = await slack.wait_for(lambda: slack.home_views.get("U1"))
    text = visible_text(home["blocks"])
    assert "Waiting for your lesson" in text
    assert "the build broke" in text
    assert "pack the charger" in text
    assert "Grace's own thing" not in text  # not Ada's
    assert "private channel" not in text  # a team Ada never took part in
    # The home's button opens the lesson form (no response_url in a view: the answer comes by DM).
    await slack.click(button(home["blocks"], "Add the lesson for #1"))
    view_id = await form_opened(slack)
    await slack.submit(view_id, {"lesson": "run the build before merging"})
    dm = await slack.wait_for(lambda: [m for m in slack.channel_posts(dm_channel("U1")) if "Saved" in m.text])
    assert "run the build before merging" in visible_text(dm[0].blocks)


async def test_an_empty_home_explains_how_to_start(slack: SlackEmulator, bot: App) -> None:
    await slack.event({"type": "app_home_opened", "user": "U2", "channel": dm_channel("U2"), "tab": "home"})
    home = await slack.wait_for(lambda: slack.home_views.get("U2"))
    assert "Nothing here yet" in visible_text(home["blocks"])


async def test_when_slack_cannot_open_the_form_the_person_is_told(slack: SlackEmulator, bot: App) -> None:
    slack.fail("views.open", error="expired_trigger_id")  # the placeholder
    slack.fail("views.open", error="expired_trigger_id")  # and the form itself
    await slack.command("oops")
    note = await reply_with(slack, "I couldn't open the form")
    assert "/retro help oops" in visible_text(note.blocks)
    assert slack.views == {}
