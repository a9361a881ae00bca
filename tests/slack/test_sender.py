"""`SlackSender`, the outbound side the scheduler delivers through, against the emulator.

Slack drops no repeats, so what matters is which failures may be retried: only those that left
nothing visible behind. Anything after a part was posted, or a post whose answer was lost, is
`Uncertain`."""

from __future__ import annotations

import socket

import pytest

from adapters.slack import SlackSender
from adapters.slack.translate import MAX_MESSAGE_BLOCKS
from bot.core.messages import Attachment, Button, Message, mention, paragraph
from bot.core.model import TeamRef
from bot.core.ports import Destination, Outgoing, RateLimited, Rejected, TransientError, Uncertain
from tests.emulators.slack import SlackEmulator, button, dm_channel, pings, visible_text

pytestmark = pytest.mark.wire

TEAM = TeamRef("slack", "T0001", "C1")


def sender_for(slack: SlackEmulator) -> SlackSender:
    async def token_for(workspace: str) -> str | None:
        return slack.bot_token if workspace == slack.team_id else None

    return SlackSender(token_for, slack.api_url)


def prompt(text: str = "What did #4 teach you?") -> Message:
    return Message(
        blocks=(paragraph("Hi ", mention("U1"), ". ", text),),
        buttons=(Button("Add the lesson", "learned #4"), Button("It stuck", "check #4 stuck")),
    )


async def test_a_dm_opens_the_conversation_then_posts(slack: SlackEmulator) -> None:
    await sender_for(slack).send(Outgoing(Destination(TEAM, "U1"), prompt(), key="item-1:0"))
    assert [c.method for c in slack.calls] == ["conversations.open", "chat.postMessage"]
    posted = slack.channel_posts(dm_channel("U1"))[0]
    assert "What did #4 teach you?" in visible_text(posted.blocks)
    # The one ping is the recipient the bot means; the buttons carry the team for the click.
    assert pings(posted.text, posted.blocks) == ["@U1", "@U1"]  # in the notification and the message
    assert '"c":"C1"' in button(posted.blocks, "It stuck")["value"]


DIGEST = Message(
    title="Weekly digest",
    blocks=(paragraph("2 lessons stuck."),),
    attachments=(Attachment("trend.png", b"\x89PNG fake", "image/png"),),
)


def long_message() -> Message:
    """A message Slack takes in two posts (more blocks than one may hold)."""
    return Message(blocks=tuple(paragraph(f"line {i}") for i in range(MAX_MESSAGE_BLOCKS + 5)))


async def test_a_channel_post_goes_to_the_teams_channel_with_its_files(slack: SlackEmulator) -> None:
    await sender_for(slack).send(Outgoing(Destination(TEAM), DIGEST, key="digest:1"))
    assert slack.channel_posts("C1")[0].text == "Weekly digest"
    upload = next(iter(slack.uploads.values()))
    assert (upload.channel, upload.filename, upload.content) == ("C1", "trend.png", b"\x89PNG fake")
    # The file is uploaded before anything shows, and shared last.
    assert [c.method for c in slack.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "chat.postMessage",
        "files.completeUploadExternal",
    ]


async def test_a_rate_limit_says_how_long_to_wait(slack: SlackEmulator) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(RateLimited) as raised:
        await sender_for(slack).send(Outgoing(Destination(TEAM), prompt(), key="k"))
    assert raised.value.retry_after == 7
    assert len(slack.calls) == 1  # no retry of its own: waiting is the delivery layer's call


@pytest.mark.parametrize(
    ("failure", "expected", "reason"),
    [
        # Slack may have posted it before failing, or the answer never came back.
        ({"status": 503}, Uncertain, "HTTP 503"),
        ({"error": "internal_error"}, Uncertain, "internal_error"),
        ({"lost": True}, Uncertain, "ServerDisconnectedError"),
        # A clear refusal: nothing was posted.
        ({"error": "channel_not_found"}, Rejected, "channel_not_found"),
        ({"error": "not_in_channel"}, Rejected, "not_in_channel"),
        ({"error": "account_inactive"}, Rejected, "account_inactive"),
        ({"error": "token_revoked"}, Rejected, "token_revoked"),
    ],
)
async def test_failures_map_to_what_the_delivery_layer_does_next(
    slack: SlackEmulator, failure: dict, expected: type, reason: str
) -> None:
    slack.fail("chat.postMessage", **failure)
    with pytest.raises(expected, match=reason):
        await sender_for(slack).send(Outgoing(Destination(TEAM), prompt(), key="k"))


