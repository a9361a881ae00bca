"""The forms the bot opens (Slack and Discord modals), built from the same command grammar."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.commands.base import UsageError
from bot.core.commands.grammar import GRAMMAR
from bot.core.commands.missteps import MAX_COMMITMENT, MAX_GOAL, MAX_LESSON, MAX_WHAT, LearnedForm, OopsForm
from bot.core.messages import Form, FormInput, InputKind
from bot.core.model import Depth, Lesson, Misstep
from bot.core.text import short


def requests_form(text: str) -> bool:
    """Whether command `text` asks for a form rather than doing something (``oops`` alone,
    ``learned #4``). Pure, no database: Slack must open a modal within 3 seconds of the click or
    command, so its adapter shows a placeholder at once and fills it in when the engine answers."""
    try:
        return isinstance(GRAMMAR.parse(text), OopsForm | LearnedForm)
    except UsageError:
        return False


@dataclass(frozen=True, slots=True)
class InputError:
    input: str
    message: str


def input_error(command: str, values: Mapping[str, str]) -> InputError | None:
    """What is wrong with one input of a submitted form, before anything runs. Pure and quick, so
    an adapter can answer inside the form (Slack shows it under the input and keeps what was typed)."""
    try:
        GRAMMAR.parse(command, values)
    except UsageError as error:
        return InputError(error.field, error.message) if error.field else None
    return None


def oops_form() -> Form:
    return Form(
        title="Log a misstep",
        command="oops",
        submit_label="Log it",
        inputs=(
            FormInput(
                "what",
                "What happened?",
                InputKind.LONG_TEXT,
                required=True,
                max_length=MAX_WHAT,
                placeholder="The deploy script skipped the migrations",
            ),
            FormInput(
                "goal",
                "What were you trying to do?",
                InputKind.TEXT,
                max_length=MAX_GOAL,
                placeholder="Ship the billing fix before the demo",
            ),
            FormInput(
                "depth",
                "How deep did it go?",
                InputKind.CHOICE,
                required=True,
                choices=tuple(d.value for d in Depth),
                initial=Depth.STUMBLE.value,
            ),
            FormInput("tags", "Tags", InputKind.TEXT, max_length=200, placeholder="deploys, onboarding"),
            FormInput("anonymous", "Keep my name out of it", InputKind.FLAG),
        ),
    )


def lesson_form(misstep: Misstep, lesson: Lesson | None) -> Form:
    return Form(
        title=f"Lesson for #{misstep.number}",
        command=f"learned #{misstep.number}",
        submit_label="Save lesson",
        inputs=(
            FormInput(
                "lesson",
                f"What did “{short(misstep.what, 60)}” teach you?",
                InputKind.LONG_TEXT,
                required=True,
                max_length=MAX_LESSON,
                initial=lesson.text if lesson else None,
            ),
            FormInput(
                "next_time",
                "Next time we will ...",
                InputKind.TEXT,
                max_length=MAX_COMMITMENT,
                initial=lesson.commitment if lesson else None,
            ),
        ),
    )
