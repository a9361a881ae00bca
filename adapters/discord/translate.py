"""Pure translation between the core's neutral shapes and Discord's: no network, no client.

In: modal submissions become an `Invocation`'s values, and buttons and forms carry their guild and
command in their custom ids. Out: a neutral `Message` becomes one or more `Part`s, each one Discord
message within Discord's limits, and a `Form` becomes a modal.

Everything a user typed is escaped so it can neither format nor ping: markdown characters are
backslash-escaped and every ``@`` gets a zero-width space, so ``@everyone``, ``@here``, ``<@id>``
and ``<@&id>`` typed by anyone stay plain text. The only mentions that can ping are the bot's own
`Style.MENTION` spans, and each part lists them so the sender can allow exactly those.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.core.messages import (
    Attachment,
    Bullets,
    Button,
    ButtonStyle,
    Field,
    Fields,
    Form,
    FormInput,
    InputKind,
    Message,
    Paragraph,
    Quote,
    Span,
    Style,
)
from bot.core.model import TeamRef
from bot.core.timeutil import suggest_timezones

PLATFORM = "discord"

# Discord's limits (https://discord.com/developers/docs/resources/message and .../interactions).
CONTENT_LIMIT = 2_000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4_096
EMBED_FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1_024
FOOTER_LIMIT = 2_048
EMBED_TOTAL_LIMIT = 6_000
"""Across all embeds of one message, as well as for each embed."""
EMBEDS_PER_MESSAGE = 10
CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
MODAL_TITLE_LIMIT = 45
MODAL_LABEL_LIMIT = 45
MODAL_DESCRIPTION_LIMIT = 100
TEXT_INPUT_LIMIT = 4_000
PLACEHOLDER_LIMIT = 100
SELECT_OPTIONS_LIMIT = 25
CHOICES_LIMIT = 25
CHOICE_LIMIT = 100
COMMAND_DESCRIPTION_LIMIT = 100

COLOUR = discord.Colour(0x4F8A8B)
EMPTY_FIELD = "\u200b"
"""Discord refuses empty field values; a zero-width space is the customary blank."""

_BUTTON_STYLES = {
    ButtonStyle.DEFAULT: discord.ButtonStyle.secondary,
    ButtonStyle.PRIMARY: discord.ButtonStyle.primary,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
}

# -- teams and custom ids -----------------------------------------------------------------------

BUTTON_ID = re.compile(r"retro:b:(?P<guild>[0-9]{1,20}):(?P<command>.+)", re.DOTALL)
"""A button's custom id: the guild whose team it belongs to and the command a click runs.

The guild travels in the id because clicks on prompts sent as DMs arrive without one, and the
command does because the id is all Discord gives back: nothing is kept in memory, so buttons keep
working after a restart."""
FORM_ID = re.compile(r"retro:f:(?P<guild>[0-9]{1,20}):(?P<command>.+)", re.DOTALL)
"""A modal's custom id: the guild and the command its submission runs, for the same reasons."""


def team_ref(guild_id: int | str, channel_id: int | str) -> TeamRef:
    return TeamRef(PLATFORM, str(guild_id), str(channel_id))


def button_id(guild: str, command: str) -> str:
    return _custom_id("retro:b", guild, command)


def form_id(guild: str, command: str) -> str:
    return _custom_id("retro:f", guild, command)


def _custom_id(prefix: str, guild: str, command: str) -> str:
    custom_id = f"{prefix}:{guild}:{command}"
    if len(custom_id) > CUSTOM_ID_LIMIT:
        raise ValueError(f"command {command[:30]!r} is too long for a Discord custom id")
    return custom_id


def parse_custom_id(pattern: re.Pattern[str], custom_id: str) -> tuple[str, str] | None:
    """(guild id, command) from a custom id of ours, or None."""
    match = pattern.fullmatch(custom_id)
    return (match["guild"], match["command"]) if match else None


# -- text ---------------------------------------------------------------------------------------

_URL = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")
_INLINE = re.compile(r"([\\*_~|`\[\]<])")
"""Characters that format anywhere in a line (`[` for masked links, `<` for mentions, emoji and
timestamps)."""
_LINE_START = re.compile(r"(?m)^(\s*)([#>-]|\d+(?=\.))")
"""What formats only at the start of a line: headings, quotes, list items, subtext."""
_MENTION = re.compile(r"<@(\d+)>")