async def test_a_post_whose_answer_was_lost_is_not_repeated(slack: SlackEmulator) -> None:
    slack.fail("chat.postMessage", lost=True)
    with pytest.raises(Uncertain, match="may have been posted"):
        await sender_for(slack).send(Outgoing(Destination(TEAM), prompt(), key="k"))
    assert len(slack.channel_posts("C1")) == 1  # Slack posted it; the sender tried once


@pytest.mark.parametrize(
    ("failure", "expected"),
    [({"status": 503}, TransientError), ({"lost": True}, TransientError), ({"status": 429}, RateLimited)],
)
async def test_failures_before_anything_is_posted_may_be_retried(
    slack: SlackEmulator, failure: dict, expected: type
) -> None:
    # Opening the DM and uploading a file show nothing: retrying them cannot post twice.
    slack.fail("conversations.open", **failure)
    with pytest.raises(expected):
        await sender_for(slack).send(Outgoing(Destination(TEAM, "U1"), prompt(), key="k"))
    slack.fail("files.getUploadURLExternal", **failure)
    with pytest.raises(expected):
        await sender_for(slack).send(Outgoing(Destination(TEAM), DIGEST, key="k"))
    assert slack.messages == []


async def test_a_rate_limit_on_the_chart_leaves_nothing_posted_to_repeat(slack: SlackEmulator) -> None:
    slack.fail("files.getUploadURLExternal", status=429, retry_after=30)
    with pytest.raises(RateLimited):
        await sender_for(slack).send(Outgoing(Destination(TEAM), DIGEST, key="digest:1"))
    await sender_for(slack).send(Outgoing(Destination(TEAM), DIGEST, key="digest:1"))  # after the wait
    [digest] = slack.channel_posts("C1")
    assert digest.text == "Weekly digest"
    assert [(u.channel, u.filename) for u in slack.uploads.values()] == [("C1", "trend.png")]


async def test_a_failure_after_the_message_went_out_is_uncertain(slack: SlackEmulator) -> None:
    slack.fail("files.completeUploadExternal", status=429, retry_after=30)
    with pytest.raises(Uncertain, match="after 1 of 2 parts were posted"):
        await sender_for(slack).send(Outgoing(Destination(TEAM), DIGEST, key="digest:1"))
    assert len(slack.channel_posts("C1")) == 1


async def test_a_long_message_cut_short_by_a_rate_limit_is_uncertain(slack: SlackEmulator) -> None:
    # The first part goes out, the second meets a 429: resending would repeat the first.
    slack.fail("chat.postMessage", status=429, retry_after=5, after=1)
    with pytest.raises(Uncertain, match="ratelimited after 1 of 2 parts were posted"):
        await sender_for(slack).send(Outgoing(Destination(TEAM), long_message(), key="k"))
    assert len(slack.channel_posts("C1")) == 1


async def test_an_archived_channel_is_rejected_for_good(slack: SlackEmulator) -> None:
    slack.archived_channels.add("C1")
    with pytest.raises(Rejected, match="is_archived"):
        await sender_for(slack).send(Outgoing(Destination(TEAM), prompt(), key="k"))


async def test_a_person_who_left_is_rejected_for_good(slack: SlackEmulator) -> None:
    slack.gone_users.add("U1")
    with pytest.raises(Rejected, match="user_not_found"):
        await sender_for(slack).send(Outgoing(Destination(TEAM, "U1"), prompt(), key="k"))


async def test_a_workspace_without_the_app_is_rejected(slack: SlackEmulator) -> None:
    with pytest.raises(Rejected, match="app_not_installed"):
        await sender_for(slack).send(Outgoing(Destination(TeamRef("slack", "T9", "C1")), prompt(), key="k"))


async def test_a_refused_connection_is_transient() -> None:
    async def token_for(workspace: str) -> str | None:
        return "xoxb-any"

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    sender = SlackSender(token_for, f"http://127.0.0.1:{port}/api/")  # nothing listens there any more
    with pytest.raises(TransientError, match="network"):
        await sender.send(Outgoing(Destination(TEAM), prompt(), key="k"))
