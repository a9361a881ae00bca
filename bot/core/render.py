"""Pure functions from records to neutral messages. Every word the bot says about missteps,
lessons and checks is composed here; adapters only change the shape."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.messages import (
    Block,
    Bullets,
    Button,
    ButtonStyle,
    Field,
    Fields,
    Message,
    Paragraph,
    Quote,
    Spans,
    bold,
    code,
    italic,
)
from bot.core.model import (
    Check,
    CheckAnswer,
    Lesson,
    Misstep,
    MisstepStory,
    Outcome,
    Recurrence,
    RecurrenceStatus,
    Team,
)
from bot.core.text import short

OUTCOME_LABELS = {
    Outcome.OPEN: "open",
    Outcome.LEARNING: "learning (failing = learning)",
    Outcome.FAILING: "failing (failing = failing)",
}
ANSWER_LABELS = {
    CheckAnswer.STUCK: "it stuck",
    CheckAnswer.RECURRED: "it happened again",
    CheckAnswer.UNSURE: "not sure yet",
}


def ref(number: int) -> str:
    return f"#{number}"


def local_date(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d")


def misstep_line(misstep: Misstep, width: int = 120) -> Spans:
    spans: list[str | object] = [
        bold(ref(misstep.number)),
        f" ({misstep.depth}) ",
        short(misstep.what, width),
    ]
    if misstep.tags:
        spans.append(" " + " ".join(f"#{t}" for t in misstep.tags))
    return tuple(spans)  # type: ignore[return-value]


def lesson_spans(lesson: Lesson, width: int = 200) -> Spans:
    spans: list[object] = [short(lesson.text, width)]
    if lesson.commitment:
        spans += [italic(" next time: "), short(lesson.commitment, width), f" ({lesson.owner_name})"]
    return tuple(spans)  # type: ignore[return-value]


def logged(
    misstep: Misstep,
    suggestions: Sequence[tuple[Misstep, Lesson]],
) -> Message:
    """The reply to `/retro oops`: the number, and a repeat the matcher suspects, if any."""
    blocks: list[Block] = [
        Paragraph(("Logged ", bold(ref(misstep.number)), f" ({misstep.depth}): ", short(misstep.what, 300))),
    ]
    if misstep.anonymous:
        blocks.append(Paragraph(("It's anonymous: your name won't appear anywhere it's shown.",)))
    if misstep.goal is None:
        blocks.append(
            Paragraph(
                (
                    "No goal given. What were you trying to do? A misstep without a goal is a finding "
                    "of its own.",
                )
            )
        )
    buttons: list[Button] = []
    for earlier, lesson in suggestions[:1]:
        blocks.append(
            Paragraph(("This looks like ", bold(ref(earlier.number)), ": ", short(earlier.what, 160), "."))
        )
        blocks.append(Quote(("The lesson then was: ", *lesson_spans(lesson))))
        blocks.append(Paragraph(("Same thing again?",)))
        buttons = [
            Button(
                f"Yes, same as {ref(earlier.number)}",
                f"same {ref(misstep.number)} {ref(earlier.number)}",
                ButtonStyle.PRIMARY,
            ),
            Button("No, something new", f"dismiss {ref(misstep.number)} {ref(earlier.number)}"),
        ]
    return Message(blocks=tuple(blocks), buttons=tuple(buttons))


def announcement(misstep: Misstep, author_name: str | None) -> Message:
    """The channel post for a new misstep; anonymous ones carry no trace of their author."""
    who = "Someone (anonymously)" if misstep.anonymous or author_name is None else author_name
    return Message(
        blocks=(
            Paragraph(
                (
                    f"{who} logged ",
                    bold(ref(misstep.number)),
                    f" ({misstep.depth}): ",
                    short(misstep.what, 300),
                )
            ),
            Paragraph(("Blameless by design: the question is what it teaches us.",)),
        )
    )


def lesson_saved(misstep: Misstep, lesson: Lesson, created: bool) -> Message:
    verb = "Saved the lesson for" if created else "Updated the lesson for"
    blocks: list[Block] = [
        Paragraph((f"{verb} ", bold(ref(misstep.number)), ": ", short(misstep.what, 160))),
        Quote(lesson_spans(lesson, 400)),
    ]
    if lesson.commitment is None:
        blocks.append(
            Paragraph(
                (
                    "Tip: add ",
                    code("next time: ..."),
                    " to say what you'll do differently; it makes the follow-up check meaningful.",
                ),
            )
        )
    return Message(blocks=tuple(blocks))


def check_saved(misstep: Misstep, answer: CheckAnswer, outcome: Outcome) -> Message:
    reaction = {
        CheckAnswer.STUCK: "That lesson stuck. Failing = learning.",
        CheckAnswer.RECURRED: "It happened again. That's worth a fresh lesson: "
        f"`/retro learned {ref(misstep.number)} ...` updates it.",
        CheckAnswer.UNSURE: "Fair enough; I'll ask once more later.",
    }[answer]
    blocks: list[Block] = [
        Paragraph(("Noted for ", bold(ref(misstep.number)), f": {ANSWER_LABELS[answer]}. ", reaction)),
        Paragraph(("Outcome: ", bold(OUTCOME_LABELS[outcome]))),
    ]
    return Message(blocks=tuple(blocks))


def recurrence_decided(
    misstep: Misstep, earlier: Misstep, confirmed: bool, earlier_outcome: Outcome
) -> Message:
    if confirmed:
        return Message(
            blocks=(
                Paragraph(
                    (
                        "Linked ",
                        bold(ref(misstep.number)),
                        " as a repeat of ",
                        bold(ref(earlier.number)),
                        ".",
                    ),
                ),
                Paragraph(
                    (
                        f"{ref(earlier.number)} is now ",
                        bold(OUTCOME_LABELS[earlier_outcome]),
                        ". A new lesson can still turn it around.",
                    )
                ),
            )
        )
    return Message(
        blocks=(
            Paragraph(
                (
                    "Got it: ",
                    bold(ref(misstep.number)),
                    " is something new, not a repeat of ",
                    bold(ref(earlier.number)),
                    ".",
                ),
            ),
        )
    )


def story(
    story: MisstepStory,
    author_name: str | None,
    timezone: str,
    names: dict[int, str] | None = None,
) -> Message:
    """The whole story of one misstep, for `/retro status #N`."""
    m = story.misstep
    names = names or {}
    logged_by = "anonymously" if m.anonymous else f"by {author_name or 'a former member'}"
    fields: list[Field] = [
        Field("What happened", (m.what,)),
        Field("Goal", (m.goal,) if m.goal else (italic("none given: what were we trying to do?"),)),
        Field("Depth", (m.depth.value,), inline=True),
        Field("Logged", (f"{local_date(m.created_at, timezone)} {logged_by}",), inline=True),
    ]
    if m.tags:
        fields.append(Field("Tags", (" ".join(f"#{t}" for t in m.tags),), inline=True))
    if story.lesson is not None:
        fields.append(Field("Lesson", (story.lesson.text,)))
        if story.lesson.commitment:
            fields.append(
                Field("Next time", (story.lesson.commitment, f" (owner: {story.lesson.owner_name})"))
            )
    else:
        fields.append(
            Field("Lesson", (italic("none yet"), " (", code(f"/retro learned {ref(m.number)} ..."), ")"))
        )
    if story.checks:
        fields.append(Field("Checks", ("\n".join(_check_line(c, timezone, names) for c in story.checks),)))
    if story.recurrences:
        fields.append(
            Field(
                "Repeats", ("\n".join(_recurrence_line(r, m.id, story.numbers) for r in story.recurrences),)
            )
        )
    fields.append(Field("Outcome", (bold(OUTCOME_LABELS[m.outcome]),)))
    return Message(title=f"Misstep {ref(m.number)}", blocks=(Fields(tuple(fields)),))


def _check_line(check: Check, timezone: str, names: dict[int, str]) -> str:
    who = names.get(check.answered_by) if check.answered_by is not None else None
    by = f" ({who})" if who else ""
    return f"{local_date(check.answered_at, timezone)}: {ANSWER_LABELS[check.answer]}{by}"


def _recurrence_line(r: Recurrence, misstep_id: int, numbers: dict[int, int]) -> str:
    status = {
        RecurrenceStatus.SUGGESTED: "suggested, not confirmed",
        RecurrenceStatus.CONFIRMED: "confirmed",
        RecurrenceStatus.DISMISSED: "dismissed",
    }[r.status]
    if r.misstep_id == misstep_id:
        return f"repeats {ref(numbers.get(r.earlier_id, 0))} ({status})"
    return f"repeated by {ref(numbers.get(r.misstep_id, 0))} ({status})"


def open_items(
    waiting_lesson: Sequence[Misstep], waiting_check: Sequence[Misstep], failed: Sequence[str] = ()
) -> Message:
    """The team's open items, for `/retro status` with no number."""
    blocks: list[Block] = []
    if not waiting_lesson and not waiting_check and not failed:
        blocks.append(Paragraph(("Nothing open. Log the next stumble with ", code("/retro oops ..."), ".")))
    if waiting_lesson:
        blocks.append(Paragraph((bold("Waiting for a lesson"),)))
        blocks.append(Bullets(tuple(misstep_line(m, 80) for m in waiting_lesson)))
    if waiting_check:
        blocks.append(Paragraph((bold("Lessons waiting for a check"),)))
        blocks.append(Bullets(tuple(misstep_line(m, 80) for m in waiting_check)))
    if failed:
        blocks.append(Paragraph((bold("Messages I could not deliver"),)))
        blocks.append(Bullets(tuple((line,) for line in failed)))
    return Message(title="Open items", blocks=tuple(blocks))


