"""The command grammar: what people type, what it means, and the friendly errors."""

from __future__ import annotations

import pytest

from bot.core.commands import missteps as cmd
from bot.core.commands.base import UsageError, clean_text
from bot.core.commands.grammar import GRAMMAR, Help
from bot.core.messages import render_plain
from bot.core.model import CheckAnswer, Depth


def parse(text: str) -> object:
    return GRAMMAR.parse(text)


def test_oops_with_every_option_in_the_documented_syntax() -> None:
    command = parse("oops setback anon the ScoopIt import lost our tags goal: set up the account #onboarding")
    assert command == cmd.Oops(
        what="the ScoopIt import lost our tags",
        goal="set up the account",
        depth=Depth.SETBACK,
        tags=("onboarding",),
        anonymous=True,
    )


def test_oops_defaults_to_a_stumble_without_goal() -> None:
    assert parse("oops the deploy broke") == cmd.Oops(what="the deploy broke")


def test_misstep_is_an_alias_of_oops() -> None:
    assert parse("misstep fall the database filled up") == cmd.Oops(
        "the database filled up", depth=Depth.FALL
    )


def test_flags_may_come_in_any_order_but_only_before_the_text() -> None:
    command = parse("oops anon fall we fell back to manual deploys")
    assert command == cmd.Oops("we fell back to manual deploys", depth=Depth.FALL, anonymous=True)


def test_tags_are_lowercased_deduplicated_and_numbers_are_not_tags() -> None:
    command = parse("oops same as #12 broke #Deploys and #deploys #ci-cd")
    assert isinstance(command, cmd.Oops)
    assert command.tags == ("deploys", "ci-cd")
    assert command.what == "same as #12 broke and"


def test_oops_without_text_opens_the_form() -> None:
    assert parse("oops") == cmd.OopsForm()
    assert parse("oops   ") == cmd.OopsForm()


def test_oops_with_only_flags_says_what_to_type() -> None:
    with pytest.raises(UsageError, match="Say what happened"):
        parse("oops setback anon #deploys")


def test_learned_with_number_and_commitment() -> None:
    assert parse("learned #3 staging is not prod next time: test on a copy") == cmd.Learned(
        lesson="staging is not prod", commitment="test on a copy", number=3
    )


def test_learned_without_number_goes_to_the_latest() -> None:
    assert parse("learned always ask first") == cmd.Learned(lesson="always ask first")


def test_learned_without_a_lesson_explains_the_form() -> None:
    with pytest.raises(UsageError, match="what it taught you"):
        parse("learned next time: ask first")


def test_learned_with_only_a_number_opens_the_lesson_form() -> None:
    assert parse("learned #4") == cmd.LearnedForm(4)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status #0", "start at #1"),
        ("status #-1", "start at #1"),
        ("status #abc", "isn't a misstep number"),
        ("check #abc stuck", "isn't a misstep number"),
        ("check #4 maybe", "stuck`, `recurred` or `unsure"),
        ("check #4", "check #4 stuck"),
        ("same #4", "two missteps"),
        ("same #4 #4", "can't repeat itself"),
        ("export pdf", "`csv`, `json` or `md`"),
        ("status #1 #2", "one misstep number"),
        ("announce maybe", "announce on"),
    ],
)
def test_bad_arguments_get_a_friendly_message(text: str, message: str) -> None:
    with pytest.raises(UsageError) as error:
        parse(text)
    assert message in error.value.message


def test_a_huge_number_parses_and_is_simply_not_found_later() -> None:
    assert parse("status #999999999999") == cmd.Status(999999999999)


def test_check_answers_and_their_aliases() -> None:
    assert parse("check #4 stuck") == cmd.Check(4, CheckAnswer.STUCK)
    assert parse("check 4 again") == cmd.Check(4, CheckAnswer.RECURRED)
    assert parse("check #4 not-sure") == cmd.Check(4, CheckAnswer.UNSURE)


def test_unknown_subcommand_suggests_the_closest() -> None:
    with pytest.raises(UsageError, match=r"Did you mean `/retro oops`"):
        parse("oosp the deploy broke")


def test_empty_text_is_help() -> None:
    assert parse("") == Help()
    assert parse("   ") == Help()


def test_fifty_thousand_characters_are_refused_before_parsing() -> None:
    with pytest.raises(UsageError, match="50,001 characters"):
        parse("oops " + "x" * 49_996)


def test_a_too_long_description_says_the_limit() -> None:
    with pytest.raises(UsageError, match="under 2,000"):
        parse("oops " + "word " * 600)


def test_control_and_bidi_override_characters_are_removed_but_rtl_letters_and_emoji_stay() -> None:
    assert clean_text("a\x00b\x1b[31mc\u202ed") == "a b [31mcd"
    command = parse("oops فشل النشر 🚀👩‍💻 #deploys")
    assert isinstance(command, cmd.Oops)
    assert command.what == "فشل النشر 🚀👩‍💻"


def test_form_values_build_the_same_command_as_text() -> None:
    from_form = GRAMMAR.parse(
        "oops",
        {
            "what": "the import lost tags",
            "goal": "set up",
            "depth": "setback",
            "tags": "onboarding, Data",
            "anonymous": "true",
        },
    )
    assert from_form == cmd.Oops(
        "the import lost tags", "set up", Depth.SETBACK, ("onboarding", "data"), True
    )


def test_lesson_form_values_carry_the_number_from_the_form_command() -> None:
    assert GRAMMAR.parse("learned #7", {"lesson": "ask first", "next_time": "ask in #ops"}) == cmd.Learned(
        "ask first", "ask in #ops", 7
    )


def test_help_lists_every_visible_command_from_the_specs() -> None:
    text = render_plain(GRAMMAR.help())
    for spec in GRAMMAR.specs:
        if not spec.hidden:
            assert spec.line in text


def test_help_for_one_command_shows_usage_and_examples() -> None:
    text = render_plain(GRAMMAR.help("oops"))
    assert "/retro oops [stumble|setback|fall] [anon]" in text
    assert "/retro oops the deploy script skipped the migrations #deploys" in text
    assert "/retro misstep" in text


def test_help_for_an_unknown_topic_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="don't know"):
        GRAMMAR.help("nonsense")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"what": "x" * 2_001}, "what"),
        ({"what": "ok", "goal": "g" * 501}, "goal"),
        ({"what": "ok", "depth": "abyss"}, "depth"),
        ({"what": "ok", "tags": " ".join(f"t{i}" for i in range(11))}, "tags"),
    ],
)
def test_a_bad_form_value_names_its_input(values: dict[str, str], field: str) -> None:
    with pytest.raises(UsageError) as error:
        GRAMMAR.parse("oops", values)
    assert error.value.field == field


def test_a_bad_lesson_form_value_names_its_input() -> None:
    with pytest.raises(UsageError) as error:
        GRAMMAR.parse("learned #3", {"lesson": "fine", "next_time": "n" * 501})
    assert error.value.field == "next_time"
