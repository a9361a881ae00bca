"""The pure translation functions, on their own: no network, no database."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.slack.sender import delivery_error
from adapters.slack.service import check_settings
from adapters.slack.translate import (
    MAX_BLOCK_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_MESSAGE_TEXT,
    MAX_VIEW_BLOCKS,
    ZWSP,
    FormContext,
    action_invocation,
    actor_from_profile,
    clicked_button,
    command_invocation,
    decode_button,
    decode_form_context,
    encode_button,
    escape_mrkdwn,
    form_values,
    form_view,
    home_view,
    slack_messages,
    text_size,
)
from bot.core.forms import lesson_form, oops_form
from bot.core.messages import (
    Bullets,
    Button,
    ButtonStyle,
    Field,
    Fields,
    Message,
    Paragraph,
    Quote,
    bold,
    code,
    italic,
    mention,
)
from bot.core.model import Depth, LessonPromptState, Misstep, Outcome, TeamRef
from bot.core.ports import Actor, Home, HomeSection, Invocation, RateLimited, Rejected, TransientError
from bot.settings import Secret, Settings, SettingsError
from tests.emulators.slack import buttons, pings, visible_text

TEAM = TeamRef("slack", "T1", "C1")


def test_mrkdwn_escaping_defuses_pings_links_and_formatting() -> None:
    escaped = escape_mrkdwn("<!channel> <@U1> <#C1> <http://x|y> & *b* _i_ ~s~ `c` @here @Everyone")
    assert "<" not in escaped
    assert ">" not in escaped
    assert "&lt;!channel&gt;" in escaped
    assert "&amp;" in escaped
    for marker in "*_~`":
        assert f"{ZWSP}{marker}{ZWSP}" in escaped
    assert f"@{ZWSP}here" in escaped
    assert f"@{ZWSP}Everyone" in escaped
    assert escaped.replace(ZWSP, "") == (
        "&lt;!channel&gt; &lt;@U1&gt; &lt;#C1&gt; &lt;http://x|y&gt; &amp; *b* _i_ ~s~ `c` @here @Everyone"
    )


def test_spans_become_rich_text_with_explicit_styles_and_mentions() -> None:
    message = Message(
        title="Misstep #1",
        blocks=(
            Paragraph(
                (
                    "Hi ",
                    mention("U1"),
                    ", ",
                    bold("#1"),
                    " ",
                    italic("maybe"),
                    " ",
                    code("/retro"),
                    " <!here>",
                )
            ),
            Quote(("a quote",)),
            Bullets((("one",), ("two",))),
        ),
        footer="Failing = learning",
    )
    [rendered] = slack_messages(message, TEAM)
    header, paragraph, quote, bullets, footer = rendered.blocks
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "Misstep #1", "emoji": False}}
    elements = paragraph["elements"][0]["elements"]
    assert {"type": "user", "user_id": "U1"} in elements
    assert {"type": "text", "text": "#1", "style": {"bold": True}} in elements
    assert {"type": "text", "text": "maybe", "style": {"italic": True}} in elements
    assert {"type": "text", "text": "/retro", "style": {"code": True}} in elements
    assert {"type": "text", "text": " <!here>"} in elements  # literal: rich text is never parsed
    assert quote["elements"][0]["type"] == "rich_text_quote"
    assert bullets["elements"][0]["style"] == "bullet"
    assert footer["type"] == "context"
    assert rendered.text == "Misstep #1"
    assert pings(rendered.text, rendered.blocks) == ["@U1"]


def test_fields_share_a_line_when_inline() -> None:
    message = Message(
        blocks=(
            Fields(
                (
                    Field("What happened", ("the build broke",)),
                    Field("Depth", ("fall",), inline=True),
                    Field("Logged", ("2026-11-23",), inline=True),
                )
            ),
        )
    )
    text = visible_text(slack_messages(message, TEAM)[0].blocks)
    assert text == "What happened\nthe build broke\n\nDepth: fall  ·  Logged: 2026-11-23"


def test_long_output_is_split_within_slacks_limits_and_loses_nothing() -> None:
    items = tuple((f"item {i:03d} ", "x" * 400) for i in range(300))
    message = Message(
        title="Lessons",
        blocks=(Paragraph(("y" * 10_000,)), Bullets(items)),
        buttons=(Button("More", "lessons more"),),
    )
    chunks = slack_messages(message, TEAM)
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk.blocks) <= MAX_MESSAGE_BLOCKS
        assert text_size(chunk.blocks) + len(chunk.text) <= MAX_MESSAGE_TEXT
        assert all(text_size(block) <= MAX_BLOCK_TEXT for block in chunk.blocks)
    everything = "".join(visible_text(c.blocks) for c in chunks)
    assert everything.count("y") == 10_000
    assert [int(part[:3]) for part in everything.split("item ")[1:]] == list(range(300))
    assert [len(buttons(c.blocks)) for c in chunks] == [0] * (len(chunks) - 1) + [1]
    assert chunks[0].blocks[0]["type"] == "header"
    assert chunks[1].text.endswith(f"(2/{len(chunks)})")


def test_a_view_keeps_within_100_blocks() -> None:
    many = Message(blocks=tuple(Paragraph((f"line {i}",)) for i in range(150)))
    view = home_view(Home(Message(title="Your retro"), (HomeSection(TEAM, many),)))
    assert len(view["blocks"]) == MAX_VIEW_BLOCKS
    assert "more than fits" in visible_text(view["blocks"][-1:])


def test_buttons_carry_their_team_and_command() -> None:
    value = encode_button(Button("It stuck", "check #4 stuck", ButtonStyle.PRIMARY), TEAM)
    decoded = decode_button(value)
    assert (decoded.workspace, decoded.channel, decoded.command, decoded.form) == (
        "T1",
        "C1",
        "check #4 stuck",
        False,
    )
    assert decode_button(encode_button(Button("Add the lesson", "learned #4"), TEAM)).form
    assert decode_button(encode_button(Button("Log", "x", opens_form=oops_form()), TEAM)).form
    with pytest.raises(ValueError, match="not a retro button"):
        decode_button("hello")
    with pytest.raises(ValueError, match="too long"):
        encode_button(Button("x", "lessons " + "w" * 3000), TEAM)


def click(value: str, user: str = "U1", team: str = "T1", ts: str = "1.0") -> dict:
    return {
        "team": {"id": team},
        "user": {"id": user},
        "container": {"type": "message", "message_ts": ts},
        "actions": [{"action_id": "retro:0", "value": value}],
    }


def test_a_click_runs_the_buttons_command_in_its_team_as_the_clicker() -> None:
    actor = Actor("U2", "Grace")

    def invocation_of(body: dict[str, Any]) -> Invocation:
        action = body["actions"][0]
        return action_invocation(body, action, clicked_button(body, action), actor)

    body = click(encode_button(Button("It stuck", "check #4 stuck"), TEAM), user="U2")
    invocation = invocation_of(body)
    assert (invocation.team, invocation.actor, invocation.text) == (TEAM, actor, "check #4 stuck")
    assert invocation_of(body).key == invocation.key  # a double click has one key
    assert invocation_of(click(body["actions"][0]["value"], ts="2.0")).key != invocation.key
    form = click(encode_button(Button("Add the lesson", "learned #4"), TEAM))
    assert invocation_of(form).key is None  # opening a form writes nothing
    with pytest.raises(ValueError, match="another workspace"):
        invocation_of(click(body["actions"][0]["value"], team="T666"))
    with pytest.raises(ValueError, match="not a retro button"):
        invocation_of(click("something else"))


def test_a_slash_command_becomes_an_invocation_keyed_by_its_trigger() -> None:
    body = {
        "team_id": "T1",
        "channel_id": "C1",
        "channel_name": "dev",
        "text": "status",
        "trigger_id": "13.45.ab",
    }
    invocation = command_invocation(body, Actor("U1", "Ada"))
    assert (invocation.team, invocation.text, invocation.key) == (TEAM, "status", "slack:command:13.45.ab")
    assert invocation.channel_name == "dev"


def test_forms_become_modals_and_their_state_comes_back_as_values() -> None:
    context = FormContext("T1", "C1", "oops", "https://hooks.slack.test/r/1")
    view = form_view(oops_form(), context)
    assert view["type"] == "modal"
    assert len(view["title"]["text"]) <= 24
    assert decode_form_context(view["private_metadata"]) == context
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"]}
    assert kinds == {
        "what": "plain_text_input",
        "goal": "plain_text_input",
        "depth": "static_select",
        "tags": "plain_text_input",
        "anonymous": "checkboxes",
    }
    state = {
        "values": {
            "what": {"what": {"type": "plain_text_input", "value": "it broke"}},
            "goal": {"goal": {"type": "plain_text_input", "value": None}},
            "depth": {"depth": {"type": "static_select", "selected_option": {"value": "fall"}}},
            "anonymous": {"anonymous": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}},
        }
    }
    assert form_values(state) == {"what": "it broke", "goal": "", "depth": "fall", "anonymous": "true"}


def test_a_long_title_is_clipped_to_slacks_24_characters() -> None:
    when = datetime(2026, 11, 23, tzinfo=UTC)
    misstep = Misstep(
        1,
        1,
        123456789,
        "x",
        None,
        Depth.FALL,
        (),
        False,
        1,
        when,
        LessonPromptState.WAITING,
        Outcome.OPEN,
        None,
    )
    view = form_view(lesson_form(misstep, None), FormContext("T1", "C1", "learned #123456789"))
    assert len(view["title"]["text"]) <= 24
    assert json.loads(view["private_metadata"])["x"] == "learned #123456789"


def test_the_person_comes_from_their_profile() -> None:
    user = {"name": "ada", "real_name": "Ada L", "tz": "Europe/Berlin", "profile": {"display_name": "Ada"}}
    assert actor_from_profile(user, "U1", "ada") == Actor("U1", "Ada", "Europe/Berlin")
    assert actor_from_profile({"name": "ada", "profile": {}}, "U1", "x") == Actor("U1", "ada", None)
    assert actor_from_profile(None, "U1", "ada") == Actor("U1", "ada", None)


def test_web_api_failures_map_to_delivery_errors() -> None:
    limited = delivery_error(429, {"Retry-After": "30"}, "ratelimited")
    assert isinstance(limited, RateLimited)
    assert limited.retry_after == 30
    assert isinstance(delivery_error(502, {}, "HTTP 502"), TransientError)
    assert isinstance(delivery_error(200, {}, "service_unavailable"), TransientError)
    rejected = delivery_error(200, {}, "channel_not_found")
    assert isinstance(rejected, Rejected)
    assert rejected.reason == "channel_not_found"


def test_slack_settings_that_cannot_work_stop_start_up_with_one_line() -> None:
    base = Settings(database_url="sqlite+aiosqlite:///x.db")
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
        check_settings(replace(base, slack_app_token=Secret("xapp-1")))
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        check_settings(replace(base, slack_bot_token=Secret("xoxb-1")))
    check_settings(replace(base, slack_bot_token=Secret("xoxb-1"), slack_app_token=Secret("xapp-1")))
    check_settings(
        replace(
            base,
            slack_client_id="1.2",
            slack_client_secret=Secret("s"),
            slack_signing_secret=Secret("s"),
        )
    )