def lesson_line(misstep: Misstep, lesson: Lesson) -> Spans:
    """One lesson in a list: the misstep's number, the lesson, and the outcome so far."""
    return (bold(ref(misstep.number)), " ", *lesson_spans(lesson, 160), f" · {misstep.outcome.value}")


def lessons_list(pairs: Sequence[tuple[Misstep, Lesson]], words: str) -> Message:
    if not pairs:
        text = (
            f"No lessons match “{short(words, 60)}”."
            if words
            else "No lessons yet. After a misstep, `/retro learned ...` records one."
        )
        return Message(title="Lessons", blocks=(Paragraph((text,)),))
    items = tuple(lesson_line(m, lesson) for m, lesson in pairs)
    title = f"Lessons matching “{short(words, 60)}”" if words else "Latest lessons"
    return Message(title=title, blocks=(Bullets(items),))


def not_found(number: int) -> Message:
    return Message(
        blocks=(
            Paragraph(
                (
                    f"I can't find {ref(number)} in this team. ",
                    code("/retro status"),
                    " lists the open ones.",
                ),
            ),
        )
    )


def home_intro(has_teams: bool) -> Message:
    """The top of a member's home (Slack's App Home)."""
    if has_teams:
        intro = Paragraph(("Your missteps waiting for a lesson, and what your teams learned lately.",))
    else:
        intro = Paragraph(
            (
                "Nothing here yet. Log a misstep in your team's channel with ",
                code("/retro oops ..."),
                "; what it taught you shows up here.",
            )
        )
    return Message(title="Your retro", blocks=(intro,))


def home_section(team: Team, own: Sequence[Misstep], lessons: Sequence[tuple[Misstep, Lesson]]) -> Message:
    """One team in a member's home: their own missteps waiting for a lesson, each with a button to
    add it, and the team's latest lessons."""
    blocks: list[Block] = []
    if own:
        blocks.append(Paragraph((bold("Waiting for your lesson"),)))
        blocks.append(Bullets(tuple(misstep_line(m, 80) for m in own)))
    else:
        blocks.append(Paragraph(("None of your missteps here is waiting for a lesson.",)))
    if lessons:
        blocks.append(Paragraph((bold("Latest lessons"),)))
        blocks.append(Bullets(tuple(lesson_line(m, lesson) for m, lesson in lessons)))
    buttons = tuple(
        Button(f"Add the lesson for {ref(m.number)}", f"learned {ref(m.number)}", ButtonStyle.PRIMARY)
        for m in own
    )
    return Message(title=f"#{team.name.lstrip('#')}", blocks=tuple(blocks), buttons=buttons)
