"""What the bot says on its own schedule: lesson prompts, the reminder, follow-up checks, the retro
round invitation, and the notes that tell a person when the bot will come back.

Pure functions from records to neutral messages. Blameless by design: prompts ask what a misstep
taught, never who caused it; deeper missteps get a gentler tone; an anonymous author is never
named (and nothing here ever names an author at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.forms import lesson_form, oops_form
from bot.core.messages import Block, Button, ButtonStyle, Message, Paragraph, Quote, bold, code
from bot.core.model import Depth, ItemKind, ItemStatus, Lesson, Misstep, ScheduledItem
from bot.core.render import lesson_spans, ref
from bot.core.text import short

_OPENINGS = {
    Depth.STUMBLE: (
        "A quick one about ",
        "What did it teach you, and what will you do differently next time?",
    ),
    Depth.SETBACK: (
        "Now that it has had a night to settle: ",
        "What did it teach you? One or two lines is plenty.",
    ),
    Depth.FALL: (
        "No rush, and no blame, about ",
        "That was a hard one, and it's fine that it happened. When you're ready: what did it teach "
        "you? Even one line helps the team, and you can come back to it later.",
    ),
}


def lesson_prompt(misstep: Misstep, reminder: bool = False) -> Message:
    """The private message asking a misstep's author what it taught them (or the one reminder)."""
    number = ref(misstep.number)
    opening, question = _OPENINGS[misstep.depth]
    if reminder:
        opening = "One gentle nudge about " if misstep.depth is Depth.FALL else "One last nudge about "
    blocks: list[Block] = [
        Paragraph((opening, bold(number), f" ({misstep.depth}):")),
        Quote((short(misstep.what, 300),)),
        Paragraph((question,)),
    ]
    if misstep.anonymous:
        blocks.append(Paragraph(("You logged it anonymously: only you see this message.",)))
    if reminder:
        blocks.append(
            Paragraph(("This is the only reminder; after it I won't ask about ", number, " again."))
        )
    blocks.append(_typed(f"/retro learned {number} <lesson> next time: <what you'll do>", pausing=True))
    return Message(
        title=f"What did {number} teach you?",
        blocks=tuple(blocks),
        buttons=(
            Button(
                "Add the lesson",
                f"learned {number}",
                ButtonStyle.PRIMARY,
                opens_form=lesson_form(misstep, None),
            ),
        ),
    )


def check_prompt(misstep: Misstep, lesson: Lesson, again: bool = False) -> Message:
    """The follow-up check to the lesson's owner: did it stick?"""
    number = ref(misstep.number)
    lead = "As promised, asking once more about " if again else "A while ago "
    tail = ":" if again else " taught:"
    return Message(
        title=f"Did the lesson from {number} stick?",
        blocks=(
            Paragraph((lead, bold(number), f" ({short(misstep.what, 120)}){tail}")),
            Quote(lesson_spans(lesson, 300)),
            Paragraph(("Has it happened again since?",)),
            _typed(f"/retro check {number} stuck|recurred|unsure"),
        ),
        buttons=(
            Button("It stuck", f"check {number} stuck", ButtonStyle.PRIMARY),
            Button("It happened again", f"check {number} recurred"),
            Button("Not sure yet", f"check {number} unsure"),
        ),
    )


def bundle(messages: Sequence[Message]) -> Message:
    """Several prompts for one member as one message (the no-nagging cap)."""
    if len(messages) == 1:
        return messages[0]
    blocks: list[Block] = [Paragraph((f"{len(messages)} things from your retro, in one message:",))]
    for message in messages:
        if message.title:
            blocks.append(Paragraph((bold(message.title),)))
        blocks.extend(message.blocks)
    return Message(
        title="A few things from retro",
        blocks=tuple(blocks),
        buttons=tuple(button for message in messages for button in message.buttons),
    )


