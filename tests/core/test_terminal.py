"""The terminal chat's translation: typed lines in, plain text out, completion."""

from __future__ import annotations

from pathlib import Path

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from adapters.terminal import RetroCompleter, command_text, form_hint, render_reply
from bot.core.forms import lesson_form, oops_form
from bot.core.messages import Attachment, Message, Paragraph, Reply


def completions(completer: RetroCompleter, text: str) -> list[str]:
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]


def test_the_leading_retro_is_optional() -> None:
    assert command_text("/retro oops x") == "oops x"
    assert command_text("retro oops x") == "oops x"
    assert command_text("  oops x ") == "oops x"
    assert command_text("retrospective") == "retrospective"


def test_a_form_becomes_the_line_to_type() -> None:
    assert form_hint(oops_form()).startswith("Log a misstep: type /retro oops [stumble|setback|fall]")


def test_the_lesson_form_hint_keeps_the_misstep_number(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from bot.core.model import Depth, LessonPromptState, Misstep, Outcome

    misstep = Misstep(
        id=1,
        team_id=1,
        number=4,
        what="x",
        goal=None,
        depth=Depth.STUMBLE,
        tags=(),
        anonymous=False,
        author_id=1,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        prompt_state=LessonPromptState.WAITING,
        outcome=Outcome.OPEN,
        outcome_at=None,
    )
    hint = form_hint(lesson_form(misstep, None))
    assert hint.endswith("type /retro learned #4 <lesson> [next time: <commitment>]")


def test_attachments_are_written_and_their_path_printed(tmp_path: Path) -> None:
    reply = Reply(
        private=(
            Message(
                blocks=(Paragraph(("Here it is.",)),),
                attachments=(Attachment("history.md", b"# hi", "text/markdown"),),
            ),
        )
    )
    text = render_reply(reply, tmp_path)
    assert (tmp_path / "history.md").read_bytes() == b"# hi"
    assert f"Saved to {tmp_path / 'history.md'}" in text


def test_completion_offers_subcommands_then_their_words_and_misstep_numbers() -> None:
    completer = RetroCompleter()
    completer.numbers = [(4, "the deploy broke"), (12, "the import lost tags")]
    assert "oops" in completions(completer, "oo")
    assert completions(completer, "/retro che") == ["check"]
    assert completions(completer, "check #1") == ["#12"]
    assert set(completions(completer, "check #4 s")) == {"stuck"}
    assert "setback" in completions(completer, "oops se")