def literal(text: str) -> str:
    """Text shown exactly as typed: no markdown, no mentions; links stay clickable."""
    parts = []
    last = 0
    for match in _URL.finditer(text):
        parts.append(_escape(text[last : match.start()]))
        parts.append(match.group())
        last = match.end()
    parts.append(_escape(text[last:]))
    return "".join(parts)


def heading(text: str) -> str:
    """Literal text for an embed title or field name: a line where only inline markdown applies."""
    return _neutralise(_INLINE.sub(r"\\\1", text))


def _escape(text: str) -> str:
    # A backslash before punctuation is invisible in Discord.
    return _neutralise(_LINE_START.sub(_line_start, _INLINE.sub(r"\\\1", text)))


def _line_start(match: re.Match[str]) -> str:
    # "\#" hides a heading; a list number keeps its digits and escapes its dot: "1\." (Discord only
    # hides a backslash before punctuation).
    spaces, mark = match.groups()
    return f"{spaces}{mark}\\" if mark[0].isdigit() else f"{spaces}\\{mark}"


def _neutralise(text: str) -> str:
    # A zero-width space after "@" breaks every mention form (@everyone, @here, <@id>, <@&id>) for
    # the renderer and for the server's mention parser alike.
    return text.replace("@", "@\u200b")


def _wrapped(marker: str, text: str) -> str:
    # Discord leaves "* text*" unformatted: the markers must touch the words, so the spaces go outside.
    inner = text.strip()
    if not inner:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    return f"{lead}{marker}{literal(inner)}{marker}{trail}"


def span_markdown(span: Span) -> str:
    if isinstance(span, str):
        return literal(span)
    match span.style:
        case Style.BOLD:
            return _wrapped("**", span.text)
        case Style.ITALIC:
            return _wrapped("*", span.text)
        case Style.CODE:
            # A backtick would end the code span early; the look-alike keeps the text readable.
            return f"`{span.text.replace('`', 'ˋ')}`" if span.text.strip() else span.text
        case Style.MENTION:
            return (
                f"<@{span.text}>" if span.text.isascii() and span.text.isdigit() else literal(f"@{span.text}")
            )


def spans_markdown(spans: Sequence[Span]) -> str:
    return "".join(span_markdown(span) for span in spans)


def block_markdown(block: Paragraph | Quote | Bullets) -> str:
    match block:
        case Paragraph(spans):
            return spans_markdown(spans)
        case Quote(spans):
            return "\n".join(f"> {line}" for line in spans_markdown(spans).split("\n"))
        case Bullets(items):
            return "\n".join(f"- {spans_markdown(item)}" for item in items)


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at line breaks, else at spaces."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces


def mentioned_users(content: str | None) -> tuple[int, ...]:
    """The users a rendered content pings. Literal text can't produce one (see `literal`)."""
    return tuple(dict.fromkeys(int(user) for user in _MENTION.findall(content or "")))


# -- messages -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    custom_id: str
    label: str
    style: discord.ButtonStyle


