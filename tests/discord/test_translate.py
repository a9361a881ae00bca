"""The pure translation between the core's neutral shapes and Discord's, on its own."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.discord.translate import (
    BUTTON_ID,
    CONTENT_LIMIT,
    EMBED_TOTAL_LIMIT,
    FORM_ID,
    Part,
    button_id,
    form_values,
    literal,
    misstep_choices,
    modal,
    parse_custom_id,
    reference,
    render,
    timezone_choices,
)
from bot.core.forms import lesson_form, oops_form
from bot.core.messages import (
    Bullets,
    Button,
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
from bot.core.model import Depth, LessonPromptState, Misstep, Outcome

GUILD = "1100000000000000001"


def _visible(markdown: str) -> str:
    """What Discord shows for escaped text: the backslashes and zero-width spaces disappear."""
    return re.sub(r"\\([^0-9A-Za-z\s])", r"\1", markdown).replace("\u200b", "")


@pytest.mark.parametrize(
    "typed",
    [
        "@everyone and @here",
        "<@123456789012345678> <@!123456789012345678> <@&123456789012345678>",
        "**bold** _it_ ~~gone~~ ||spoiler|| `code` \\ backslash",
        "[click me](https://evil.example/login)",
        "# heading",
        "> quoted",
        "- listed",
        "12. numbered",
        "-# subtext",
        "<t:1700000000:R> <:emoji:123> <#123>",
    ],
)
def test_literal_text_can_neither_format_nor_ping_and_reads_as_typed(typed: str) -> None:
    escaped = literal(typed)
    assert _visible(escaped) == typed
    assert not re.search(r"@(everyone|here)", escaped)
    assert not re.search(r"(?<!\\)<[@#:t]", escaped)
    assert not re.search(r"(?<!\\)[*_~|`\[]", escaped)
    assert not re.match(r"[#>\-]|\d+\.", escaped)


def test_links_stay_clickable() -> None:
    assert literal("see https://ci.example/build_12?a=b_c.") == "see https://ci.example/build_12?a=b_c."


def test_styles_keep_their_spaces_outside_the_markers() -> None:
    (part,) = render(
        Message(blocks=(Paragraph(("a", italic(" next time: "), "b ", bold("#4"), code("x`y"))),)), GUILD
    )
    assert part.content == "a *next time:* b **\\#4**`xˋy`"


def test_only_the_bots_own_mentions_ping() -> None:
    message = Message(blocks=(Paragraph((mention("42"), " look: <@43> @everyone")),))
    (part,) = render(message, GUILD)
    assert part.mentions == (42,)
    assert part.content is not None
    assert part.content.startswith("<@42> ")


def test_a_mention_in_an_embed_message_goes_in_the_content_to_ping() -> None:
    message = Message(title="Round", blocks=(Paragraph((mention("42"), " is up")),))
    (part,) = render(message, GUILD)
    assert part.content == "<@42>"
    assert part.mentions == (42,)
    assert part.embeds[0].title == "Round"


def test_long_plain_messages_split_within_2000_characters_at_line_breaks() -> None:
    items = tuple((f"item {i:03} " + "words " * 20,) for i in range(300))
    parts = render(Message(blocks=(Bullets(items),)), GUILD)
    assert len(parts) > 1
    assert all(p.content is not None and len(p.content) <= CONTENT_LIMIT for p in parts)
    lines = [line for p in parts for line in (p.content or "").split("\n")]
    assert len(lines) == 300
    assert all(line.startswith("- item") for line in lines)


def _contents(text: str) -> list[str]:
    return [part.content or "" for part in render(Message(blocks=(Paragraph((text,)),)), GUILD)]


def test_a_single_huge_line_is_cut_at_spaces_else_anywhere() -> None:
    pieces = _contents("word " * 1000)
    assert all(len(p) <= CONTENT_LIMIT for p in pieces)
    assert " ".join(pieces).split() == ["word"] * 1000
    assert _contents("x" * 4500) == ["x" * 2000, "x" * 2000, "x" * 500]


def test_a_cut_quote_stays_a_quote_and_a_cut_styled_span_keeps_its_markers() -> None:
    quoted = render(Message(blocks=(Quote(("said " * 500,)),)), GUILD)
    assert [p.content[:7] for p in quoted if p.content] == ["> said ", "> said "]
    (first, second) = _contents_of(Paragraph(("a ", bold("loud " * 500))))
    assert re.fullmatch(r"a \*\*(loud )*loud\*\*", first)
    assert re.fullmatch(r"\*\*(loud )*loud\*\* ", second)


def _contents_of(*blocks: Paragraph | Quote | Bullets) -> list[str]:
    return [part.content or "" for part in render(Message(blocks=blocks), GUILD)]


def test_embeds_stay_within_every_discord_limit() -> None:
    fields = tuple(Field(f"field {i}", ("value " * 150,), inline=i % 2 == 0) for i in range(70))
    message = Message(
        title="A very full story " * 20,
        blocks=(Paragraph(("intro " * 1500,)), Fields(fields), Paragraph(("outro",))),
        buttons=(Button("Do it", "status #1"),),
        footer="footer",
    )
    parts = render(message, GUILD)
    embeds = [e for p in parts for e in p.embeds]
    assert len(parts) > 1
    for part in parts:
        assert 1 <= len(part.embeds) <= 10
        assert sum(len(e) for e in part.embeds) <= EMBED_TOTAL_LIMIT
    for embed in embeds:
        assert len(embed.title or "") <= 256
        assert len(embed.description or "") <= 4096
        assert len(embed.fields) <= 25
        assert all(len(f.name or "") <= 256 and 1 <= len(f.value or "") <= 1024 for f in embed.fields)
    assert sum(1 for e in embeds for f in e.fields if f.name and f.name.startswith("field")) == 70
    assert embeds[-1].description == "outro"
    assert embeds[-1].footer.text == "footer"
    assert parts[-1].buttons
    assert not any(p.buttons for p in parts[:-1])


def test_buttons_carry_the_guild_and_the_command_in_their_custom_id() -> None:
    message = Message(blocks=(Paragraph(("?",)),), buttons=(Button("It stuck", "check #4 stuck"),))
    (part,) = render(message, GUILD)
    (button,) = part.buttons
    assert parse_custom_id(BUTTON_ID, button.custom_id) == (GUILD, "check #4 stuck")
    assert parse_custom_id(FORM_ID, button.custom_id) is None
    with pytest.raises(ValueError, match="too long"):
        button_id(GUILD, "lessons " + "x" * 100)


async def test_forms_become_modals_within_discords_limits() -> None:
    view = modal(oops_form(), GUILD)
    data = view.to_dict()
    assert parse_custom_id(FORM_ID, data["custom_id"]) == (GUILD, "oops")
    kinds = [(c["label"], c["component"]["type"]) for c in data["components"]]
    assert [k for _, k in kinds] == [4, 4, 3, 4, 23]
    depth = data["components"][2]["component"]
    assert [o["value"] for o in depth["options"]] == ["stumble", "setback", "fall"]
    assert [o.get("default", False) for o in depth["options"]] == [True, False, False]

    misstep = Misstep(
        id=1,
        team_id=1,
        number=7,
        what="the nightly import silently dropped every tag we had on the old platform",
        goal=None,
        depth=Depth.STUMBLE,
        tags=(),
        anonymous=False,
        author_id=1,
        created_at=None,  # type: ignore[arg-type]
        prompt_state=LessonPromptState.WAITING,
        outcome=Outcome.OPEN,
        outcome_at=None,
    )
    lesson = modal(lesson_form(misstep, None), GUILD).to_dict()
    label = lesson["components"][0]
    assert len(label["label"]) <= 45
    assert "teach you?" in label["description"]
    assert len(label["description"]) <= 100
    assert lesson["components"][0]["component"]["max_length"] <= 4000


def test_submitted_values_by_input_name() -> None:
    components = [
        {"type": 18, "id": 1, "component": {"type": 4, "custom_id": "what", "value": "it broke"}},
        {"type": 18, "id": 2, "component": {"type": 3, "custom_id": "depth", "values": ["fall"]}},
        {"type": 18, "id": 3, "component": {"type": 3, "custom_id": "nothing", "values": []}},
        {"type": 18, "id": 4, "component": {"type": 23, "custom_id": "anonymous", "value": True}},
        {"type": 1, "components": [{"type": 4, "custom_id": "goal", "value": "ship it"}]},
    ]
    assert form_values(components) == {
        "what": "it broke",
        "depth": "fall",
        "nothing": "",
        "anonymous": "true",
        "goal": "ship it",
    }


def test_misstep_choices_match_numbers_and_words() -> None:
    choices = [(12, "the deploy broke"), (3, "the printer jammed"), (1, "deploy keys expired")]
    assert [v for _, v in misstep_choices(choices, "")] == ["12", "3", "1"]
    assert [v for _, v in misstep_choices(choices, "#1")] == ["12", "1"]
    assert [v for _, v in misstep_choices(choices, "DEPLOY")] == ["12", "1"]
    long = misstep_choices([(5, "x" * 300)], "")
    assert len(long[0][0]) == 100


def test_references_are_one_grammar_token() -> None:
    assert reference("4") == "#4"
    assert reference(" #4 ") == "#4"
    assert reference("4 stuck") == "#4_stuck"
    assert reference("") is None
    assert reference(None) is None


def test_timezone_choices() -> None:
    assert timezone_choices("berlin")[0] == "Europe/Berlin"
    assert "America/New_York" in timezone_choices("new_york")
    assert len(timezone_choices("a")) <= 25


def _unescaped_line_start(content: str) -> str | None:
    """The first line of `content` that Discord would format as a heading, quote, list item or
    subtext, if any."""
    return next((line for line in content.split("\n") if re.match(r"\s*([#>-]|\d+\.)", line)), None)


def _dangling_escape(content: str) -> bool:
    # An odd run of backslashes at the end escapes nothing here: its partner went to the next part.
    return (len(content) - len(content.rstrip("\\"))) % 2 == 1


def _assert_cut_safely(typed: str, parts: list[Part]) -> None:
    contents = [part.content or "" for part in parts]
    assert all(len(content) <= CONTENT_LIMIT for content in contents)
    assert all(_unescaped_line_start(content) is None for content in contents)
    assert not any(_dangling_escape(content) for content in contents)
    assert all("@" not in content.replace("@\u200b", "") for content in contents)
    assert all(part.mentions == () for part in parts)
    # Nothing lost or added but the whitespace at the cuts.
    shown = "".join(_visible(content) for content in contents)
    assert re.sub(r"\s", "", shown) == re.sub(r"\s", "", typed)


@pytest.mark.parametrize("typed", ["# HUGE HEADING", "> quoted", "- listed", "12. numbered", "-# small"])
def test_text_after_a_cut_inside_a_line_is_escaped_as_a_line_start(typed: str) -> None:
    text = "x" * 1999 + " " + typed
    parts = render(Message(blocks=(Paragraph((text,)),)), GUILD)
    assert len(parts) == 2
    _assert_cut_safely(text, parts)


@pytest.mark.parametrize("typed", ["*bold*", "@everyone", "<@123456789012345678>", "\\back"])
def test_a_hard_cut_never_separates_an_escape_from_what_it_escapes(typed: str) -> None:
    text = "x" * 1999 + typed
    parts = render(Message(blocks=(Paragraph((text,)),)), GUILD)
    assert len(parts) == 2
    _assert_cut_safely(text, parts)


_TOKENS = ["#", "##", ">", "-", "-#", "1.", "12.", "*", "**", "\\", "_", "`", "~", "|", "[x](y)", "@"]
_TOKENS += ["@everyone", "<@123>", "<", "w", "wörd", " ", " ", " ", "\n", "x" * 40]


@settings(max_examples=150, deadline=None)
@given(
    filler=st.integers(1_900, 2_050),
    spaced=st.booleans(),
    tokens=st.lists(st.sampled_from(_TOKENS), max_size=80),
)
def test_cutting_a_long_message_never_turns_typed_text_into_markup(
    filler: int, spaced: bool, tokens: list[str]
) -> None:
    text = ("w " * filler)[:filler] if spaced else "w" * filler
    text += "".join(tokens)
    _assert_cut_safely(text, render(Message(blocks=(Paragraph((text,)),)), GUILD))


def test_a_mention_typed_inside_a_code_span_neither_pings_nor_is_allowed_to() -> None:
    message = Message(blocks=(Paragraph(("I don't know ", code("#<@123> @everyone"), ".")),))
    (part,) = render(message, GUILD)
    assert part.mentions == ()
    assert part.content == "I don't know `#<@\u200b123> @\u200beveryone`."