def round_invitation(summary_at: datetime, timezone: str, now: datetime) -> Message:
    """The weekly retro round's channel post."""
    return Message(
        title="Retro round",
        blocks=(
            Paragraph(("What tripped us up this week, and what did it teach us?",)),
            Paragraph(
                (
                    "Log it with ",
                    code("/retro oops ..."),
                    " (add ",
                    code("anon"),
                    " to keep your name out of it). Blameless by design: the question is what it "
                    "teaches us, never who.",
                )
            ),
            Paragraph((f"I'll post what came in {when(summary_at, now, timezone)}.",)),
        ),
        buttons=(Button("Log a misstep", "oops", ButtonStyle.PRIMARY, opens_form=oops_form()),),
    )


def _typed(command: str, pausing: bool = False) -> Paragraph:
    spans: list[object] = ["Or type ", code(command), "."]
    if pausing:
        spans += [" Not a good week? ", code("/retro pause 5d"), "."]
    return Paragraph(tuple(spans))  # type: ignore[arg-type]


# -- telling people when -------------------------------------------------------------------


def when(at: datetime, now: datetime, timezone: str) -> str:
    """``today at 13:00``, ``tomorrow at 09:00``, ``on Wednesday at 09:00``, ``on 10 Dec at 09:00``
    on the wall clock of `timezone`."""
    zone = ZoneInfo(timezone)
    local, today = at.astimezone(zone), now.astimezone(zone).date()
    clock = f"{local:%H:%M}"
    days = (local.date() - today).days
    if days <= 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    if days < 7:
        return f"on {local:%A} at {clock}"
    return f"on {local.day} {local:%b} at {clock}"


def until(at: datetime, now: datetime, timezone: str) -> str:
    """``until`` + `when`, read aloud: "until tomorrow at 09:00", "until 10 Dec at 00:00"."""
    return "until " + when(at, now, timezone).removeprefix("on ")


def your_time(at: datetime, now: datetime, timezone: str) -> str:
    return f"{when(at, now, timezone)} your time ({timezone})"


def prompt_note(at: datetime, now: datetime, timezone: str) -> str:
    return f"I'll ask you what it taught you {your_time(at, now, timezone)}."


def check_note(at: datetime, now: datetime, timezone: str, again: bool = False) -> str:
    verb = "ask once more" if again else "check in"
    return f"I'll {verb} whether it stuck {your_time(at, now, timezone)}."


def check_back_note(number: int, at: datetime, now: datetime, timezone: str) -> str:
    """The dismissal of a confirmed repeat put an earlier misstep's follow-up check back on."""
    return (
        f"The follow-up check of {ref(number)} is back on: I'll ask whether its lesson stuck "
        f"{when(at, now, timezone)} ({timezone})."
    )


def last_ask_note(closes: datetime, now: datetime, timezone: str) -> str:
    return (
        "That was my last ask. If it hasn't happened again by "
        f"{when(closes, now, timezone)} ({timezone}), the lesson counts as one that stuck."
    )


def paused_note(end: datetime, now: datetime, timezone: str, waiting: int) -> str:
    held = f" {waiting} prompt{'s' if waiting != 1 else ''} will wait until then." if waiting else ""
    return f"Paused: no messages from me {until(end, now, timezone)} your time.{held}"


_KIND_NAMES = {
    ItemKind.LESSON_PROMPT: "lesson prompt",
    ItemKind.LESSON_REMINDER: "lesson reminder",
    ItemKind.CHECK: "follow-up check",
    ItemKind.RETRO_ROUND: "retro round",
    ItemKind.ROUND_SUMMARY: "round summary",
    ItemKind.DIGEST: "weekly digest",
}


def kind_name(kind: ItemKind) -> str:
    return _KIND_NAMES.get(kind, kind.value.replace("_", " "))


def undelivered_line(item: ScheduledItem, number: int | None, timezone: str) -> str:
    """One line of `/retro status` about a message that failed or may not have arrived. Names no
    recipient: an anonymous author must not show, and nobody needs to."""
    about = f" for {ref(number)}" if number is not None else ""
    day = item.due_at.astimezone(ZoneInfo(timezone)).strftime("%a %d %b %H:%M")
    if item.status is ItemStatus.UNKNOWN:
        state = "may not have arrived (interrupted mid-send; not resent, to avoid a duplicate)"
    else:
        state = f"not delivered: {short(item.last_error or 'refused by the platform', 120)}"
    return f"{kind_name(item.kind).capitalize()}{about}, {day}: {state}"