@dataclass(frozen=True, slots=True, eq=False)
class Part:
    """One Discord message, within Discord's limits."""

    content: str | None = None
    embeds: tuple[discord.Embed, ...] = ()
    buttons: tuple[ButtonSpec, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    @property
    def mentions(self) -> tuple[int, ...]:
        """The users this part means to ping: the only mentions the sender allows."""
        return mentioned_users(self.content)


def render(message: Message, guild: str) -> list[Part]:
    """A message as Discord messages. Messages with a title or fields become embeds (mentions in an
    embed never ping, so those are repeated in the content); plain ones become content, split at
    2,000 characters."""
    if message.title or any(isinstance(block, Fields) for block in message.blocks):
        parts = []
        for group in _pack(_embeds(message)):
            mentioned = mentioned_users("\n".join(_embed_text(embed) for embed in group))
            parts.append(Part(content=" ".join(f"<@{user}>" for user in mentioned) or None, embeds=group))
    else:
        text = "\n".join(block_markdown(block) for block in message.blocks)  # type: ignore[arg-type]
        if message.footer:
            text = f"{text}\n-# {literal(message.footer)}" if text else f"-# {literal(message.footer)}"
        parts = [Part(content=piece) for piece in split_text(text, CONTENT_LIMIT) if piece]
    buttons = tuple(_button(button, guild) for button in message.buttons)
    if buttons or message.attachments:
        last = parts.pop() if parts else Part()
        parts.append(Part(last.content, last.embeds, buttons, message.attachments))
    return parts


def _embed_text(embed: discord.Embed) -> str:
    return "\n".join([embed.description or "", *(field.value or "" for field in embed.fields)])


def _button(button: Button, guild: str) -> ButtonSpec:
    return ButtonSpec(
        button_id(guild, button.command),
        short(button.label, BUTTON_LABEL_LIMIT),
        _BUTTON_STYLES[button.style],
    )


class _EmbedBuilder:
    """Fills embeds in order, starting a new one whenever the next piece would not fit."""

    def __init__(self, title: str | None) -> None:
        self.done: list[discord.Embed] = []
        self.embed = discord.Embed(
            title=short(heading(title), EMBED_TITLE_LIMIT) if title else None, colour=COLOUR
        )

    def _next(self) -> None:
        self.done.append(self.embed)
        self.embed = discord.Embed(colour=COLOUR)

    def text(self, text: str) -> None:
        if self.embed.fields:
            self._next()
        for piece in split_text(text, EMBED_DESCRIPTION_LIMIT):
            description = self.embed.description
            joined = f"{description}\n{piece}" if description else piece
            if len(joined) > EMBED_DESCRIPTION_LIMIT or len(self.embed) + len(piece) + 1 > EMBED_TOTAL_LIMIT:
                self._next()
                joined = piece
            self.embed.description = joined

    def field(self, field: Field) -> None:
        name = short(heading(field.name), FIELD_NAME_LIMIT) or EMPTY_FIELD
        value = spans_markdown(field.value).strip() or EMPTY_FIELD
        for index, piece in enumerate(split_text(value, FIELD_VALUE_LIMIT)):
            label = name if index == 0 else EMPTY_FIELD
            full = len(self.embed.fields) == EMBED_FIELDS_LIMIT
            if full or len(self.embed) + len(label) + len(piece) > EMBED_TOTAL_LIMIT:
                self._next()
            self.embed.add_field(name=label, value=piece or EMPTY_FIELD, inline=field.inline)

    def finish(self, footer: str | None) -> list[discord.Embed]:
        if footer:
            text = short(footer, FOOTER_LIMIT)
            if len(self.embed) + len(text) > EMBED_TOTAL_LIMIT:
                self._next()
            self.embed.set_footer(text=text)
        self.done.append(self.embed)
        return self.done


def _embeds(message: Message) -> list[discord.Embed]:
    builder = _EmbedBuilder(message.title)
    for block in message.blocks:
        if isinstance(block, Fields):
            for field in block.fields:
                builder.field(field)
        else:
            builder.text(block_markdown(block))
    return builder.finish(message.footer)


def _pack(embeds: list[discord.Embed]) -> list[tuple[discord.Embed, ...]]:
    """Embeds grouped into messages of at most 10 embeds and 6,000 characters."""
    groups: list[tuple[discord.Embed, ...]] = []
    current: list[discord.Embed] = []
    for embed in embeds:
        if current and (
            len(current) == EMBEDS_PER_MESSAGE or sum(map(len, current)) + len(embed) > EMBED_TOTAL_LIMIT
        ):
            groups.append(tuple(current))
            current = []
        current.append(embed)
    groups.append(tuple(current))
    return groups


# -- forms --------------------------------------------------------------------------------------

_TRUE = {"true", "yes", "on", "1"}


def modal(form: Form, guild: str) -> discord.ui.Modal:
    """The form as a Discord modal: text inputs, a select for choices, a checkbox for flags.

    Needs a running event loop (discord.py views create a future), but does no I/O."""
    view = discord.ui.Modal(
        title=short(form.title, MODAL_TITLE_LIMIT), custom_id=form_id(guild, form.command)
    )
    for field in form.inputs:
        view.add_item(
            discord.ui.Label(
                text=short(field.label, MODAL_LABEL_LIMIT),
                description=short(field.label, MODAL_DESCRIPTION_LIMIT)
                if len(field.label) > MODAL_LABEL_LIMIT
                else None,
                component=_form_input(field),
            )
        )
    return view


def _form_input(field: FormInput) -> discord.ui.Item[Any]:
    match field.kind:
        case InputKind.TEXT | InputKind.LONG_TEXT:
            limit = min(field.max_length or TEXT_INPUT_LIMIT, TEXT_INPUT_LIMIT)
            return discord.ui.TextInput(
                style=discord.TextStyle.paragraph
                if field.kind is InputKind.LONG_TEXT
                else discord.TextStyle.short,
                custom_id=field.name,
                required=field.required,
                default=field.initial[:limit] if field.initial else None,
                placeholder=short(field.placeholder, PLACEHOLDER_LIMIT) if field.placeholder else None,
                max_length=limit,
            )
        case InputKind.CHOICE:
            return discord.ui.Select(
                custom_id=field.name,
                options=[
                    discord.SelectOption(
                        label=short(choice, CHOICE_LIMIT), value=choice, default=choice == field.initial
                    )
                    for choice in field.choices[:SELECT_OPTIONS_LIMIT]
                ],
                required=field.required,
                min_values=1 if field.required else 0,
                max_values=1,
            )
        case InputKind.FLAG:
            return discord.ui.Checkbox(custom_id=field.name, default=(field.initial or "").lower() in _TRUE)


def form_values(components: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """A modal submission's values by input name (the inputs' custom ids), as the core's text."""
    values: dict[str, str] = {}
    for component in components:
        if component.get("type") == discord.ComponentType.action_row.value:
            values |= form_values(component.get("components", ()))
        elif component.get("type") == discord.ComponentType.label.value:
            values |= form_values((component["component"],))
        elif "custom_id" in component:
            if "values" in component:
                value = component["values"][0] if component["values"] else ""
            elif isinstance(component.get("value"), bool):
                value = "true" if component["value"] else "false"
            else:
                value = component.get("value") or ""
            values[component["custom_id"]] = value
    return values


def form_opener(form: Form) -> Message:
    """What to send instead of a modal when the interaction was already acknowledged: Discord only
    opens a modal as the first response, so a button opens it with a fresh interaction."""
    return Message(
        blocks=(Paragraph((f"{form.title}: it's a short form.",)),),
        buttons=(Button(f"Open: {form.title}", form.command, ButtonStyle.PRIMARY),),
    )


# -- autocomplete -------------------------------------------------------------------------------


def misstep_choices(choices: Sequence[tuple[int, str]], current: str) -> list[tuple[str, str]]:
    """Autocomplete for a misstep option: (name, value) pairs matching what was typed so far,
    by number (``4``, ``#4``) or by words of what happened."""
    typed = current.strip().lstrip("#").casefold()
    picked = [
        (number, what)
        for number, what in choices
        if not typed or str(number).startswith(typed) or typed in what.casefold()
    ]
    return [
        (short(f"#{number} {what}", CHOICE_LIMIT), str(number)) for number, what in picked[:CHOICES_LIMIT]
    ]


def timezone_choices(current: str) -> list[str]:
    """IANA names matching what was typed (``berlin`` offers ``Europe/Berlin``)."""
    return [name for name in suggest_timezones(current, CHOICES_LIMIT) if len(name) <= CHOICE_LIMIT]


def reference(value: str | None) -> str | None:
    """A misstep option as one grammar token: ``4`` and ``#4`` become ``#4``; anything else stays a
    single token (spaces become ``_``), so the grammar can say what is wrong with it."""
    if value is None or not value.strip():
        return None
    token = "_".join(value.split())
    return token if token.startswith("#") else f"#{token}"


def command_line(*words: str | None) -> str:
    """A command line from a subcommand and its option values, skipping the empty ones."""
    return " ".join(word.strip() for word in words if word and word.strip())


def describe(text: str) -> str:
    """A description within Discord's 100 characters for commands and options."""
    return short(text, COMMAND_DESCRIPTION_LIMIT)
