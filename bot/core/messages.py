"""The neutral message model: what the core says, before any adapter turns it into platform shapes.

Text is built from spans. A plain `str` span is *literal* text: adapters escape it for their
platform, so nothing a user typed can ever become markup or a ping. Styling and the few mentions
the bot means are explicit `Styled` spans. Buttons and forms carry command text in the same
grammar a person types, so a click runs through the one parser (see `bot.core.commands`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.core.model import TeamRef


class Style(StrEnum):
    BOLD = "bold"
    ITALIC = "italic"
    CODE = "code"
    MENTION = "mention"
    """`text` is the platform user id the bot means to ping (only ever a recipient of a prompt)."""


@dataclass(frozen=True, slots=True)
class Styled:
    text: str
    style: Style


Span = str | Styled
Spans = tuple[Span, ...]


def bold(text: str) -> Styled:
    return Styled(text, Style.BOLD)


def italic(text: str) -> Styled:
    return Styled(text, Style.ITALIC)


def code(text: str) -> Styled:
    return Styled(text, Style.CODE)


def mention(user_id: str) -> Styled:
    return Styled(user_id, Style.MENTION)


@dataclass(frozen=True, slots=True)
class Paragraph:
    spans: Spans


@dataclass(frozen=True, slots=True)
class Quote:
    spans: Spans


@dataclass(frozen=True, slots=True)
class Bullets:
    items: tuple[Spans, ...]


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    value: Spans
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Fields:
    fields: tuple[Field, ...]


Block = Paragraph | Quote | Bullets | Fields


class ButtonStyle(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Button:
    """A button whose click runs `command` (e.g. ``"check #4 stuck"``) as the clicking member.

    A button with `opens_form` set asks the adapter to open that form instead of running a
    command; the form's own `command` runs on submit.
    """

    label: str
    command: str
    style: ButtonStyle = ButtonStyle.DEFAULT
    opens_form: Form | None = None


class InputKind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    FLAG = "flag"


@dataclass(frozen=True, slots=True)
class FormInput:
    name: str
    label: str
    kind: InputKind = InputKind.TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    initial: str | None = None
    placeholder: str | None = None
    max_length: int | None = None

    @property
    def checked(self) -> bool:
        """Whether a `InputKind.FLAG` input (a checkbox) starts checked: its initial value says yes."""
        return (self.initial or "").lower() in {"true", "yes", "on", "1"}


@dataclass(frozen=True, slots=True)
class Form:
    """A form (Slack modal, Discord modal). On submit the adapter calls `Engine.submit_form`
    with `command` and the values by input name."""

    title: str
    command: str
    inputs: tuple[FormInput, ...]
    submit_label: str = "Save"


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True, slots=True)
class Message:
    title: str | None = None
    blocks: tuple[Block, ...] = ()
    buttons: tuple[Button, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    footer: str | None = None

    @property
    def summary(self) -> str:
        """One line for notifications and platform fallbacks."""
        if self.title:
            return self.title
        for block in self.blocks:
            if isinstance(block, Paragraph | Quote):
                return spans_text(block.spans)
        return ""


def span_text(span: Span) -> str:
    """A span's characters, whatever its style."""
    return span if isinstance(span, str) else span.text


def with_text(span: Span, text: str) -> Span:
    """`text` in `span`'s style: a piece of a span cut in two keeps its style."""
    return text if isinstance(span, str) else Styled(text, span.style)


def spans_text(spans: Iterable[Span]) -> str:
    """The spans as plain text, mentions written `@id`."""
    parts = []
    for span in spans:
        if isinstance(span, str):
            parts.append(span)
        elif span.style is Style.MENTION:
            parts.append(f"@{span.text}")
        else:
            parts.append(span.text)
    return "".join(parts)


def render_plain(message: Message) -> str:
    """Plain text with light decoration: the terminal's rendering and the fake adapter's."""
    lines: list[str] = []
    if message.title:
        lines.append(message.title)
    for block in message.blocks:
        match block:
            case Paragraph(spans):
                lines.append(spans_text(spans))
            case Quote(spans):
                lines.extend(f"> {line}" for line in spans_text(spans).splitlines() or [""])
            case Bullets(items):
                lines.extend(f"  • {spans_text(item)}" for item in items)
            case Fields(fields):
                lines.extend(f"{f.name}: {spans_text(f.value)}" for f in fields)
    if message.buttons:
        lines.append("   ".join(f"[{b.label}: /retro {b.command}]" for b in message.buttons))
    if message.footer:
        lines.append(message.footer)
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Reply:
    """The engine's answer to one invocation.

    `private` goes to the caller only (ephemeral on Slack and Discord); `announcements` go to the
    team's channel; `form` asks the adapter to open a form instead (Slack and Discord modals; the
    terminal prints the command to type).
    """

    private: tuple[Message, ...] = ()
    announcements: tuple[Message, ...] = ()
    form: Form | None = None
    team: TeamRef | None = None
    """The team the invocation ran in, as the command left it (`/retro setup` moves it): its
    channel is where `announcements` go. None when nothing ran."""


def say(*blocks: Block, title: str | None = None, buttons: tuple[Button, ...] = ()) -> Reply:
    """A private reply with one message."""
    return Reply(private=(Message(title=title, blocks=blocks, buttons=buttons),))


def paragraph(*spans: Span) -> Paragraph:
    return Paragraph(tuple(spans))
