"""Every `/retro` subcommand typed in Slack: signed slash commands in, ephemeral replies out."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bot.app import App
from bot.core.commands.grammar import GRAMMAR
from tests.emulators.slack import SlackEmulator, button, dm_channel, visible_text
from tests.slack.chat import last_reply, reply_with, say

pytestmark = pytest.mark.wire


async def test_oops_records_a_misstep_and_answers_only_the_caller(slack: SlackEmulator, bot: App) -> None:
    delivery = await slack.command("oops setback the deploy script skipped the migrations #deploys")
    assert delivery.status == 200
    assert delivery.body == ""  # the ack says nothing; the answer follows through the response_url
    reply = (await slack.wait_for(lambda: slack.replies_to("U1")))[0]
    assert reply.ephemeral
    assert "Logged #1 (setback): the deploy script skipped the migrations" in visible_text(reply.blocks)
    assert "#1" in reply.text  # the notification fallback
    assert slack.channel_posts("C1") == []


async def test_the_member_comes_from_users_info_once(slack: SlackEmulator, bot: App) -> None:
    await say(slack, "oops the build broke")
    await say(slack, "oops the build broke again")
    assert len(slack.calls_to("users.info")) == 1
    story = await say(slack, "status #1")
    assert "by Ada" in story  # the display name from users.info, not the handle


async def test_learned_check_status_and_lessons(slack: SlackEmulator, bot: App) -> None:
    await say(slack, "oops the import lost our tags goal: set up the account #onboarding")
    saved = await say(slack, "learned #1 imports need a dry run next time: run every import on a copy first")
    assert "Saved the lesson for #1" in saved
    checked = await say(slack, "check #1 stuck")
    assert "That lesson stuck" in checked
    story = await say(slack, "status #1")
    assert "imports need a dry run" in story
    assert "learning" in story
    lessons = await say(slack, "lessons import")
    assert "#1" in lessons
    assert "run every import on a copy first" in lessons
    assert "Open items" in await say(slack, "status")


async def test_same_and_dismiss_through_the_suggestion_buttons(slack: SlackEmulator, bot: App) -> None:
    await say(slack, "oops the deploy skipped the database migrations #deploys")
    await say(slack, "learned #1 migrations run before the deploy next time: a checklist")
    reply = await last_reply(slack, "oops the deploy skipped the migrations again #deploys")
    assert "This looks like #1" in visible_text(reply.blocks)
    await slack.click(button(reply.blocks, "Yes, same as #1"), message=reply)
    confirmed = await reply_with(slack, "Linked #2")
    assert "#1 is now failing" in visible_text(confirmed.blocks)
    await say(slack, "oops the deploy skipped migrations once more #deploys")
    dismissed = await say(slack, "dismiss #3 #1")
    assert "is something new" in dismissed


async def test_export_arrives_as_a_file_in_the_callers_dm(slack: SlackEmulator, bot: App) -> None:
    await say(slack, "oops the build broke #ci")
    answer = await say(slack, "export csv")
    assert "1 misstep, as csv" in answer
    upload = await slack.wait_for(lambda: [u for u in slack.uploads.values() if u.channel])
    assert upload[0].channel == dm_channel("U1")
    assert upload[0].filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(upload[0].content.decode())))
    assert rows[0]["what"] == "the build broke"
    assert [c.method for c in slack.calls if c.method.startswith("files") or c.method == "upload"] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


async def test_announce_posts_new_missteps_in_the_channel_without_an_anonymous_author(
    slack: SlackEmulator, bot: App
) -> None:
    assert "off" in await say(slack, "announce")
    await say(slack, "announce on")
    await say(slack, "oops the demo laptop had no charger")
    await say(slack, "oops anon fall the backup was never tested")
    posts = await slack.wait_for(lambda: len(slack.channel_posts("C1")) == 2 and slack.channel_posts("C1"))
    named, anonymous = (visible_text(p.blocks) for p in posts)
    assert "Ada logged #1" in named
    assert "Someone (anonymously) logged #2" in anonymous
    assert "Ada" not in json.dumps([p.blocks for p in posts[1:]]) + posts[1].text
    assert "U1" not in json.dumps(posts[1].blocks)


async def test_a_channel_the_bot_cannot_post_in_is_explained_to_the_caller(
    slack: SlackEmulator, bot: App
) -> None:
    await say(slack, "announce on")
    slack.fail("chat.postMessage", error="not_in_channel")
    await say(slack, "oops the demo laptop had no charger")
    note = await reply_with(slack, "I couldn't post that in the channel")
    assert "not_in_channel" in visible_text(note.blocks)
    assert "/invite @retro" in visible_text(note.blocks)


async def test_when_the_response_url_has_expired_the_answer_comes_by_dm(
    slack: SlackEmulator, bot: App
) -> None:
    slack.response_urls_expired = True
    await slack.command("oops the build broke")
    dm = await slack.wait_for(lambda: slack.channel_posts(dm_channel("U1")))
    assert "Logged #1" in visible_text(dm[0].blocks)


async def test_help_and_unknown_words_get_friendly_answers(slack: SlackEmulator, bot: App) -> None:
    assert "/retro oops" in await say(slack, "help")
    assert "/retro oops" in await say(slack, "")
    assert "Examples" in await say(slack, "help oops")
    assert "Did you mean /retro oops?" in await say(slack, "oopz the thing")


async def test_another_channel_is_another_team(slack: SlackEmulator, bot: App) -> None:
    await say(slack, "oops the build broke", channel="C1")
    assert "I can't find #1" in await say(slack, "status #1", channel="C2")


@pytest.mark.parametrize("spec", [s for s in GRAMMAR.specs if not s.hidden], ids=lambda s: s.name)
async def test_every_subcommand_answers_in_slack(slack: SlackEmulator, bot: App, spec: object) -> None:
    """Each subcommand's help examples (or its bare name) through Slack: an answer arrives, a
    form or a message, and never the engine's "something went wrong"."""
    await say(slack, "oops the deploy skipped the migrations #deploys")
    await say(slack, "learned #1 migrations first")
    examples = [e.removeprefix("/retro ").strip() for e in spec.examples] or [spec.name]  # type: ignore[attr-defined]
    for text in examples:
        before = len(slack.replies_to("U1")) + len(slack.views)
        await slack.command(text)
        await slack.wait_for(lambda before=before: len(slack.replies_to("U1")) + len(slack.views) > before)
    everything = "\n".join(visible_text(m.blocks) for m in slack.replies_to("U1"))
    assert "Something went wrong" not in everything
